//===- BertConfig.h - BERT's and RoBERTa's config.json ----------*- C++ -*-===//

#ifndef KILN_FRONTEND_BERTCONFIG_H
#define KILN_FRONTEND_BERTCONFIG_H

#include "runtime/support/Error.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>

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
  /// Classification labels, by index; num_labels entries.
  std::map<int64_t, std::string> id2label;
  std::string problemType;

  int64_t headDim() const { return hiddenSize / numHeads; }
  /// Longest input in tokens. RoBERTa's positions start after padding_idx.
  int64_t maxTokens() const {
    return roberta ? maxPositions - padTokenId - 1 : maxPositions;
  }

  static Expected<BertConfig> parse(const nlohmann::json &config,
                                    const std::string &path);
};

} // namespace kiln

#endif // KILN_FRONTEND_BERTCONFIG_H
