//===- BertConfig.cpp - BERT's and RoBERTa's config.json ------------------===//

#include "frontend/BertConfig.h"

#include "frontend/JsonReader.h"

#include <cfloat>

namespace kiln {

/// id2label and num_labels. transformers saves id2label (string keys "0" to
/// "N-1") and its inverse label2id; num_labels is the size of id2label, or
/// makes LABEL_<i> names when id2label is absent. label2id is only
/// type-checked.
static void readLabels(JsonReader &reader, BertConfig &config) {
  const nlohmann::json *id2label = reader.object("id2label");
  std::optional<int64_t> numLabels = reader.optionalInteger("num_labels");
  const nlohmann::json *label2id = reader.object("label2id");
  if (reader.failed())
    return;
  if (!id2label) {
    config.numLabels = numLabels.value_or(config.numLabels);
    return;
  }
  int64_t count = static_cast<int64_t>(id2label->size());
  if (count == 0) {
    reader.fail("id2label", "at least one label");
    return;
  }
  config.labelNames.assign(count, std::string());
  std::vector<bool> seen(count, false);
  for (auto it = id2label->begin(); it != id2label->end(); ++it) {
    std::optional<int64_t> index = parseIndex(it.key(), count - 1);
    if (!index || seen[*index]) {
      reader.failWith("field 'id2label': expected the keys \"0\" to \"" +
                      std::to_string(count - 1) + "\", got key " +
                      describeJson(it.key()));
      return;
    }
    if (!it->is_string()) {
      reader.failWith("field 'id2label': label \"" + it.key() +
                      "\": expected a string, got " + describeJson(*it));
      return;
    }
    seen[*index] = true;
    config.labelNames[*index] = it->get<std::string>();
  }
  // As in transformers: id2label decides the labels; a num_labels that
  // disagrees is overridden (transformers warns), and label2id, which
  // nothing here reads, may be stale.
  config.numLabels = count;
}

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
  readLabels(reader, config);
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
