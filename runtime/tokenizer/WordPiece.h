//===- WordPiece.h - BERT WordPiece tokenizer -------------------*- C++ -*-===//
//
// The tokenizer of BERT and its relatives (MiniLM, DistilBERT, ...), matching
// the BertWordPiece pipeline of the Hugging Face `tokenizers` library id for
// id:
//   1. added tokens ([CLS], [MASK], ...) found literally in the text become
//      their ids; the text between them is processed on its own;
//   2. BertNormalizer: clean text (drop NUL, U+FFFD and control characters,
//      white space to ' '), spaces around CJK ideographs, strip accents (NFD,
//      then drop nonspacing marks), lowercase;
//   3. BertPreTokenizer: split on white space, every punctuation character a
//      word of its own;
//   4. WordPiece: greedy longest-match-first with the "##" continuing prefix;
//      a word that cannot be matched, or is longer than
//      max_input_chars_per_word, becomes the unknown token.
// Special tokens are not added here (see EncoderTokenizer).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TOKENIZER_WORDPIECE_H
#define KILN_RUNTIME_TOKENIZER_WORDPIECE_H

#include "runtime/support/Error.h"
#include "runtime/tokenizer/AddedTokenSplitter.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kiln {

/// The settings of a vocab.txt, which holds none of its own. The defaults
/// are those of `tokenizers.BertWordPieceTokenizer` (and of uncased BERT).
struct WordPieceOptions {
  bool lowercase = true;
  /// Strip accents; unset: when lowercasing, as in `tokenizers`.
  std::optional<bool> stripAccents;
  bool tokenizeChineseChars = true;
  bool cleanText = true;
  std::string unkToken = "[UNK]";
  size_t maxInputCharsPerWord = 100;
  /// Registered as special added tokens when the vocab has them.
  std::vector<std::string> specialTokens = {"[UNK]", "[SEP]", "[CLS]", "[PAD]",
                                            "[MASK]"};
};

class WordPiece {
public:
  using Options = WordPieceOptions;

  /// From a Hugging Face tokenizer.json: model.type "WordPiece" (vocab,
  /// unk_token, continuing_subword_prefix, max_input_chars_per_word), a
  /// BertNormalizer or none, a BertPreTokenizer, a WordPiece decoder or none,
  /// and added_tokens (their "special", "lstrip", "rstrip", "single_word" and
  /// "normalized" flags are honoured). The post-processor, truncation and
  /// padding are ignored. `name` names the source in errors.
  static Expected<WordPiece> fromTokenizerJson(std::string_view json,
                                               const std::string &name);
  /// From a vocab.txt: one token per line, its id the line number from 0.
  /// The vocab must hold options.unkToken.
  static Expected<WordPiece> fromVocabTxt(std::string_view vocabText,
                                          const std::string &name,
                                          const Options &options = {});

  /// Token ids of `text`, without special tokens around it. Invalid UTF-8
  /// bytes read as U+FFFD (which clean_text drops).
  std::vector<int32_t> tokenize(std::string_view text) const;
  /// The normalized text (BertNormalizer), for tests and diagnostics.
  std::string normalize(std::string_view text) const;
  /// Decodes like the WordPiece decoder of `tokenizers`: tokens joined by
  /// spaces, "##" pieces glued to the previous one, then (cleanup) the spaces
  /// before . ? ! , and some contractions removed. Unknown ids are skipped, as
  /// `tokenizers` does; so are special tokens when `skipSpecialTokens`.
  std::string decode(const std::vector<int32_t> &ids,
                     bool skipSpecialTokens = false) const;

  /// Id of a vocab or added token ("paris", "##ian", "[MASK]").
  std::optional<int32_t> tokenId(std::string_view token) const;
  /// The token string of an id (a normalized added token reads normalized,
  /// as in `tokenizers`).
  std::optional<std::string_view> tokenText(int32_t id) const;
  /// True for the ids of special added tokens ([CLS], [SEP], ...).
  bool isSpecial(int32_t id) const;
  /// Largest id + 1.
  size_t vocabSize() const;
  /// The unknown token's id.
  int32_t unknownId() const { return unkId; }

private:
  struct AddedToken {
    std::string content;
    /// What is searched: the content, normalized when `normalized`.
    std::string pattern;
    int32_t id = 0;
    bool special = false;
    bool singleWord = false;
    bool stripLeft = false;
    bool stripRight = false;
    bool normalized = false;
  };
  struct NormalizerOptions {
    bool cleanText = true;
    bool handleChineseChars = true;
    bool stripAccents = true;
    bool lowercase = true;
  };

  WordPiece() = default;

  /// Builds the id tables from `vocab`; checks the unknown token.
  Error build();
  /// Registers added tokens, with ids as `tokenizers` assigns them.
  void addTokens(std::vector<AddedToken> tokens);
  void tokenizeNormalized(std::string_view text,
                          std::vector<int32_t> &ids) const;
  void tokenizeWord(std::string_view word, size_t chars,
                    std::vector<int32_t> &ids) const;
  bool isKnownId(int32_t id) const;

  std::string source;
  std::unordered_map<std::string, int32_t> vocab;
  std::vector<std::string> idToText;
  std::vector<uint8_t> idFlags;
  int32_t unkId = 0;
  std::string unkToken = "[UNK]";
  std::string prefix = "##";
  size_t maxInputChars = 100;
  /// Longest vocab entry in bytes: no match can be longer.
  size_t longestToken = 0;
  NormalizerOptions normalizer;
  bool hasNormalizer = true;
  bool hasPreTokenizer = true;
  // The decoder: WordPiece (prefix, cleanup), or none (tokens joined by
  // spaces).
  bool wordPieceDecoder = true;
  std::string decoderPrefix = "##";
  bool decoderCleanup = true;
  std::vector<AddedToken> addedTokens;
  std::unordered_map<std::string, size_t> addedTokenIndex;
  /// Finds the added tokens in the text to tokenize.
  AddedTokenSplitter splitter;
};

} // namespace kiln

#endif // KILN_RUNTIME_TOKENIZER_WORDPIECE_H
