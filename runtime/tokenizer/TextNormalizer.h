//===- TextNormalizer.h - The normalizers of byte-level BPE -----*- C++ -*-===//
//
// The normalizer steps a byte-level BPE tokenizer.json may name, as the
// Hugging Face `tokenizers` library applies them: NFC, Lowercase (Rust's
// char::to_lowercase, character by character) and Replace of each white
// space run (the regex \s+) by one space. CLIP's normalizer is the
// sequence of all three. Internal to runtime/tokenizer/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TOKENIZER_TEXTNORMALIZER_H
#define KILN_RUNTIME_TOKENIZER_TEXTNORMALIZER_H

#include "runtime/support/Error.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace kiln {

class TextNormalizer {
public:
  enum class Step { Nfc, Lowercase, CollapseWhiteSpace };

  TextNormalizer() = default;
  explicit TextNormalizer(std::vector<Step> steps) : steps(std::move(steps)) {}

  /// From tokenizer.json's "normalizer": null, one step or a Sequence of
  /// them. Other normalizers are refused with a message naming the field;
  /// `where` ends with ": ".
  static Expected<TextNormalizer> fromJson(const nlohmann::json &normalizer,
                                           const std::string &where);

  bool empty() const { return steps.empty(); }
  /// Applies the steps in order. Bytes that are not valid UTF-8 pass
  /// through unchanged and, like a starter, block composition across them.
  std::string apply(std::string_view text) const;

private:
  std::vector<Step> steps;
};

} // namespace kiln

#endif // KILN_RUNTIME_TOKENIZER_TEXTNORMALIZER_H
