//===- Gpt2Config.cpp - GPT-2's config.json -------------------------------===//

#include "frontend/Gpt2Config.h"

#include "frontend/JsonReader.h"

#include <cfloat>

namespace kiln {

/// A token id field: null, an id below vocab_size or (with `allowList`) a
/// list of them. Absent: `fallback` when it fits the vocabulary.
static std::vector<int64_t> readTokenIds(JsonReader &reader,
                                         const nlohmann::json &json,
                                         const char *field, bool allowList,
                                         int64_t fallback, int64_t vocabSize) {
  auto it = json.find(field);
  if (it == json.end())
    return fallback < vocabSize ? std::vector<int64_t>{fallback}
                                : std::vector<int64_t>{};
  if (it->is_null())
    return {};
  std::string expectation = "a token id below vocab_size (" +
                            std::to_string(vocabSize) + ")" +
                            (allowList ? ", a list of them" : "") + " or null";
  std::vector<int64_t> ids;
  auto take = [&](const nlohmann::json &item) {
    bool valid = item.is_number_unsigned()
                     ? item.get<uint64_t>() < static_cast<uint64_t>(vocabSize)
                     : item.is_number_integer() && item.get<int64_t>() >= 0 &&
                           item.get<int64_t>() < vocabSize;
    if (!valid) {
      reader.fail(field, expectation);
      return false;
    }
    ids.push_back(item.get<int64_t>());
    return true;
  };
  if (allowList && it->is_array()) {
    for (const nlohmann::json &item : *it)
      if (!take(item))
        return {};
  } else if (!take(*it)) {
    return {};
  }
  return ids;
}

Expected<Gpt2Config> Gpt2Config::parse(const nlohmann::json &json,
                                       const std::string &path) {
  JsonReader reader(json, path);
  Gpt2Config config;
  std::string modelType = reader.string("model_type", "");
  if (Error error = reader.takeError())
    return error;
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
  // Sizes derived from it (3 * n_embd columns of c_attn, the default n_inner
  // 4 * n_embd) stay within kMaxDimension.
  config.hiddenSize =
      reader.integer("n_embd", config.hiddenSize, 1, kMaxDimension / 4);
  config.numLayers = reader.integer("n_layer", config.numLayers);
  config.numHeads = reader.integer("n_head", config.numHeads);
  config.innerSize =
      reader.optionalInteger("n_inner").value_or(4 * config.hiddenSize);
  config.activation = reader.choice("activation_function", config.activation,
                                    {"gelu_new", "gelu_pytorch_tanh", "gelu",
                                     "relu", "silu", "swish", "quick_gelu"});
  config.layerNormEpsilon =
      reader.positive("layer_norm_epsilon", config.layerNormEpsilon, FLT_MAX);
  config.scaleAttnWeights =
      reader.boolean("scale_attn_weights", config.scaleAttnWeights);
  config.scaleAttnByInverseLayerIdx = reader.boolean(
      "scale_attn_by_inverse_layer_idx", config.scaleAttnByInverseLayerIdx);
  config.tieWordEmbeddings =
      reader.boolean("tie_word_embeddings", config.tieWordEmbeddings);
  bool reorder = reader.boolean("reorder_and_upcast_attn", false);
  if (Error error = reader.takeError())
    return error;
  // After vocab_size is known to be valid.
  std::vector<int64_t> bos =
      readTokenIds(reader, json, "bos_token_id",
                   /*allowList=*/false, 50256, config.vocabSize);
  if (!bos.empty())
    config.bosTokenId = bos.front();
  config.eosTokenIds =
      readTokenIds(reader, json, "eos_token_id",
                   /*allowList=*/true, 50256, config.vocabSize);
  if (Error error = reader.takeError())
    return error;
  if (reorder)
    return makeError(path, ": field 'reorder_and_upcast_attn' = true is not "
                           "supported");
  if (config.hiddenSize % config.numHeads != 0)
    return makeError(path, ": field 'n_embd' (", config.hiddenSize,
                     ") must be a multiple of 'n_head' (", config.numHeads,
                     ")");
  return config;
}

} // namespace kiln
