//===- Gpt2Config.cpp - GPT-2's config.json -------------------------------===//

#include "frontend/Gpt2Config.h"

#include "frontend/ConfigReader.h"

#include <algorithm>

namespace kiln {

static const char *const kActivations[] = {"gelu_new", "gelu_pytorch_tanh",
                                           "gelu", "relu", "silu", "swish",
                                           "quick_gelu"};

Expected<Gpt2Config> Gpt2Config::parse(const nlohmann::json &json,
                                       const std::string &path) {
  ConfigReader reader(json, path);
  Gpt2Config config;
  std::string modelType = reader.string("model_type", "");
  if (modelType != "gpt2")
    return makeError(path, ": field 'model_type' is '", modelType,
                     "', expected 'gpt2'");
  std::vector<std::string> architectures = reader.strings("architectures");
  if (!architectures.empty()) {
    const std::string &name = architectures.front();
    if (name != "GPT2LMHeadModel" && name != "GPT2Model")
      return makeError(path, ": architecture '", name,
                       "' is not supported (GPT2LMHeadModel, GPT2Model)");
    config.architecture = name;
  }
  config.vocabSize = reader.integer("vocab_size", config.vocabSize);
  config.maxPositions = reader.integer("n_positions", config.maxPositions);
  config.hiddenSize = reader.integer("n_embd", config.hiddenSize);
  config.numLayers = reader.integer("n_layer", config.numLayers);
  config.numHeads = reader.integer("n_head", config.numHeads);
  config.innerSize =
      reader.optionalInteger("n_inner", 1).value_or(4 * config.hiddenSize);
  config.activation = reader.string("activation_function", config.activation);
  config.layerNormEpsilon =
      reader.positive("layer_norm_epsilon", config.layerNormEpsilon);
  config.scaleAttnWeights =
      reader.boolean("scale_attn_weights", config.scaleAttnWeights);
  config.scaleAttnByInverseLayerIdx = reader.boolean(
      "scale_attn_by_inverse_layer_idx", config.scaleAttnByInverseLayerIdx);
  config.tieWordEmbeddings =
      reader.boolean("tie_word_embeddings", config.tieWordEmbeddings);
  config.bosTokenId = reader.integer("bos_token_id", config.bosTokenId, 0);
  config.eosTokenId = reader.integer("eos_token_id", config.eosTokenId, 0);
  if (reader.boolean("reorder_and_upcast_attn", false))
    return makeError(path, ": field 'reorder_and_upcast_attn' = true is not "
                           "supported");
  if (Error error = reader.takeError())
    return error;
  if (config.hiddenSize % config.numHeads != 0)
    return makeError(path, ": field 'n_embd' (", config.hiddenSize,
                     ") must be a multiple of 'n_head' (", config.numHeads,
                     ")");
  if (std::find(std::begin(kActivations), std::end(kActivations),
                config.activation) == std::end(kActivations))
    return makeError(path, ": field 'activation_function' = '",
                     config.activation, "' is not supported");
  return config;
}

} // namespace kiln
