//===- EncoderTokenizer.h - Text-encoder tokenizers with specials -*- C++ -*-//
//
// One interface over the tokenizers of encoder models: WordPiece (BERT,
// MiniLM, ...), byte-level BPE (RoBERTa) and CLIP's byte-level BPE, with the
// special tokens those models put around their inputs, as the
// post-processors of the Hugging Face `tokenizers` library do:
//   WordPiece  [CLS] a [SEP]            [CLS] a [SEP] b [SEP]
//              type ids 0 ... 0         0 for [CLS] a [SEP], 1 for b [SEP]
//   BPE        <s> a </s>               <s> a </s></s> b </s>
//              type ids all 0           all 0
//   CLIP       <|startoftext|> a <|endoftext|>    (pairs as BPE)
// Truncation and padding are the caller's business: bosId(), eosId(),
// padId() and modelMaxLength() tell what they need.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TOKENIZER_ENCODERTOKENIZER_H
#define KILN_RUNTIME_TOKENIZER_ENCODERTOKENIZER_H

#include "runtime/support/Error.h"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

class ByteLevelBpe;
class WordPiece;

struct EncodedText {
  /// With the special tokens.
  std::vector<int32_t> ids;
  /// token_type_ids: 0 for the first text, 1 for the second (BERT); all 0
  /// for RoBERTa.
  std::vector<int32_t> typeIds;
  /// The vocabulary string of each id ("[CLS]", "paris", "##ian", "Ġparis").
  std::vector<std::string> tokens;
};

class EncoderTokenizer {
public:
  /// `metadata` is the "tokenizer" object of the model metadata, e.g.
  ///   {"kind":"wordpiece","files":["tokenizer.json"]}
  ///   {"kind":"wordpiece","files":["vocab.txt"],"lowercase":true,
  ///    "strip_accents":null,"tokenize_chinese_chars":true}
  ///   {"kind":"byte_level_bpe","files":["tokenizer.json"]} or
  ///   {"kind":"byte_level_bpe","files":["vocab.json","merges.txt"],
  ///    "add_prefix_space":false}
  ///   {"kind":"clip_bpe","files":["tokenizer.json"]} or
  ///   {"kind":"clip_bpe","files":["vocab.json","merges.txt"]}
  /// optionally with "special_tokens":{"cls":"[CLS]","sep":"[SEP]",
  /// "mask":"[MASK]","pad":"[PAD]","unk":"[UNK]"} (defaults: [CLS] [SEP]
  /// [MASK] [PAD] [UNK] for wordpiece, <s> </s> <mask> <pad> <unk> for
  /// byte_level_bpe); for clip_bpe the keys are "bos", "eos", "pad" and
  /// "unk" (defaults: <|startoftext|>, <|endoftext|>, and <|endoftext|> for
  /// the last two, as CLIPTokenizer; a tokenizer.json's RobertaProcessing
  /// post-processor names bos and eos when the metadata does not), with no
  /// mask. Any kind may give "model_max_length" (CLIP's text context, 77),
  /// which modelMaxLength() returns.
  /// `file(name)` returns the bytes of a file the metadata names (embedded
  /// in the executable), or nullopt.
  ///
  /// A tokenizer.json carries its own settings; the options apply to
  /// vocab.txt (wordpiece: also "clean_text", "max_input_chars_per_word")
  /// and to vocab.json + merges.txt, whose special tokens become special
  /// added tokens (new ids after the vocab when it lacks them, in the order
  /// cls, pad, sep, unk, mask; the mask with lstrip, as RoBERTa's). For
  /// byte_level_bpe, "add_prefix_space": true also adds the prefix space to
  /// a tokenizer.json that does not. The cls, sep and pad tokens must be in
  /// the vocab; the mask token may be missing (maskId() is then nullopt).
  /// clip_bpe's vocab.json + merges.txt load as transformers'
  /// CLIPTokenizer(Fast) builds them: CLIP's normalizer (NFC, white space
  /// runs to a space, lowercase) and split regex, "</w>" on the last symbol
  /// of each word, unknown symbols as the unk token.
  static Expected<EncoderTokenizer>
  create(const nlohmann::json &metadata,
         const std::function<std::optional<std::string_view>(std::string_view)>
             &file);

  /// [CLS] text [SEP] | <s> text </s> | <|startoftext|> text <|endoftext|>
  EncodedText encode(std::string_view text) const;
  /// [CLS] a [SEP] b [SEP] | <s> a </s></s> b </s> (CLIP alike)
  EncodedText encodePair(std::string_view first, std::string_view second) const;
  std::optional<int32_t> maskId() const;
  const std::string &maskToken() const;
  int32_t padId() const;
  /// The id encode() puts first: [CLS], <s>, <|startoftext|>.
  int32_t bosId() const;
  /// The id encode() puts last: [SEP], </s>, <|endoftext|> (the token
  /// CLIP's text tower pools; a truncated encoding should end with it).
  int32_t eosId() const;
  /// The metadata's "model_max_length": the most ids the model takes.
  std::optional<size_t> modelMaxLength() const;
  /// How a candidate token reads in text: "paris", "##ian" (WordPiece),
  /// " Paris" (BPE, Ġ → space, bytes decoded), "paris " (CLIP, </w> →
  /// space). "" for an unknown id.
  std::string displayToken(int32_t id) const;
  /// Like tokenizers' decode(ids, skip_special_tokens=true); unknown ids are
  /// skipped. CLIP: as transformers' CLIPTokenizer, each </w> becomes a
  /// space and the text is stripped.
  std::string decode(const std::vector<int32_t> &ids) const;
  size_t vocabSize() const;

private:
  enum class Kind { WordPiece, ByteLevelBpe, ClipBpe };

  EncoderTokenizer() = default;

  /// Ids of `text` without special tokens.
  std::vector<int32_t> tokenize(std::string_view text) const;
  std::optional<std::string_view> tokenText(int32_t id) const;
  std::optional<int32_t> tokenId(std::string_view token) const;
  void append(EncodedText &out, int32_t id, int32_t typeId) const;

  Kind kind = Kind::WordPiece;
  // Shared so that copies of the tokenizer are cheap; never modified.
  std::shared_ptr<const WordPiece> wordPiece;
  std::shared_ptr<const ByteLevelBpe> bpe;
  bool addPrefixSpace = false;
  int32_t clsId = 0;
  int32_t sepId = 0;
  int32_t padTokenId = 0;
  std::optional<int32_t> maskTokenId;
  std::string maskTokenText;
  std::optional<size_t> maxLength;
};

} // namespace kiln

#endif // KILN_RUNTIME_TOKENIZER_ENCODERTOKENIZER_H
