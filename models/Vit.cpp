//===- Vit.cpp - Vision Transformers as tfm functions ---------------------===//
//
// Mirrors transformers' ViTModel and ViTForImageClassification: the patch
// embedding (a strided convolution, flattened and transposed), the [CLS]
// token and learned positions, pre-LN blocks, the final LayerNorm, and
// either the tanh pooler on [CLS] or the classifier on [CLS].
//
// Entries, one per batch size B (1 and --batch):
//   classify_<B>  pixel_values [B, C, H, W]
//                 -> logits [B, L]                   (image-classification)
//                 -> last_hidden_state [B, 1 + N, D],
//                    pooled [B, D] with a pooler     (base)
// Images of another size than config.json's image_size are refused by the
// executable (the position table is learned for one grid).
//
//===----------------------------------------------------------------------===//

#include "models/Models.h"
#include "models/VisionCommon.h"

#include "dialect/TfmOps.h"
#include "frontend/Checkpoint.h"
#include "frontend/VisionConfig.h"
#include "models/TfmBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <nlohmann/json.hpp>

using namespace mlir;
using namespace kiln::tfm;

namespace kiln {
namespace {

const TfmBuilder::PreLnNames kVitLayerNames = {"layernorm_before",
                                               "attention.attention.query",
                                               "attention.attention.key",
                                               "attention.attention.value",
                                               "attention.attention",
                                               "attention.output.dense",
                                               "layernorm_after",
                                               "intermediate.dense",
                                               "intermediate",
                                               "output.dense"};

class VitBuilder : public TfmBuilder {
public:
  VitBuilder(const CheckpointFolder &checkpoint, const VitConfig &config,
             std::string head, MLIRContext &ctx)
      : TfmBuilder(ctx), checkpoint(checkpoint), config(config),
        head(std::move(head)) {}

  Error checkWeights();
  void buildClassify(ModuleOp module, int64_t batch);
  bool hasPooler() const { return pooler; }

private:
  std::vector<CheckpointFolder::TensorSpec> specs() const;

  const CheckpointFolder &checkpoint;
  const VitConfig &config;
  std::string head;
  bool pooler = false;
};

std::vector<CheckpointFolder::TensorSpec> VitBuilder::specs() const {
  const EncoderDims &dims = config.dims;
  int64_t d = dims.hiddenSize, inner = dims.intermediateSize;
  std::vector<CheckpointFolder::TensorSpec> specs = {
      {"embeddings.cls_token", {1, 1, d}},
      {"embeddings.position_embeddings", {1, config.numPatches() + 1, d}},
      {"embeddings.patch_embeddings.projection.weight",
       {d, config.numChannels, config.patchSize.height,
        config.patchSize.width}},
      {"embeddings.patch_embeddings.projection.bias", {d}},
      {"layernorm.weight", {d}},
      {"layernorm.bias", {d}}};
  for (int64_t l = 0; l < dims.numLayers; ++l) {
    std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char *name :
         {"attention.attention.query", "attention.attention.key",
          "attention.attention.value"}) {
      specs.push_back({p + name + ".weight", {d, d}});
      if (config.qkvBias)
        specs.push_back({p + name + ".bias", {d}});
    }
    specs.push_back({p + "attention.output.dense.weight", {d, d}});
    specs.push_back({p + "attention.output.dense.bias", {d}});
    specs.push_back({p + "intermediate.dense.weight", {inner, d}});
    specs.push_back({p + "intermediate.dense.bias", {inner}});
    specs.push_back({p + "output.dense.weight", {d, inner}});
    specs.push_back({p + "output.dense.bias", {d}});
    for (const char *norm : {"layernorm_before", "layernorm_after"}) {
      specs.push_back({p + norm + ".weight", {d}});
      specs.push_back({p + norm + ".bias", {d}});
    }
  }
  for (auto &spec : specs)
    spec.name = prefix + spec.name;
  if (head == "image-classification") {
    specs.push_back({"classifier.weight", {config.labels.count, d}});
    specs.push_back({"classifier.bias", {config.labels.count}});
  }
  return specs;
}

Error VitBuilder::checkWeights() {
  // Head checkpoints nest the encoder under "vit."; ViTModel's do not.
  prefix = checkpoint.hasTensor("vit.embeddings.cls_token") ? "vit." : "";
  if (Error error = checkpoint.checkLayerCount(
          "num_hidden_layers", config.dims.numLayers, [&](int64_t layer) {
            return prefix + "encoder.layer." + std::to_string(layer) +
                   ".attention.attention.query.weight";
          }))
    return error;
  if (Error error = checkpoint.checkTensors(specs()))
    return error;
  pooler =
      head == "base" && checkpoint.hasTensor(prefix + "pooler.dense.weight");
  if (pooler) {
    int64_t d = config.dims.hiddenSize, out = config.poolerSize;
    return checkpoint.checkTensors({{prefix + "pooler.dense.weight", {out, d}},
                                    {prefix + "pooler.dense.bias", {out}}});
  }
  return Error::success();
}

void VitBuilder::buildClassify(ModuleOp module, int64_t batch) {
  const EncoderDims &dims = config.dims;
  int64_t d = dims.hiddenSize, tokens = config.numPatches() + 1;
  int64_t labels = config.labels.count;
  SmallVector<std::pair<std::string, Type>> results;
  if (head == "image-classification") {
    results.push_back({"logits", tensor({batch, labels})});
  } else {
    results.push_back({"last_hidden_state", tensor({batch, tokens, d})});
    if (pooler)
      results.push_back({"pooled", tensor({batch, config.poolerSize})});
  }
  Type pixels = tensor({batch, config.numChannels, config.imageSize.height,
                        config.imageSize.width});
  std::string name = "classify_" + std::to_string(batch);
  Block *entry = beginVisionEntry(*this, module, name, pixels, results);

  Location loc = at("embeddings");
  Value patches = patchEmbedding(
      "embeddings.patch_embeddings.projection", entry->getArgument(0), d,
      config.patchSize.height, config.patchSize.width, /*bias=*/true);
  Value hidden =
      prependToken(loc, weight("embeddings.cls_token", {1, 1, d}), patches);
  hidden = add(loc, hidden,
               weight("embeddings.position_embeddings", {1, tokens, d}));
  for (int64_t l = 0; l < dims.numLayers; ++l)
    hidden =
        preLnBlock("encoder.layer." + std::to_string(l), kVitLayerNames, hidden,
                   dims.numHeads, dims.intermediateSize, dims.hiddenAct,
                   dims.layerNormEpsilon, config.qkvBias, Value());
  hidden = layerNorm("layernorm", hidden, dims.layerNormEpsilon);

  SmallVector<Value> outputs;
  if (head == "image-classification") {
    std::string saved = std::exchange(prefix, "");
    outputs.push_back(
        linear("classifier", takeRow(at("classifier"), hidden, 0), d, labels));
    prefix = saved;
  } else {
    outputs.push_back(hidden);
    if (pooler) {
      Location poolerLoc = at("pooler");
      outputs.push_back(
          activation(poolerLoc, config.poolerAct,
                     linear("pooler.dense", takeRow(poolerLoc, hidden, 0), d,
                            config.poolerSize)));
    }
  }
  func::ReturnOp::create(b, at(name), outputs);
}

} // namespace

Expected<BuiltModel> buildVit(const CheckpointFolder &checkpoint,
                              MLIRContext &ctx,
                              const ModelBuildOptions &options) {
  Expected<VitConfig> config =
      VitConfig::parse(checkpoint.config(), checkpoint.configPath());
  if (!config)
    return config.takeError();
  static const ClassifierFamily kVit = {"vit", "ViT", "ViTModel",
                                        "ViTForImageClassification"};
  return buildImageClassifier<VitBuilder>(
      checkpoint, ctx, options, kVit, *config,
      {config->architecture, config->numChannels, config->imageSize.height,
       config->imageSize.width, config->dims.hiddenSize, config->labels});
}

} // namespace kiln
