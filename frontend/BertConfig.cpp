//===- BertConfig.cpp - BERT's and RoBERTa's config.json ------------------===//

#include "frontend/BertConfig.h"

#include "frontend/JsonReader.h"
#include "frontend/Labels.h"

#include <cfloat>

namespace kiln {

Expected<BertConfig> BertConfig::parse(const nlohmann::json &json,
                                       const std::string &path) {
  JsonReader reader(json, path);
  BertConfig config;
  std::string modelType = reader.string("model_type", "");
  if (Error error = reader.takeError())
    return error;
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
  config.hiddenAct = reader.choice(
      "hidden_act", config.hiddenAct,
      {"gelu", "gelu_new", "relu", "silu", "gelu_pytorch_tanh", "quick_gelu"});
  config.maxPositions =
      reader.integer("max_position_embeddings", config.maxPositions);
  config.typeVocabSize =
      reader.integer("type_vocab_size", config.typeVocabSize);
  config.layerNormEpsilon =
      reader.positive("layer_norm_eps", config.layerNormEpsilon, FLT_MAX);
  config.problemType =
      reader.choice("problem_type", "",
                    {"single_label_classification",
                     "multi_label_classification", "regression"});
  std::string positions =
      reader.string("position_embedding_type", "absolute");
  bool decoder = reader.boolean("is_decoder", false);
  if (Error error = reader.takeError())
    return error;
  // After vocab_size is known to be valid: nn.Embedding needs padding_idx
  // inside the table.
  config.padTokenId = reader.integer("pad_token_id", config.padTokenId, 0,
                                     config.vocabSize - 1);
  Labels labels;
  labels.count = config.numLabels;
  readLabels(reader, labels);
  config.numLabels = labels.count;
  config.labelNames = std::move(labels.names);
  if (Error error = reader.takeError())
    return error;
  if (positions != "absolute")
    return makeError(path, ": field 'position_embedding_type' = '",
                     positions, "' is not supported (only 'absolute')");
  if (decoder)
    return makeError(path, ": field 'is_decoder' = true (causal attention) "
                           "is not supported");
  if (config.hiddenSize % config.numHeads != 0)
    return makeError(path, ": field 'hidden_size' (", config.hiddenSize,
                     ") must be a multiple of 'num_attention_heads' (",
                     config.numHeads, ")");
  // Entries take at least 2 tokens ([CLS] and [SEP]).
  if (config.maxTokens() < 2)
    return makeError(path, ": field 'max_position_embeddings' (",
                     config.maxPositions, ") must be at least ",
                     config.roberta ? config.padTokenId + 3 : 2,
                     config.roberta ? " ('pad_token_id' + 3) for RoBERTa" : "");
  return config;
}

} // namespace kiln
