//===- BertConfig.h - BERT's and RoBERTa's config.json ----------*- C++ -*-===//

#ifndef KILN_FRONTEND_BERTCONFIG_H
#define KILN_FRONTEND_BERTCONFIG_H

#include "runtime/support/Error.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kiln {

/// The fields of transformers' BertConfig / RobertaConfig that change the
/// computation, with their defaults.
struct BertConfig {
  bool roberta = false; // model_type "roberta": positions offset by padding
  int64_t vocabSize = 30522;
  int64_t hiddenSize = 768;
  int64_t numLayers = 12;
  int64_t numHeads = 12;
  int64_t intermediateSize = 3072;
  std::string hiddenAct = "gelu";
  int64_t maxPositions = 512;
  int64_t typeVocabSize = 2;
  double layerNormEpsilon = 1e-12;
  int64_t padTokenId = 0;
  /// From `architectures`: BertModel, BertForMaskedLM, ... (may be empty).
  std::string architecture;
  /// Classification labels: num_labels, or the size of id2label.
  int64_t numLabels = 2;
  /// The names from id2label, by index; empty when config.json has none
  /// (the labels are then LABEL_0, LABEL_1, ...).
  std::vector<std::string> labelNames;
  std::string problemType;

  /// The name of label `index` (< numLabels).
  std::string labelName(int64_t index) const {
    return labelNames.empty() ? "LABEL_" + std::to_string(index)
                              : labelNames[index];
  }

  int64_t headDim() const { return hiddenSize / numHeads; }
  /// Longest input in tokens. RoBERTa's positions start after padding_idx.
  int64_t maxTokens() const {
    return roberta ? maxPositions - padTokenId - 1 : maxPositions;
  }

  /// Parses and validates every field's type and range; errors name `path`
  /// and the field. Sizes are at most kMaxDimension (frontend/JsonReader.h).
  static Expected<BertConfig> parse(const nlohmann::json &config,
                                    const std::string &path);
};

} // namespace kiln

#endif // KILN_FRONTEND_BERTCONFIG_H
