//===- BertConfig.cpp - BERT's and RoBERTa's config.json ------------------===//

#include "frontend/BertConfig.h"

#include "frontend/ConfigReader.h"

#include <algorithm>
#include <cstdlib>

namespace kiln {

static const char *const kActivations[] = {"gelu", "gelu_new", "relu", "silu",
                                           "gelu_pytorch_tanh", "quick_gelu"};

Expected<BertConfig> BertConfig::parse(const nlohmann::json &json,
                                       const std::string &path) {
  ConfigReader reader(json, path);
  BertConfig config;
  std::string modelType = reader.string("model_type", "");
  if (modelType != "bert" && modelType != "roberta")
    return makeError(path, ": field 'model_type' is '", modelType,
                     "', expected 'bert' or 'roberta'");
  config.roberta = modelType == "roberta";
  if (config.roberta) {
    config.padTokenId = 1;
    config.layerNormEpsilon = 1e-12;
  }
  std::vector<std::string> architectures = reader.strings("architectures");
  if (!architectures.empty())
    config.architecture = architectures.front();
  config.vocabSize = reader.integer("vocab_size", config.vocabSize);
  config.hiddenSize = reader.integer("hidden_size", config.hiddenSize);
  config.numLayers = reader.integer("num_hidden_layers", config.numLayers);
  config.numHeads = reader.integer("num_attention_heads", config.numHeads);
  config.intermediateSize =
      reader.integer("intermediate_size", config.intermediateSize);
  config.hiddenAct = reader.string("hidden_act", config.hiddenAct);
  config.maxPositions =
      reader.integer("max_position_embeddings", config.maxPositions);
  config.typeVocabSize =
      reader.integer("type_vocab_size", config.typeVocabSize);
  config.layerNormEpsilon =
      reader.positive("layer_norm_eps", config.layerNormEpsilon);
  config.padTokenId = reader.integer("pad_token_id", config.padTokenId, 0);
  config.problemType = reader.string("problem_type", "");
  std::string positions =
      reader.string("position_embedding_type", "absolute");
  if (Error error = reader.takeError())
    return error;
  if (positions != "absolute")
    return makeError(path, ": field 'position_embedding_type' = '",
                     positions, "' is not supported (only 'absolute')");
  if (config.hiddenSize % config.numHeads != 0)
    return makeError(path, ": field 'hidden_size' (", config.hiddenSize,
                     ") must be a multiple of 'num_attention_heads' (",
                     config.numHeads, ")");
  if (std::find(std::begin(kActivations), std::end(kActivations),
                config.hiddenAct) == std::end(kActivations))
    return makeError(path, ": field 'hidden_act' = '", config.hiddenAct,
                     "' is not supported");
  if (config.roberta && config.maxPositions <= config.padTokenId + 1)
    return makeError(path, ": field 'max_position_embeddings' must exceed "
                           "'pad_token_id' + 1 for RoBERTa");

  // Labels: id2label (string keys), else num_labels generic ones.
  auto labels = json.find("id2label");
  if (labels != json.end() && labels->is_object()) {
    for (auto &[key, value] : labels->items()) {
      char *end = nullptr;
      long long index = std::strtoll(key.c_str(), &end, 10);
      if (*end != '\0' || index < 0 || !value.is_string())
        return makeError(path, ": field 'id2label' must map indices to "
                               "names, got '", key, "'");
      config.id2label[index] = value.get<std::string>();
    }
  }
  auto numLabels = json.find("num_labels");
  if (config.id2label.empty() && numLabels != json.end() &&
      numLabels->is_number_integer())
    for (int64_t i = 0; i < numLabels->get<int64_t>(); ++i)
      config.id2label[i] = "LABEL_" + std::to_string(i);
  if (config.id2label.empty())
    for (int64_t i = 0; i < 2; ++i)
      config.id2label[i] = "LABEL_" + std::to_string(i);
  for (int64_t i = 0; i < static_cast<int64_t>(config.id2label.size()); ++i)
    if (!config.id2label.count(i))
      return makeError(path, ": field 'id2label' has no label ", i);
  return config;
}

} // namespace kiln
