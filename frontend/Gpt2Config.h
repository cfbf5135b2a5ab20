//===- Gpt2Config.h - GPT-2's config.json -----------------------*- C++ -*-===//

#ifndef KILN_FRONTEND_GPT2CONFIG_H
#define KILN_FRONTEND_GPT2CONFIG_H

#include "runtime/support/Error.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// The fields of transformers' GPT2Config that change the computation, with
/// its defaults.
struct Gpt2Config {
  int64_t vocabSize = 50257;
  int64_t maxPositions = 1024; // n_positions
  int64_t hiddenSize = 768;    // n_embd
  int64_t numLayers = 12;      // n_layer
  int64_t numHeads = 12;       // n_head
  int64_t innerSize = 3072;    // n_inner, default 4 * n_embd
  std::string activation = "gelu_new";
  double layerNormEpsilon = 1e-5;
  bool scaleAttnWeights = true;
  bool scaleAttnByInverseLayerIdx = false;
  bool tieWordEmbeddings = true;
  /// Token ids below vocab_size; none when null (or when the default 50256
  /// does not fit the vocabulary). eos_token_id may list several.
  std::optional<int64_t> bosTokenId;
  std::vector<int64_t> eosTokenIds;
  /// "GPT2LMHeadModel" (logits) or "GPT2Model" (hidden states only).
  std::string architecture = "GPT2LMHeadModel";

  int64_t headDim() const { return hiddenSize / numHeads; }

  /// Parses and validates every field's type and range; errors name `path`
  /// and the field. Sizes are at most kMaxDimension (frontend/JsonReader.h),
  /// so products of two of them fit in int64.
  static Expected<Gpt2Config> parse(const nlohmann::json &config,
                                    const std::string &path);
};

} // namespace kiln

#endif // KILN_FRONTEND_GPT2CONFIG_H
