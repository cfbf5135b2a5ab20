//===- AddedTokenSplitter.h - Finding added tokens in text ------*- C++ -*-===//
//
// Both tokenizers (byte-level BPE and WordPiece) first split their input on
// the added tokens ("<|endoftext|>", "[CLS]", "<mask>", ...) as the
// AddedVocabulary of the Hugging Face `tokenizers` library does:
//  - tokens with normalized=false are found in the raw text; each stretch
//    between them is normalized (WordPiece; BPE has no normalizer) and
//    searched for the tokens with normalized=true;
//  - matches are leftmost-longest, found as if lstrip/rstrip did not exist
//    (the search resumes at the end of the bare match), then widened over
//    the white space next to them, never back past the previous match;
//  - a single_word token that touches a word character stays text.
// Internal to runtime/tokenizer/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TOKENIZER_ADDEDTOKENSPLITTER_H
#define KILN_RUNTIME_TOKENIZER_ADDEDTOKENSPLITTER_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

class AddedTokenSplitter {
public:
  struct Token {
    /// What is searched for: the content, normalized when `normalized`.
    std::string pattern;
    int32_t id = 0;
    bool singleWord = false;
    bool stripLeft = false;
    bool stripRight = false;
    /// Searched for in the normalized text rather than the raw text.
    bool normalized = false;
  };

  /// Replaces the tokens searched for. Among patterns of the same length
  /// starting at the same place, the first one listed wins; empty patterns
  /// never match.
  void assign(std::vector<Token> tokens);
  bool empty() const { return tokens.empty(); }

  using Normalizer = std::function<std::string(std::string_view)>;
  /// Splits `text` and reports its pieces in order: onToken(id) for each
  /// added token, onText(text) for each non-empty stretch between them (a
  /// view into `text`, or into a normalized copy that lives until onText
  /// returns). `normalize` null: the text is its own normalized form.
  void split(std::string_view text, const Normalizer &normalize,
             const std::function<void(int32_t)> &onToken,
             const std::function<void(std::string_view)> &onText) const;

private:
  /// A stretch of text: an added token, or text (addedId -1).
  struct Piece {
    size_t begin;
    size_t end;
    int32_t addedId;
  };
  /// One pass: the matches of the tokens whose `normalized` flag is
  /// `normalizedPass`, and the text between them.
  void splitPass(std::string_view text, bool normalizedPass,
                 std::vector<Piece> &pieces) const;

  std::vector<Token> tokens;
  /// Indices into `tokens` by the first byte of their pattern, longest
  /// first.
  std::array<std::vector<size_t>, 256> byFirstByte;
  bool anyNormalized = false;
};

} // namespace kiln

#endif // KILN_RUNTIME_TOKENIZER_ADDEDTOKENSPLITTER_H
