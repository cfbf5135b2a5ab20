//===- VisionConfig.cpp - ViT, Swin and CLIP config.json ------------------===//

#include "frontend/VisionConfig.h"

#include "frontend/JsonReader.h"

#include <cfloat>

namespace kiln {
namespace {

/// An integer (a square) or a list [height, width] of positive integers.
Size2 readSize(JsonReader &reader, const char *field, Size2 fallback) {
  const nlohmann::json *value = reader.find(field);
  if (!value || reader.failed())
    return fallback;
  auto positive = [](const nlohmann::json &v) {
    return v.is_number_integer() && v.get<int64_t>() >= 1 &&
           v.get<int64_t>() <= kMaxDimension;
  };
  if (positive(*value))
    return {value->get<int64_t>(), value->get<int64_t>()};
  if (value->is_array() && value->size() == 2 && positive((*value)[0]) &&
      positive((*value)[1]))
    return {(*value)[0].get<int64_t>(), (*value)[1].get<int64_t>()};
  reader.fail(field, "a positive integer or a list [height, width] of them");
  return fallback;
}

/// A list of positive integers.
std::vector<int64_t> readIntegers(JsonReader &reader, const char *field,
                                  std::vector<int64_t> fallback) {
  const nlohmann::json *value = reader.find(field);
  if (!value || reader.failed())
    return fallback;
  std::vector<int64_t> result;
  if (value->is_array() && !value->empty())
    for (const nlohmann::json &item : *value)
      if (item.is_number_integer() && item.get<int64_t>() >= 1 &&
          item.get<int64_t>() <= kMaxDimension)
        result.push_back(item.get<int64_t>());
  if (result.empty() || result.size() != value->size()) {
    reader.fail(field, "a non-empty list of positive integers");
    return fallback;
  }
  return result;
}

void readDims(JsonReader &reader, EncoderDims &dims) {
  dims.hiddenSize = reader.integer("hidden_size", dims.hiddenSize);
  dims.numLayers = reader.integer("num_hidden_layers", dims.numLayers);
  dims.numHeads = reader.integer("num_attention_heads", dims.numHeads);
  dims.intermediateSize =
      reader.integer("intermediate_size", dims.intermediateSize);
  dims.hiddenAct = reader.choice(
      "hidden_act", dims.hiddenAct,
      {"gelu", "gelu_new", "relu", "silu", "gelu_pytorch_tanh", "quick_gelu"});
  dims.layerNormEpsilon =
      reader.positive("layer_norm_eps", dims.layerNormEpsilon, FLT_MAX);
  if (!reader.failed() && dims.hiddenSize % dims.numHeads != 0)
    reader.failWith("field 'hidden_size' (" + std::to_string(dims.hiddenSize) +
                    ") must be a multiple of 'num_attention_heads' (" +
                    std::to_string(dims.numHeads) + ")");
}

std::string firstArchitecture(JsonReader &reader) {
  std::vector<std::string> architectures = reader.strings("architectures");
  return architectures.empty() ? std::string() : architectures.front();
}

Error expectModelType(JsonReader &reader, const char *expected) {
  std::string modelType = reader.string("model_type", "");
  if (Error error = reader.takeError())
    return error;
  if (modelType != expected)
    return makeError(reader.file(), ": field 'model_type' is '", modelType,
                     "', expected '", expected, "'");
  return Error::success();
}

/// The image must be a whole number of patches: the reference's
/// convolution would drop the rest, its position table has no entry for it.
Error checkPatchGrid(const std::string &path, Size2 image, Size2 patch) {
  if (image.height % patch.height || image.width % patch.width)
    return makeError(path, ": field 'image_size' (", image.height, "x",
                     image.width, ") is not a whole number of 'patch_size' (",
                     patch.height, "x", patch.width, ") patches");
  return Error::success();
}

} // namespace

Expected<VitConfig> VitConfig::parse(const nlohmann::json &json,
                                     const std::string &path) {
  JsonReader reader(json, path);
  if (Error error = expectModelType(reader, "vit"))
    return error;
  VitConfig config;
  config.architecture = firstArchitecture(reader);
  readDims(reader, config.dims);
  config.imageSize = readSize(reader, "image_size", config.imageSize);
  config.patchSize = readSize(reader, "patch_size", config.patchSize);
  config.numChannels = reader.integer("num_channels", config.numChannels);
  config.qkvBias = reader.boolean("qkv_bias", config.qkvBias);
  config.poolerSize =
      reader.integer("pooler_output_size", config.dims.hiddenSize);
  config.poolerAct = reader.choice("pooler_act", config.poolerAct,
                                   {"tanh", "gelu", "gelu_new", "relu", "silu",
                                    "gelu_pytorch_tanh", "quick_gelu"});
  readLabels(reader, config.labels);
  if (Error error = reader.takeError())
    return error;
  if (Error error = checkPatchGrid(path, config.imageSize, config.patchSize))
    return error;
  return config;
}

Expected<SwinConfig> SwinConfig::parse(const nlohmann::json &json,
                                       const std::string &path) {
  JsonReader reader(json, path);
  if (Error error = expectModelType(reader, "swin"))
    return error;
  SwinConfig config;
  config.architecture = firstArchitecture(reader);
  config.imageSize = readSize(reader, "image_size", config.imageSize);
  Size2 patch = readSize(reader, "patch_size", {4, 4});
  config.numChannels = reader.integer("num_channels", config.numChannels);
  config.embedDim = reader.integer("embed_dim", config.embedDim);
  config.depths = readIntegers(reader, "depths", config.depths);
  config.numHeads = readIntegers(reader, "num_heads", config.numHeads);
  config.windowSize = reader.integer("window_size", config.windowSize);
  config.mlpRatio = reader.positive("mlp_ratio", config.mlpRatio, 1024);
  config.qkvBias = reader.boolean("qkv_bias", config.qkvBias);
  config.hiddenAct = reader.choice(
      "hidden_act", config.hiddenAct,
      {"gelu", "gelu_new", "relu", "silu", "gelu_pytorch_tanh", "quick_gelu"});
  config.layerNormEpsilon =
      reader.positive("layer_norm_eps", config.layerNormEpsilon, FLT_MAX);
  bool absolute = reader.boolean("use_absolute_embeddings", false);
  readLabels(reader, config.labels);
  if (Error error = reader.takeError())
    return error;
  if (patch.height != patch.width)
    return makeError(path, ": field 'patch_size': rectangular patches (",
                     patch.height, "x", patch.width,
                     ") are not supported for Swin");
  config.patchSize = patch.height;
  if (absolute)
    return makeError(path, ": field 'use_absolute_embeddings' = true is not "
                           "supported");
  if (config.depths.size() != config.numHeads.size())
    return makeError(path, ": fields 'depths' (", config.depths.size(),
                     " stages) and 'num_heads' (", config.numHeads.size(),
                     " stages) disagree");
  if (config.depths.size() > 8)
    return makeError(path, ": field 'depths': at most 8 stages, got ",
                     config.depths.size());
  for (size_t stage = 0; stage < config.depths.size(); ++stage)
    if (config.stageDim(stage) % config.numHeads[stage])
      return makeError(path, ": stage ", stage, " has ", config.stageDim(stage),
                       " channels, not a multiple of ", "its 'num_heads' (",
                       config.numHeads[stage], ")");
  if (config.imageSize.height % config.patchSize ||
      config.imageSize.width % config.patchSize)
    return makeError(path, ": field 'image_size' (", config.imageSize.height,
                     "x", config.imageSize.width,
                     ") is not a whole number of 'patch_size' (",
                     config.patchSize, ") patches");
  return config;
}

Expected<ClipConfig> ClipConfig::parse(const nlohmann::json &json,
                                       const std::string &path) {
  JsonReader reader(json, path);
  if (Error error = expectModelType(reader, "clip"))
    return error;
  ClipConfig config;
  config.projectionDim = reader.integer("projection_dim", config.projectionDim);
  const nlohmann::json *text = reader.object("text_config");
  const nlohmann::json *vision = reader.object("vision_config");
  if (Error error = reader.takeError())
    return error;
  static const nlohmann::json empty = nlohmann::json::object();

  JsonReader textReader(text ? *text : empty, path, "field 'text_config'");
  readDims(textReader, config.text.dims);
  config.text.vocabSize =
      textReader.integer("vocab_size", config.text.vocabSize);
  config.text.maxPositions =
      textReader.integer("max_position_embeddings", config.text.maxPositions);
  config.text.eosTokenId = textReader.integer(
      "eos_token_id", config.text.eosTokenId, 0, config.text.vocabSize - 1);
  if (Error error = textReader.takeError())
    return error;

  JsonReader visionReader(vision ? *vision : empty, path,
                          "field 'vision_config'");
  readDims(visionReader, config.vision.dims);
  Size2 image = readSize(visionReader, "image_size", {224, 224});
  Size2 patch = readSize(visionReader, "patch_size", {32, 32});
  config.vision.numChannels =
      visionReader.integer("num_channels", config.vision.numChannels);
  if (Error error = visionReader.takeError())
    return error;
  // CLIPVisionEmbeddings builds a square grid from single numbers.
  if (image.height != image.width || patch.height != patch.width)
    return makeError(path, ": field 'vision_config': CLIP's 'image_size' and "
                           "'patch_size' are single numbers (square)");
  config.vision.imageSize = image.height;
  config.vision.patchSize = patch.height;
  if (Error error = checkPatchGrid(path, image, patch))
    return error;
  return config;
}

} // namespace kiln
