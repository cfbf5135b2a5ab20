//===- Clip.cpp - CLIP's two towers as tfm functions ----------------------===//
//
// Mirrors transformers' CLIPModel: the vision tower (patch embedding without
// bias, a class embedding, learned positions, a LayerNorm before the
// pre-LN blocks, the class token's LayerNorm) with its projection, and the
// causal text tower (token and position embeddings, pre-LN blocks, a final
// LayerNorm, the end-of-text token's state) with its projection.
//
// Entries, one per batch size B (1 and --batch), and per caption length S
// (--sequence-lengths, the last one the text tower's context):
//   image_embed_<B>    pixel_values [B, C, H, W]
//                      -> image_embeds [B, P] (projected, not normalized),
//                         log_scale [1] (the logit_scale weight: the log of
//                         the logits' scale)
//   text_embed_<B>_<S> input_ids [B, S], eos_positions [B]
//                      -> text_embeds [B, P] (projected, not normalized)
// The executable normalizes the embeddings and scores each image against
// each caption: exp(logit_scale) · cos(image, caption), as CLIPModel's
// logits_per_image. Causal attention lets no position see a later one, so
// the padding after a caption's end-of-text token never changes its state.
//
//===----------------------------------------------------------------------===//

#include "models/Models.h"
#include "models/VisionCommon.h"

#include "dialect/TfmOps.h"
#include "frontend/Checkpoint.h"
#include "frontend/VisionConfig.h"
#include "models/TfmBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <algorithm>
#include <nlohmann/json.hpp>

using namespace mlir;
using namespace kiln::tfm;

namespace kiln {
namespace {

const TfmBuilder::PreLnNames kClipLayerNames = {
    "layer_norm1",      "self_attn.q_proj", "self_attn.k_proj",
    "self_attn.v_proj", "self_attn",        "self_attn.out_proj",
    "layer_norm2",      "mlp.fc1",          "mlp",
    "mlp.fc2"};

void addTowerSpecs(std::vector<CheckpointFolder::TensorSpec> &specs,
                   const std::string &tower, const EncoderDims &dims) {
  int64_t d = dims.hiddenSize, inner = dims.intermediateSize;
  for (int64_t l = 0; l < dims.numLayers; ++l) {
    std::string p = tower + ".encoder.layers." + std::to_string(l) + ".";
    for (const char *name : {"self_attn.q_proj", "self_attn.k_proj",
                             "self_attn.v_proj", "self_attn.out_proj"}) {
      specs.push_back({p + name + ".weight", {d, d}});
      specs.push_back({p + name + ".bias", {d}});
    }
    specs.push_back({p + "mlp.fc1.weight", {inner, d}});
    specs.push_back({p + "mlp.fc1.bias", {inner}});
    specs.push_back({p + "mlp.fc2.weight", {d, inner}});
    specs.push_back({p + "mlp.fc2.bias", {d}});
    for (const char *norm : {"layer_norm1", "layer_norm2"}) {
      specs.push_back({p + norm + ".weight", {d}});
      specs.push_back({p + norm + ".bias", {d}});
    }
  }
}

class ClipBuilder : public TfmBuilder {
public:
  ClipBuilder(const CheckpointFolder &checkpoint, const ClipConfig &config,
              MLIRContext &ctx)
      : TfmBuilder(ctx), checkpoint(checkpoint), config(config) {}

  Error checkWeights();
  void buildImageEmbed(ModuleOp module, int64_t batch);
  void buildTextEmbed(ModuleOp module, int64_t batch, int64_t length);

private:
  Value encoder(const std::string &tower, const EncoderDims &dims, Value x,
                Value mask);

  const CheckpointFolder &checkpoint;
  const ClipConfig &config;
};

Error ClipBuilder::checkWeights() {
  const ClipTextConfig &text = config.text;
  const ClipVisionConfig &vision = config.vision;
  int64_t dt = text.dims.hiddenSize, dv = vision.dims.hiddenSize;
  int64_t p = config.projectionDim;
  for (auto [tower, layers] :
       {std::pair{"text_model", text.dims.numLayers},
        std::pair{"vision_model", vision.dims.numLayers}}) {
    std::string field = std::string(tower) == "text_model"
                            ? "text_config.num_hidden_layers"
                            : "vision_config.num_hidden_layers";
    std::string name = tower;
    if (Error error =
            checkpoint.checkLayerCount(field, layers, [&](int64_t layer) {
              return name + ".encoder.layers." + std::to_string(layer) +
                     ".self_attn.q_proj.weight";
            }))
      return error;
  }
  std::vector<CheckpointFolder::TensorSpec> specs = {
      {"text_model.embeddings.token_embedding.weight", {text.vocabSize, dt}},
      {"text_model.embeddings.position_embedding.weight",
       {text.maxPositions, dt}},
      {"text_model.final_layer_norm.weight", {dt}},
      {"text_model.final_layer_norm.bias", {dt}},
      {"vision_model.embeddings.class_embedding", {dv}},
      {"vision_model.embeddings.patch_embedding.weight",
       {dv, vision.numChannels, vision.patchSize, vision.patchSize}},
      {"vision_model.embeddings.position_embedding.weight",
       {vision.numPatches() + 1, dv}},
      {"vision_model.pre_layrnorm.weight", {dv}},
      {"vision_model.pre_layrnorm.bias", {dv}},
      {"vision_model.post_layernorm.weight", {dv}},
      {"vision_model.post_layernorm.bias", {dv}},
      {"visual_projection.weight", {p, dv}},
      {"text_projection.weight", {p, dt}},
      {"logit_scale", {}}};
  addTowerSpecs(specs, "text_model", text.dims);
  addTowerSpecs(specs, "vision_model", vision.dims);
  return checkpoint.checkTensors(specs);
}

Value ClipBuilder::encoder(const std::string &tower, const EncoderDims &dims,
                           Value x, Value mask) {
  for (int64_t l = 0; l < dims.numLayers; ++l)
    x = preLnBlock(tower + ".encoder.layers." + std::to_string(l),
                   kClipLayerNames, x, dims.numHeads, dims.intermediateSize,
                   dims.hiddenAct, dims.layerNormEpsilon, /*qkvBias=*/true,
                   mask);
  return x;
}

void ClipBuilder::buildImageEmbed(ModuleOp module, int64_t batch) {
  const ClipVisionConfig &vision = config.vision;
  int64_t d = vision.dims.hiddenSize, tokens = vision.numPatches() + 1;
  std::string name = "image_embed_" + std::to_string(batch);
  Type pixels =
      tensor({batch, vision.numChannels, vision.imageSize, vision.imageSize});
  Block *entry =
      beginVisionEntry(*this, module, name, pixels,
                       {{"image_embeds", tensor({batch, config.projectionDim})},
                        {"log_scale", tensor({1})}});

  Location loc = at("vision_model.embeddings");
  Value patches = patchEmbedding("vision_model.embeddings.patch_embedding",
                                 entry->getArgument(0), d, vision.patchSize,
                                 vision.patchSize, /*bias=*/false);
  Value hidden = prependToken(
      loc, weight("vision_model.embeddings.class_embedding", {d}), patches);
  hidden = add(loc, hidden,
               reshape(loc,
                       weight("vision_model.embeddings.position_embedding."
                              "weight",
                              {tokens, d}),
                       {1, tokens, d}));
  double epsilon = vision.dims.layerNormEpsilon;
  hidden = layerNorm("vision_model.pre_layrnorm", hidden, epsilon);
  hidden = encoder("vision_model", vision.dims, hidden, Value());
  Value pooled = layerNorm("vision_model.post_layernorm",
                           takeRow(at("vision_model"), hidden, 0), epsilon);
  Value embeds = linear("visual_projection", pooled, d, config.projectionDim,
                        /*bias=*/false);
  Location scaleLoc = at("logit_scale");
  Value scale = reshape(scaleLoc, weight("logit_scale", {}), {1});
  func::ReturnOp::create(b, at(name), ValueRange{embeds, scale});
}

void ClipBuilder::buildTextEmbed(ModuleOp module, int64_t batch,
                                 int64_t length) {
  const ClipTextConfig &text = config.text;
  int64_t d = text.dims.hiddenSize;
  std::string name =
      "text_embed_" + std::to_string(batch) + "_" + std::to_string(length);
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(
      b, at(name), name,
      b.getFunctionType({tensor({batch, length}, i64), tensor({batch}, i64)},
                        {tensor({batch, config.projectionDim})}));
  func.setArgAttr(0, "tfm.name", b.getStringAttr("input_ids"));
  func.setArgAttr(1, "tfm.name", b.getStringAttr("eos_positions"));
  func.setResultAttr(0, "tfm.name", b.getStringAttr("text_embeds"));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);

  Location loc = at("text_model.embeddings");
  Value words =
      EmbeddingOp::create(b, at("text_model.embeddings.token_embedding"),
                          tensor({batch, length, d}),
                          weight("text_model.embeddings.token_embedding.weight",
                                 {text.vocabSize, d}),
                          entry->getArgument(0));
  SmallVector<int64_t> positions(length);
  for (int64_t i = 0; i < length; ++i)
    positions[i] = i;
  Value places = EmbeddingOp::create(
      b, at("text_model.embeddings.position_embedding"), tensor({1, length, d}),
      weight("text_model.embeddings.position_embedding.weight",
             {text.maxPositions, d}),
      i64Constant({1, length}, positions));
  Value hidden = add(loc, words, places);
  Value mask = CausalMaskOp::create(b, at("text_model.encoder"),
                                    tensor({length, length}));
  hidden = encoder("text_model", text.dims, hidden, mask);
  hidden = layerNorm("text_model.final_layer_norm", hidden,
                     text.dims.layerNormEpsilon);

  // The end-of-text token's state: row b·S + eos_positions[b] of the
  // flattened states.
  Location poolLoc = at("text_model");
  SmallVector<int64_t> rowStarts(batch);
  for (int64_t i = 0; i < batch; ++i)
    rowStarts[i] = i * length;
  Value rows =
      AddOp::create(b, poolLoc, tensor({batch}, i64), entry->getArgument(1),
                    i64Constant({batch}, rowStarts));
  Value flat = reshape(poolLoc, hidden, {batch * length, d});
  Value pooled = GatherOp::create(b, poolLoc, tensor({batch, d}), flat, rows,
                                  b.getI64IntegerAttr(0));
  Value embeds = linear("text_projection", pooled, d, config.projectionDim,
                        /*bias=*/false);
  func::ReturnOp::create(b, at(name), embeds);
}

/// Caption lengths: --sequence-lengths, else 16 and the context; the
/// context always, so that every caption that fits has an entry.
Expected<std::vector<int64_t>> captionLengths(const ModelBuildOptions &options,
                                              int64_t context) {
  std::vector<int64_t> lengths = options.sequenceLengths;
  if (lengths.empty() && context > 16)
    lengths.push_back(16);
  std::sort(lengths.begin(), lengths.end());
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  if (!lengths.empty() && (lengths.front() < 2 || lengths.back() > context))
    return makeError("--sequence-lengths must lie in [2, ", context, "]");
  if (lengths.empty() || lengths.back() != context)
    lengths.push_back(context);
  return lengths;
}

/// CLIP's tokenizer files, embedded for the executable: tokenizer.json, or
/// vocab.json and merges.txt.
Expected<nlohmann::json> clipTokenizerMetadata(const CheckpointFolder &ckpt,
                                               std::vector<ModelFile> &files) {
  std::vector<std::string> names;
  if (ckpt.hasFile("tokenizer.json"))
    names = {"tokenizer.json"};
  else if (ckpt.hasFile("vocab.json") && ckpt.hasFile("merges.txt"))
    names = {"vocab.json", "merges.txt"};
  else
    return makeError(ckpt.folder(), ": no tokenizer (expected tokenizer.json, "
                                    "or vocab.json and merges.txt)");
  for (const std::string &name : names)
    files.push_back({name, ckpt.file(name)});
  return nlohmann::json{{"kind", "clip_bpe"}, {"files", names}};
}

} // namespace

Expected<BuiltModel> buildClip(const CheckpointFolder &checkpoint,
                               MLIRContext &ctx,
                               const ModelBuildOptions &options) {
  Expected<ClipConfig> config =
      ClipConfig::parse(checkpoint.config(), checkpoint.configPath());
  if (!config)
    return config.takeError();
  if (!options.head.empty())
    return makeError("--head does not apply to CLIP");
  std::vector<int64_t> batches = visionBatchSizes(options);
  Expected<std::vector<int64_t>> lengths =
      captionLengths(options, config->text.maxPositions);
  if (!lengths)
    return lengths.takeError();
  std::vector<ModelFile> files;
  int64_t size = config->vision.imageSize;
  Expected<nlohmann::json> preprocessor =
      preprocessorMetadata(checkpoint, size, size, files);
  if (!preprocessor)
    return preprocessor.takeError();
  Expected<nlohmann::json> tokenizer = clipTokenizerMetadata(checkpoint, files);
  if (!tokenizer)
    return tokenizer.takeError();

  ClipBuilder builder(checkpoint, *config, ctx);
  if (Error error = builder.checkWeights())
    return error;
  nlohmann::json metadata = {{"task", "zero-shot-image-classification"},
                             {"family", "clip"},
                             {"batch_sizes", batches},
                             {"sequence_lengths", *lengths},
                             {"context", config->text.maxPositions},
                             {"eos_token_id", config->text.eosTokenId},
                             {"projection_dim", config->projectionDim},
                             {"channels", config->vision.numChannels},
                             {"image_size", {size, size}},
                             {"preprocessor", *preprocessor},
                             {"tokenizer", *tokenizer}};
  return assembleModel(
      checkpoint, ctx, "CLIP",
      [&](ModuleOp module) {
        for (int64_t batch : batches) {
          builder.buildImageEmbed(module, batch);
          for (int64_t length : *lengths)
            builder.buildTextEmbed(module, batch, length);
        }
      },
      metadata, std::move(files));
}

} // namespace kiln
