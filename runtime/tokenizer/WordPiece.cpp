//===- WordPiece.cpp - BERT WordPiece tokenizer ---------------------------===//
//
// Behaviour follows the Hugging Face `tokenizers` library (the reference of
// the test fixtures), including its less obvious choices:
//  - the normalizer's steps run in the order clean text, CJK spaces, strip
//    accents, lowercase (so "İ" strips to "I" before lowercasing);
//  - its character classes are those of old Unicode versions (see
//    UnicodeTables.h), and CJK spacing uses `tokenizers`' ranges;
//  - added tokens are found as AddedTokenSplitter.h describes, those with
//    normalized=true by their normalized content;
//  - a word longer than max_input_chars_per_word characters, or with any
//    part that no vocab entry matches, becomes one unknown token;
//  - the decoder's cleanup applies to each token on its own.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/WordPiece.h"
#include "runtime/tokenizer/TokenizerJson.h"
#include "runtime/tokenizer/UnicodeTables.h"
#include "runtime/tokenizer/Utf8.h"

#include <algorithm>
#include <unordered_set>

namespace kiln {

using namespace tokenizer_json;

namespace {

/// Ids above this are refused: tables are indexed by id.
constexpr int64_t kMaxTokenId = (int64_t(1) << 24) - 1;
constexpr uint32_t kReplacementCharacter = 0xFFFD;

enum IdFlags : uint8_t { kKnownId = 1, kSpecialId = 2 };

//===----------------------------------------------------------------------===//
// UTF-8
//===----------------------------------------------------------------------===//

bool isContinuationByte(char byte) {
  return (static_cast<unsigned char>(byte) & 0xC0) == 0x80;
}

/// Reads the character at `pos` and moves past it. Invalid UTF-8 reads as
/// U+FFFD, one per maximal prefix of a well-formed sequence (as Rust's
/// from_utf8_lossy turns bytes into the text `tokenizers` sees).
uint32_t nextCodepoint(std::string_view text, size_t &pos) {
  auto byteAt = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byteAt(pos);
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  size_t length;
  uint32_t codepoint;
  unsigned char low = 0x80, high = 0xBF; // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    codepoint = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    codepoint = lead & 0x0F;
    low = lead == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    high = lead == 0xED ? 0x9F : 0xBF; // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    codepoint = lead & 0x07;
    low = lead == 0xF0 ? 0x90 : 0x80;  // no overlong forms
    high = lead == 0xF4 ? 0x8F : 0xBF; // nothing past U+10FFFF
  } else {
    ++pos;
    return kReplacementCharacter;
  }
  ++pos;
  for (size_t i = 1; i < length; ++i, ++pos) {
    if (pos >= text.size() || byteAt(pos) < low || byteAt(pos) > high)
      return kReplacementCharacter;
    codepoint = codepoint << 6 | (byteAt(pos) & 0x3F);
    low = 0x80;
    high = 0xBF;
  }
  return codepoint;
}

using utf8::appendUtf8;

bool isValidUtf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    size_t start = pos;
    uint32_t codepoint = nextCodepoint(text, pos);
    // U+FFFD is only an error when the bytes did not spell it.
    if (codepoint == kReplacementCharacter &&
        text.substr(start, pos - start) != "\xEF\xBF\xBD")
      return false;
  }
  return true;
}

bool isSpace(uint32_t codepoint) {
  return unicode::classify(codepoint) & unicode::kSpace;
}

/// The character that ends at `end` (> 0) of valid UTF-8, and where it
/// starts.
uint32_t codepointBefore(std::string_view text, size_t end, size_t &start) {
  start = end - 1;
  while (start > 0 && isContinuationByte(text[start]))
    --start;
  size_t pos = start;
  return nextCodepoint(text, pos);
}

//===----------------------------------------------------------------------===//
// BertNormalizer
//===----------------------------------------------------------------------===//

/// Puts each run of marks (non-zero combining class) in canonical order: a
/// stable sort by combining class, as NFD requires.
void reorderMarks(std::vector<uint32_t> &chars) {
  auto byClass = [](uint32_t a, uint32_t b) {
    return unicode::combiningClass(a) < unicode::combiningClass(b);
  };
  for (size_t i = 0; i < chars.size();) {
    if (unicode::combiningClass(chars[i]) == 0) {
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < chars.size() && unicode::combiningClass(chars[end]) != 0)
      ++end;
    if (end - i > 1)
      std::stable_sort(chars.begin() + i, chars.begin() + end, byClass);
    i = end;
  }
}

} // namespace

std::string WordPiece::normalize(std::string_view text) const {
  // Work on code points; each step reads `chars` and writes `next`.
  std::vector<uint32_t> chars, next;
  chars.reserve(text.size());
  for (size_t pos = 0; pos < text.size();)
    chars.push_back(nextCodepoint(text, pos));

  const NormalizerOptions &options = normalizer;
  if (hasNormalizer && options.cleanText) {
    next.clear();
    for (uint32_t c : chars) {
      bool tabOrNewline = c == '\t' || c == '\n' || c == '\r';
      if (c == 0 || c == kReplacementCharacter ||
          (!tabOrNewline && (unicode::bertClassify(c) & unicode::kBertOther)))
        continue;
      next.push_back(tabOrNewline || isSpace(c) ? ' ' : c);
    }
    chars.swap(next);
  }
  if (hasNormalizer && options.handleChineseChars) {
    next.clear();
    for (uint32_t c : chars) {
      if (unicode::isBertChineseChar(c)) {
        next.push_back(' ');
        next.push_back(c);
        next.push_back(' ');
      } else {
        next.push_back(c);
      }
    }
    chars.swap(next);
  }
  if (hasNormalizer && options.stripAccents) {
    // NFD, then drop the nonspacing marks.
    next.clear();
    uint32_t parts[unicode::kMaxDecompositionLength];
    for (uint32_t c : chars) {
      size_t length = unicode::decomposeCanonical(c, parts);
      if (length == 0)
        next.push_back(c);
      else
        next.insert(next.end(), parts, parts + length);
    }
    reorderMarks(next);
    chars.clear();
    for (uint32_t c : next)
      if (!(unicode::bertClassify(c) & unicode::kBertNonspacingMark))
        chars.push_back(c);
  }
  if (hasNormalizer && options.lowercase) {
    next.clear();
    uint32_t lower[unicode::kMaxLowercaseLength];
    for (uint32_t c : chars) {
      size_t length = unicode::toLowercase(c, lower);
      next.insert(next.end(), lower, lower + length);
    }
    chars.swap(next);
  }

  std::string out;
  out.reserve(chars.size());
  for (uint32_t c : chars)
    appendUtf8(c, out);
  return out;
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

Error WordPiece::build() {
  int32_t largestId = -1;
  for (const auto &[token, id] : vocab) {
    largestId = std::max(largestId, id);
    longestToken = std::max(longestToken, token.size());
  }
  idToText.assign(static_cast<size_t>(largestId) + 1, std::string());
  idFlags.assign(idToText.size(), 0);
  // Tokens sharing an id: keep the smallest string, whatever the hash order.
  for (const auto &[token, id] : vocab) {
    if (!(idFlags[id] & kKnownId) || token < idToText[id])
      idToText[id] = token;
    idFlags[id] = kKnownId;
  }
  auto unknown = vocab.find(unkToken);
  if (unknown == vocab.end())
    return makeError(source, ": the unknown token \"", unkToken,
                     "\" is not in the vocab");
  unkId = unknown->second;
  return Error::success();
}

void WordPiece::addTokens(std::vector<AddedToken> tokens) {
  // New ids follow the vocab's entry count, or the largest added id when it
  // is already past that (the rule of `tokenizers`).
  int64_t nextId = static_cast<int64_t>(vocab.size());
  for (const AddedToken &token : addedTokens)
    if (token.id >= nextId)
      nextId = token.id + 1;
  for (AddedToken &token : tokens) {
    if (token.content.empty())
      continue;
    if (std::optional<int32_t> id = tokenId(token.content))
      token.id = *id;
    else
      token.id = static_cast<int32_t>(nextId++);
    // Normalized tokens are searched for in normalized text.
    token.pattern = token.normalized ? normalize(token.content) : token.content;
    auto known = addedTokenIndex.find(token.content);
    if (known != addedTokenIndex.end()) {
      addedTokens[known->second] = std::move(token);
    } else {
      addedTokenIndex.emplace(token.content, addedTokens.size());
      addedTokens.push_back(std::move(token));
    }
  }

  size_t size = idToText.size();
  for (const AddedToken &token : addedTokens)
    size = std::max(size, static_cast<size_t>(token.id) + 1);
  idToText.resize(size);
  idFlags.resize(size, 0);
  // An added token reads as what it matches: normalized tokens decode in
  // their normalized form, as in `tokenizers`.
  for (const AddedToken &token : addedTokens) {
    idToText[token.id] = token.pattern;
    idFlags[token.id] = kKnownId;
  }
  // `tokenizers` skips special tokens by their text.
  std::unordered_set<std::string> specialContents;
  for (const AddedToken &token : addedTokens)
    if (token.special)
      specialContents.insert(token.content);
  for (size_t id = 0; id < size; ++id)
    if ((idFlags[id] & kKnownId) && specialContents.count(idToText[id]))
      idFlags[id] |= kSpecialId;

  std::vector<AddedTokenSplitter::Token> patterns;
  patterns.reserve(addedTokens.size());
  for (const AddedToken &token : addedTokens)
    patterns.push_back({token.pattern, token.id, token.singleWord,
                        token.stripLeft, token.stripRight, token.normalized});
  splitter.assign(std::move(patterns));
}

namespace {

/// Reads the BertNormalizer (alone, or the only step of a sequence).
Error readNormalizer(const json &root, const std::string &where, bool &present,
                     bool &clean, bool &chinese, bool &strip, bool &lower) {
  auto found = root.find("normalizer");
  present = false;
  if (found == root.end() || found->is_null())
    return Error::success();
  const json *normalizer = &*found;
  if (typeOf(*normalizer) == "Sequence") {
    auto steps = normalizer->find("normalizers");
    if (steps != normalizer->end() && steps->is_array() && steps->empty())
      return Error::success();
    if (steps != normalizer->end() && steps->is_array() && steps->size() == 1)
      normalizer = &(*steps)[0];
  }
  if (typeOf(*normalizer) != "BertNormalizer")
    return makeError(where, "normalizer: \"", typeOf(*normalizer),
                     "\" is not supported (expected BertNormalizer)");
  std::string field = where + "normalizer.";
  Expected<bool> cleanText = readBool(*normalizer, "clean_text", true, field);
  Expected<bool> chineseChars =
      readBool(*normalizer, "handle_chinese_chars", true, field);
  Expected<bool> lowercase = readBool(*normalizer, "lowercase", true, field);
  Expected<std::optional<bool>> stripAccents =
      readOptionalBool(*normalizer, "strip_accents", field);
  for (Expected<bool> *flag : {&cleanText, &chineseChars, &lowercase})
    if (!*flag)
      return flag->takeError();
  if (!stripAccents)
    return stripAccents.takeError();
  present = true;
  clean = *cleanText;
  chinese = *chineseChars;
  lower = *lowercase;
  strip = stripAccents->value_or(*lowercase);
  return Error::success();
}

/// Reads the BertPreTokenizer (alone, or the only step of a sequence).
Error readPreTokenizer(const json &root, const std::string &where,
                       bool &present) {
  auto found = root.find("pre_tokenizer");
  present = false;
  if (found == root.end() || found->is_null())
    return Error::success();
  const json *preTokenizer = &*found;
  if (typeOf(*preTokenizer) == "Sequence") {
    auto steps = preTokenizer->find("pretokenizers");
    if (steps != preTokenizer->end() && steps->is_array() && steps->size() == 1)
      preTokenizer = &(*steps)[0];
  }
  if (typeOf(*preTokenizer) != "BertPreTokenizer")
    return makeError(where, "pre_tokenizer: \"", typeOf(*preTokenizer),
                     "\" is not supported (expected BertPreTokenizer)");
  present = true;
  return Error::success();
}

} // namespace

Expected<WordPiece> WordPiece::fromTokenizerJson(std::string_view text,
                                                 const std::string &name) {
  try {
    Expected<json> parsed = parse(text, name);
    if (!parsed)
      return parsed.takeError();
    const json &root = *parsed;
    if (!root.is_object())
      return makeError(name, ": expected a JSON object, found ",
                       root.type_name());
    std::string where = name + ": ";

    auto modelIt = root.find("model");
    if (modelIt == root.end() || !modelIt->is_object())
      return makeError(where, "model: expected an object with a vocab");
    const json &model = *modelIt;
    std::string modelType = typeOf(model);
    if (!modelType.empty() && modelType != "WordPiece")
      return makeError(where, "model.type: expected \"WordPiece\", found \"",
                       modelType, "\"");

    WordPiece tokenizer;
    tokenizer.source = name;
    auto vocab = model.find("vocab");
    if (vocab == model.end() || !vocab->is_object())
      return makeError(where, "model.vocab: expected an object of token ids");
    tokenizer.vocab.reserve(vocab->size());
    for (const auto &[token, value] : vocab->items()) {
      int64_t id = -1;
      if (value.is_number_integer())
        id = value.get<int64_t>();
      if (id < 0 || id > kMaxTokenId)
        return makeError(where, "model.vocab: token '", printable(token),
                         "': expected an id in [0, ", kMaxTokenId, "], found ",
                         describe(value));
      tokenizer.vocab.emplace(token, static_cast<int32_t>(id));
    }
    if (Error error = checkIdsDense(tokenizer.vocab, where + "model.vocab: "))
      return error;
    std::string modelWhere = where + "model.";
    Expected<std::string> unk =
        readString(model, "unk_token", "[UNK]", modelWhere);
    if (!unk)
      return unk.takeError();
    Expected<std::string> prefix =
        readString(model, "continuing_subword_prefix", "##", modelWhere);
    if (!prefix)
      return prefix.takeError();
    tokenizer.unkToken = *unk;
    tokenizer.prefix = *prefix;
    auto maxChars = model.find("max_input_chars_per_word");
    if (maxChars != model.end() && !maxChars->is_null()) {
      if (!maxChars->is_number_unsigned())
        return makeError(modelWhere,
                         "max_input_chars_per_word: expected a "
                         "non-negative integer, found ",
                         describe(*maxChars));
      tokenizer.maxInputChars = maxChars->get<size_t>();
    }
    if (Error error = tokenizer.build())
      return makeError(where, "model.unk_token: \"", tokenizer.unkToken,
                       "\" is not in the vocab");

    NormalizerOptions &options = tokenizer.normalizer;
    if (Error error =
            readNormalizer(root, where, tokenizer.hasNormalizer,
                           options.cleanText, options.handleChineseChars,
                           options.stripAccents, options.lowercase))
      return error;
    if (Error error = readPreTokenizer(root, where, tokenizer.hasPreTokenizer))
      return error;

    auto decoder = root.find("decoder");
    if (decoder == root.end() || decoder->is_null()) {
      tokenizer.wordPieceDecoder = false;
    } else if (typeOf(*decoder) == "WordPiece") {
      std::string decoderWhere = where + "decoder.";
      Expected<std::string> decoderPrefix =
          readString(*decoder, "prefix", "##", decoderWhere);
      if (!decoderPrefix)
        return decoderPrefix.takeError();
      Expected<bool> cleanup =
          readBool(*decoder, "cleanup", true, decoderWhere);
      if (!cleanup)
        return cleanup.takeError();
      tokenizer.decoderPrefix = *decoderPrefix;
      tokenizer.decoderCleanup = *cleanup;
    } else {
      return makeError(where, "decoder: \"", typeOf(*decoder),
                       "\" is not supported (expected WordPiece)");
    }

    Expected<std::vector<AddedToken>> added =
        readAddedTokens<AddedToken>(root, where);
    if (!added)
      return added.takeError();
    tokenizer.addTokens(std::move(*added));
    return tokenizer;
  } catch (const std::exception &e) {
    // Only allocation failures or library surprises get here.
    return makeError(name, ": cannot load tokenizer: ", e.what());
  }
}

Expected<WordPiece> WordPiece::fromVocabTxt(std::string_view text,
                                            const std::string &name,
                                            const Options &options) {
  try {
    WordPiece tokenizer;
    tokenizer.source = name;
    // One token per line, id = line index; a later duplicate takes the
    // token, as in `tokenizers`.
    size_t lineStart = 0;
    for (int64_t index = 0; lineStart < text.size(); ++index) {
      size_t lineEnd = text.find('\n', lineStart);
      if (lineEnd == std::string_view::npos)
        lineEnd = text.size();
      std::string_view line = text.substr(lineStart, lineEnd - lineStart);
      lineStart = lineEnd + 1;
      if (index > kMaxTokenId)
        return makeError(name, ": more than ", kMaxTokenId + 1, " tokens");
      if (!isValidUtf8(line))
        return makeError(name, ": line ", index + 1, " is not valid UTF-8");
      // Rust's trim_end: trailing white space (and "\r") goes.
      while (!line.empty()) {
        size_t start;
        if (!isSpace(codepointBefore(line, line.size(), start)))
          break;
        line = line.substr(0, start);
      }
      tokenizer.vocab.insert_or_assign(std::string(line),
                                       static_cast<int32_t>(index));
    }
    if (tokenizer.vocab.empty())
      return makeError(name, ": no tokens");
    tokenizer.unkToken = options.unkToken;
    tokenizer.maxInputChars = options.maxInputCharsPerWord;
    if (Error error = tokenizer.build())
      return error;
    tokenizer.normalizer.cleanText = options.cleanText;
    tokenizer.normalizer.handleChineseChars = options.tokenizeChineseChars;
    tokenizer.normalizer.lowercase = options.lowercase;
    tokenizer.normalizer.stripAccents =
        options.stripAccents.value_or(options.lowercase);

    std::vector<AddedToken> specials;
    for (const std::string &content : options.specialTokens) {
      if (!tokenizer.vocab.count(content))
        continue;
      AddedToken token;
      token.content = content;
      token.special = true;
      specials.push_back(std::move(token));
    }
    tokenizer.addTokens(std::move(specials));
    return tokenizer;
  } catch (const std::exception &e) {
    return makeError(name, ": cannot load tokenizer: ", e.what());
  }
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

std::vector<int32_t> WordPiece::tokenize(std::string_view text) const {
  std::vector<int32_t> ids;
  // Normalizing also turns invalid UTF-8 into U+FFFD.
  splitter.split(
      text, [&](std::string_view raw) { return normalize(raw); },
      [&](int32_t id) { ids.push_back(id); },
      [&](std::string_view normalized) {
        tokenizeNormalized(normalized, ids);
      });
  return ids;
}

void WordPiece::tokenizeNormalized(std::string_view text,
                                   std::vector<int32_t> &ids) const {
  if (!hasPreTokenizer) {
    size_t chars = 0;
    for (char byte : text)
      chars += !isContinuationByte(byte);
    if (!text.empty())
      tokenizeWord(text, chars, ids);
    return;
  }
  // BertPreTokenizer: white space separates words and is dropped; each
  // punctuation character is a word of its own.
  size_t wordStart = 0;
  size_t wordChars = 0;
  auto endWord = [&](size_t end) {
    if (end > wordStart)
      tokenizeWord(text.substr(wordStart, end - wordStart), wordChars, ids);
    wordChars = 0;
  };
  for (size_t pos = 0; pos < text.size();) {
    size_t start = pos;
    uint32_t c = nextCodepoint(text, pos);
    if (isSpace(c)) {
      endWord(start);
      wordStart = pos;
    } else if (unicode::bertClassify(c) & unicode::kBertPunctuation) {
      endWord(start);
      tokenizeWord(text.substr(start, pos - start), 1, ids);
      wordStart = pos;
    } else {
      ++wordChars;
    }
  }
  endWord(text.size());
}

void WordPiece::tokenizeWord(std::string_view word, size_t chars,
                             std::vector<int32_t> &ids) const {
  if (chars > maxInputChars) {
    ids.push_back(unkId);
    return;
  }
  // Greedy longest match first; pieces after the first carry the prefix.
  size_t first = ids.size();
  std::string key;
  for (size_t start = 0; start < word.size();) {
    size_t end = std::min(word.size(), start + longestToken);
    while (end < word.size() && isContinuationByte(word[end]))
      --end;
    bool matched = false;
    while (end > start) {
      key.assign(start > 0 ? prefix : std::string());
      key.append(word.substr(start, end - start));
      auto it = vocab.find(key);
      if (it != vocab.end()) {
        ids.push_back(it->second);
        matched = true;
        break;
      }
      do
        --end;
      while (end > start && isContinuationByte(word[end]));
    }
    if (!matched) {
      // One unmatched part makes the whole word unknown.
      ids.resize(first);
      ids.push_back(unkId);
      return;
    }
    start = end;
  }
}

//===----------------------------------------------------------------------===//
// Decoding and lookups
//===----------------------------------------------------------------------===//

namespace {

void replaceAll(std::string &text, std::string_view from, std::string_view to) {
  if (text.find(from) == std::string::npos)
    return;
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = text.find(from, pos)) != std::string::npos;
       pos = hit + from.size()) {
    out.append(text, pos, hit - pos);
    out += to;
  }
  out.append(text, pos, std::string::npos);
  text.swap(out);
}

/// The decoder's cleanup of tokenization artifacts, in `tokenizers`' order.
void cleanup(std::string &token) {
  static const std::pair<std::string_view, std::string_view> kReplacements[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
      {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
      {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto &[from, to] : kReplacements)
    replaceAll(token, from, to);
}

} // namespace

std::string WordPiece::decode(const std::vector<int32_t> &ids,
                              bool skipSpecialTokens) const {
  std::string text;
  bool firstToken = true;
  for (int32_t id : ids) {
    if (!isKnownId(id) || (skipSpecialTokens && (idFlags[id] & kSpecialId)))
      continue;
    std::string token = idToText[id];
    if (!wordPieceDecoder) {
      // No decoder: `tokenizers` joins the tokens with spaces.
      if (!firstToken)
        text += ' ';
      text += token;
      firstToken = false;
      continue;
    }
    if (!firstToken) {
      if (token.compare(0, decoderPrefix.size(), decoderPrefix) == 0)
        token.erase(0, decoderPrefix.size());
      else
        token.insert(0, 1, ' ');
    }
    if (decoderCleanup)
      cleanup(token);
    text += token;
    firstToken = false;
  }
  return text;
}

bool WordPiece::isKnownId(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < idFlags.size() &&
         (idFlags[id] & kKnownId);
}

bool WordPiece::isSpecial(int32_t id) const {
  return isKnownId(id) && (idFlags[id] & kSpecialId);
}

std::optional<int32_t> WordPiece::tokenId(std::string_view token) const {
  std::string key(token);
  auto added = addedTokenIndex.find(key);
  if (added != addedTokenIndex.end())
    return addedTokens[added->second].id;
  auto it = vocab.find(key);
  if (it == vocab.end())
    return std::nullopt;
  return it->second;
}

std::optional<std::string_view> WordPiece::tokenText(int32_t id) const {
  if (!isKnownId(id))
    return std::nullopt;
  return std::string_view(idToText[id]);
}

size_t WordPiece::vocabSize() const { return idFlags.size(); }

} // namespace kiln
