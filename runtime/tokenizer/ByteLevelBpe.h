//===- ByteLevelBpe.h - GPT-2 / RoBERTa / CLIP byte-level BPE ---*- C++ -*-===//
//
// The tokenizer of GPT-2, RoBERTa, BART, CLIP and their relatives, matching
// the Hugging Face `tokenizers` library id for id:
//   1. added tokens (<|endoftext|>, <mask>, ...) found literally in the text
//      become their ids; the text between them is processed on its own;
//   2. CLIP only: that text is normalized (NFC, white space runs to one
//      space, lowercase) and split by CLIP's regex into letter runs, single
//      digits, contractions and punctuation runs, white space dropped;
//   3. GPT-2's regex splits the text (or each CLIP piece) into pre-tokens
//      (words with their leading space, digit runs, punctuation runs, white
//      space);
//   4. each pre-token's UTF-8 bytes are spelled in GPT-2's byte alphabet (one
//      printable character per byte), the last one with the end-of-word
//      suffix when the model has one (CLIP's "</w>"), and merged pairwise by
//      merge rank.
// Decoding maps the byte alphabet back to bytes and the bytes to UTF-8.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TOKENIZER_BYTELEVELBPE_H
#define KILN_RUNTIME_TOKENIZER_BYTELEVELBPE_H

#include "runtime/support/Error.h"
#include "runtime/tokenizer/AddedTokenSplitter.h"
#include "runtime/tokenizer/TextNormalizer.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kiln {

class ByteLevelBpe {
public:
  /// From a Hugging Face tokenizer.json: model.type "BPE" with model.vocab and
  /// model.merges ("a b" strings or [a, b] pairs), optionally an
  /// end_of_word_suffix, a ByteLevel pre-tokenizer (alone, or after CLIP's
  /// Split), the ByteLevel decoder, no normalizer or the steps of CLIP's
  /// (NFC, Lowercase, Replace of \s+ by a space), and added_tokens (their
  /// "special", "lstrip", "rstrip", "single_word" and "normalized" flags are
  /// honoured). The post-processor is not applied: encode() never adds <s>
  /// or </s> (postProcessorTokens() tells which it would add). A
  /// pre-tokenizer with add_prefix_space true makes every encode() add the
  /// prefix space. `name` names the source in errors.
  static Expected<ByteLevelBpe> fromTokenizerJson(std::string_view json,
                                                  const std::string &name);
  /// From GPT-2's vocab.json (token -> id) and merges.txt ("#version" line
  /// optional). Special tokens: every vocab entry of the form <|...|> is
  /// special (GPT-2's <|endoftext|>), plus `extraSpecialTokens`, which get
  /// new ids after the vocab when the vocab lacks them.
  static Expected<ByteLevelBpe>
  fromVocabAndMerges(std::string_view vocabJson, std::string_view merges,
                     const std::string &vocabName,
                     const std::string &mergesName,
                     const std::vector<std::string> &extraSpecialTokens = {});
  /// From the tokenizer files of a compiled model, by name and contents:
  /// tokenizer.json alone, or vocab.json and merges.txt in either order
  /// (the .txt one is merges.txt). What text generation loads, and what the
  /// compiler checks.
  static Expected<ByteLevelBpe>
  fromFiles(const std::vector<std::pair<std::string, std::string_view>> &files);
  /// Loads a model folder: tokenizer.json if present, else vocab.json +
  /// merges.txt. Errors name the folder and what is missing.
  static Expected<ByteLevelBpe> fromFolder(const std::string &folder);

  ByteLevelBpe(ByteLevelBpe &&) noexcept;
  ByteLevelBpe &operator=(ByteLevelBpe &&) noexcept;
  ~ByteLevelBpe();

  /// Encodes text. Added tokens appearing literally in the text (e.g.
  /// "<|endoftext|>") become their ids, as in `tokenizers`; everything
  /// between is pre-tokenized with GPT-2's regex and BPE-merged by merge
  /// rank. `addPrefixSpace` (RoBERTa's option) prepends a space to each such
  /// stretch of text that does not start with one, as `tokenizers` does.
  /// Invalid UTF-8 is encoded byte by byte, never rejected.
  std::vector<int32_t> encode(std::string_view text,
                              bool addPrefixSpace = false) const;
  /// Decodes ids back to UTF-8; byte sequences that are not valid UTF-8
  /// become U+FFFD, one per maximal invalid subsequence, as `tokenizers`
  /// decode does. Unknown ids are an error.
  Expected<std::string> decode(const std::vector<int32_t> &ids,
                               bool skipSpecialTokens = false) const;
  /// Id of a vocab or added token spelled in the byte alphabet ("Ġthe").
  std::optional<int32_t> tokenId(std::string_view token) const;
  /// The token string of an id (byte alphabet for vocab tokens).
  std::optional<std::string_view> tokenText(int32_t id) const;
  /// Largest id + 1.
  size_t vocabSize() const;
  /// What the model appends to the last symbol of each word ("</w>" for
  /// CLIP), "" when nothing; decoded text keeps it.
  const std::string &endOfWordSuffix() const { return wordSuffix; }
  /// The tokens tokenizer.json's post-processor puts before and after a
  /// single text (the cls and sep of RobertaProcessing or BertProcessing),
  /// when it is one of those.
  const std::optional<std::pair<std::string, std::string>> &
  postProcessorTokens() const {
    return wrapTokens;
  }

private:
  friend class BpeStreamDecoder;

  struct AddedToken {
    std::string content;
    int32_t id = 0;
    bool special = false;
    bool singleWord = false;
    bool stripLeft = false;
    bool stripRight = false;
    bool normalized = false;
  };
  struct Merge {
    uint32_t rank;
    int32_t mergedId;
  };
  /// (left id, right id) -> Merge, by open addressing: its lookups are the
  /// inner loop of BPE.
  class MergeTable {
  public:
    void reserve(size_t count);
    void insertOrAssign(uint64_t key, Merge merge);
    const Merge *find(uint64_t key) const;

  private:
    struct Slot {
      uint64_t key;
      Merge merge;
    };
    size_t slotOf(uint64_t key) const;
    std::vector<Slot> slots; // a power of two in size, kept under 1/2 full
    size_t used = 0;
  };
  struct WordCache;

  ByteLevelBpe();

  static uint64_t mergeKey(int32_t left, int32_t right) {
    return static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32 |
           static_cast<uint32_t>(right);
  }
  /// Builds the id tables and the merge map from `vocab`; `mergeWhere(rank)`
  /// names a merge in messages.
  Error build(const std::vector<std::pair<std::string, std::string>> &pairs,
              const std::function<std::string(size_t)> &mergeWhere);
  /// Registers added tokens (ids assigned as `tokenizers` does) and rebuilds
  /// the tables that depend on them.
  void addTokens(std::vector<AddedToken> tokens);

  void encodeText(std::string_view text, bool prefixSpace,
                  std::vector<int32_t> &ids) const;
  /// GPT-2's regex split (when on) and BPE of one piece of text.
  void encodePiece(std::string_view text, bool prefixSpace,
                   std::vector<int32_t> &ids) const;
  void encodeWord(std::string_view word, std::vector<int32_t> &ids) const;
  void mergeWord(std::string_view word, std::vector<int32_t> &ids) const;
  bool isKnownId(int32_t id) const;
  Error unknownIdError(int32_t id, size_t position) const;

  /// Names the source in messages.
  std::string source;
  /// The model vocab: token in the byte alphabet -> id.
  std::unordered_map<std::string, int32_t> vocab;
  /// Per id: the token string, the bytes it decodes to, IdFlags bits.
  std::vector<std::string> idToText;
  std::vector<std::string> idToBytes;
  std::vector<uint8_t> idFlags;
  /// (left id, right id) -> rank and merged id.
  MergeTable merges;
  /// Id of the one-character token of each byte, -1 when the vocab lacks it.
  std::array<int32_t, 256> byteTokenIds{};
  /// The same, for the last byte of a word: with the end-of-word suffix.
  std::array<int32_t, 256> lastByteTokenIds{};
  std::vector<AddedToken> addedTokens;
  std::unordered_map<std::string, size_t> addedTokenIndex;
  /// Finds the added tokens in the text to encode.
  AddedTokenSplitter splitter;

  // Options of the BPE model, normalizer, pre-tokenizer and post-processor
  // in tokenizer.json.
  std::string wordSuffix;
  TextNormalizer normalizer;
  /// CLIP's Split pre-tokenizer runs before the ByteLevel one.
  bool splitLikeClip = false;
  std::optional<std::pair<std::string, std::string>> wrapTokens;
  bool alwaysAddPrefixSpace = false;
  bool splitWithRegex = true;
  bool ignoreMerges = false;
  bool fuseUnknown = false;
  std::optional<int32_t> unknownId;

  std::unique_ptr<WordCache> cache;
};

/// Streams decoded text: push() returns the text completed by this id; the
/// bytes of a UTF-8 character split across tokens are held back until it is
/// complete; flush() returns what is left (an incomplete tail as U+FFFD).
/// The concatenated output equals decode() of all ids pushed.
class BpeStreamDecoder {
public:
  explicit BpeStreamDecoder(const ByteLevelBpe &tokenizer);
  Expected<std::string> push(int32_t id);
  std::string flush();

private:
  const ByteLevelBpe &tokenizer;
  /// Bytes of an incomplete UTF-8 character.
  std::string pending;
  /// Ids pushed since the last flush, for messages.
  size_t pushed = 0;
};

} // namespace kiln

#endif // KILN_RUNTIME_TOKENIZER_BYTELEVELBPE_H
