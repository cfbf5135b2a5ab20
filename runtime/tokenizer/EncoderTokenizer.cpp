//===- EncoderTokenizer.cpp - BERT / RoBERTa / CLIP tokenizers ------------===//
//
// Loads the tokenizer named by the model metadata and adds the special tokens
// as `tokenizers`' post-processors do (TemplateProcessing / BertProcessing
// for BERT, RobertaProcessing for RoBERTa and CLIP).
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/EncoderTokenizer.h"
#include "runtime/tokenizer/ByteLevelBpe.h"
#include "runtime/tokenizer/TokenizerJson.h"
#include "runtime/tokenizer/UnicodeTables.h"
#include "runtime/tokenizer/Utf8.h"
#include "runtime/tokenizer/WordPiece.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace kiln {

using namespace tokenizer_json;

namespace {

/// The prefix of metadata errors: the fields live in the "tokenizer" object.
constexpr const char *kWhere = "model metadata: tokenizer.";

using FileLookup =
    std::function<std::optional<std::string_view>(std::string_view)>;

struct SpecialTokens {
  std::string cls, sep, mask, pad, unk;
  /// Whether "special_tokens" named cls and sep (bos and eos for CLIP).
  bool clsGiven = false, sepGiven = false;
};

/// CLIP calls the tokens around a text bos and eos, and has no mask.
bool isClipKind(const std::string &kind) { return kind == "clip_bpe"; }

Expected<SpecialTokens> readSpecialTokens(const json &metadata,
                                          SpecialTokens tokens, bool clip) {
  auto it = metadata.find("special_tokens");
  if (it == metadata.end() || it->is_null())
    return tokens;
  if (!it->is_object())
    return makeError(kWhere, "special_tokens: expected an object, found ",
                     describe(*it));
  std::string where = std::string(kWhere) + "special_tokens.";
  std::pair<const char *, std::string *> fields[] = {
      {clip ? "bos" : "cls", &tokens.cls},
      {clip ? "eos" : "sep", &tokens.sep},
      {clip ? nullptr : "mask", &tokens.mask},
      {"pad", &tokens.pad},
      {"unk", &tokens.unk}};
  for (auto &[field, value] : fields) {
    if (!field)
      continue;
    Expected<std::string> text = readString(*it, field, *value, where);
    if (!text)
      return text.takeError();
    *value = *text;
  }
  tokens.clsGiven = it->contains(clip ? "bos" : "cls");
  tokens.sepGiven = it->contains(clip ? "eos" : "sep");
  return tokens;
}

/// The file names of "files", each with its bytes.
struct NamedFile {
  std::string name;
  std::string_view bytes;
};

Expected<std::vector<NamedFile>> readFiles(const json &metadata,
                                           const FileLookup &file) {
  auto it = metadata.find("files");
  if (it == metadata.end() || !it->is_array() || it->empty())
    return makeError(kWhere, "files: expected a non-empty array of file "
                             "names");
  std::vector<NamedFile> files;
  for (size_t i = 0; i < it->size(); ++i) {
    const json &entry = (*it)[i];
    if (!entry.is_string())
      return makeError(kWhere, "files[", i, "]: expected a file name, found ",
                       describe(entry));
    std::string name = entry.get<std::string>();
    std::optional<std::string_view> bytes = file ? file(name) : std::nullopt;
    if (!bytes)
      return makeError(kWhere, "files[", i, "]: ", name,
                       ": no such file in the model");
    files.push_back({name, *bytes});
  }
  return files;
}

/// Each end-of-word suffix ("</w>") as a space, as CLIP's decoding does.
std::string replaceWordSuffix(std::string text, const std::string &suffix) {
  if (suffix.empty())
    return text;
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (size_t found; (found = text.find(suffix, pos)) != std::string::npos;
       pos = found + suffix.size()) {
    out.append(text, pos, found - pos);
    out += ' ';
  }
  out.append(text, pos, std::string::npos);
  return out;
}

/// Python's str.strip(): white space (str.isspace) removed at both ends.
std::string stripWhiteSpace(const std::string &text) {
  auto spaceAt = [&](size_t pos, size_t &length) {
    utf8::Utf8Step step = utf8::decodeUtf8(
        reinterpret_cast<const unsigned char *>(text.data()) + pos,
        text.size() - pos);
    length = step.length;
    return step.valid &&
           ((unicode::classify(step.codepoint) & unicode::kSpace) ||
            (step.codepoint >= 0x1C && step.codepoint <= 0x1F));
  };
  size_t begin = 0, length = 0;
  while (begin < text.size() && spaceAt(begin, length))
    begin += length;
  size_t end = begin;
  // The end of the last character that is not white space.
  for (size_t pos = begin; pos < text.size(); pos += length)
    if (!spaceAt(pos, length))
      end = pos + length;
  return text.substr(begin, end - begin);
}

bool endsWith(const std::string &text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The file's base name, without folders.
std::string baseName(const std::string &path) {
  size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Expected<WordPiece> loadWordPiece(const json &metadata,
                                  const std::vector<NamedFile> &files,
                                  const SpecialTokens &specials) {
  // A tokenizer.json carries its own settings.
  for (const NamedFile &file : files)
    if (endsWith(file.name, ".json"))
      return WordPiece::fromTokenizerJson(file.bytes, file.name);

  WordPiece::Options options;
  Expected<bool> lowercase =
      readBool(metadata, "lowercase", options.lowercase, kWhere);
  Expected<bool> chinese = readBool(metadata, "tokenize_chinese_chars",
                                    options.tokenizeChineseChars, kWhere);
  Expected<bool> clean =
      readBool(metadata, "clean_text", options.cleanText, kWhere);
  for (Expected<bool> *flag : {&lowercase, &chinese, &clean})
    if (!*flag)
      return flag->takeError();
  Expected<std::optional<bool>> strip =
      readOptionalBool(metadata, "strip_accents", kWhere);
  if (!strip)
    return strip.takeError();
  auto maxChars = metadata.find("max_input_chars_per_word");
  if (maxChars != metadata.end() && !maxChars->is_null()) {
    if (!maxChars->is_number_unsigned())
      return makeError(kWhere,
                       "max_input_chars_per_word: expected a "
                       "non-negative integer, found ",
                       describe(*maxChars));
    options.maxInputCharsPerWord = maxChars->get<size_t>();
  }
  options.lowercase = *lowercase;
  options.tokenizeChineseChars = *chinese;
  options.cleanText = *clean;
  options.stripAccents = *strip;
  options.unkToken = specials.unk;
  // The order of `tokenizers.BertWordPieceTokenizer`.
  options.specialTokens = {specials.unk, specials.sep, specials.cls,
                           specials.pad, specials.mask};
  return WordPiece::fromVocabTxt(files[0].bytes, files[0].name, options);
}

/// The "model" of a tokenizer.json made from vocab.json and merges.txt:
/// {"type": "BPE", "vocab": ..., "merges": [...]}.
Expected<json> bpeModelFromFiles(const NamedFile &vocabFile,
                                 const NamedFile &mergesFile) {
  Expected<json> vocab = parse(vocabFile.bytes, vocabFile.name);
  if (!vocab)
    return vocab.takeError();
  if (!vocab->is_object())
    return makeError(vocabFile.name,
                     ": expected a JSON object of token ids, found ",
                     vocab->type_name());
  json merges = json::array();
  std::string_view text = mergesFile.bytes;
  for (size_t lineStart = 0; lineStart < text.size();) {
    size_t lineEnd = std::min(text.find('\n', lineStart), text.size());
    std::string_view line = text.substr(lineStart, lineEnd - lineStart);
    lineStart = lineEnd + 1;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty() || line.substr(0, 8) == "#version")
      continue;
    merges.push_back(std::string(line));
  }
  return json{{"type", "BPE"},
              {"vocab", std::move(*vocab)},
              {"merges", std::move(merges)}};
}

/// The special tokens as special added tokens, each once, in order; the
/// one equal to `lstripToken` (RoBERTa's mask) takes the space before it.
json specialAddedTokens(std::initializer_list<const std::string *> tokens,
                        const std::string *lstripToken) {
  json added = json::array();
  std::vector<std::string> seen;
  for (const std::string *token : tokens) {
    if (token->empty() ||
        std::find(seen.begin(), seen.end(), *token) != seen.end())
      continue;
    seen.push_back(*token);
    added.push_back({{"content", *token},
                     {"special", true},
                     {"normalized", false},
                     {"single_word", false},
                     {"lstrip", token == lstripToken},
                     {"rstrip", false}});
  }
  return added;
}

/// Loads the tokenizer.json `root` made from the two files; when it fails,
/// the direct loader's error, which names lines of merges.txt.
Expected<ByteLevelBpe> loadMadeTokenizerJson(const json &root,
                                             const NamedFile &vocabFile,
                                             const NamedFile &mergesFile) {
  std::string name = vocabFile.name + " + " + mergesFile.name;
  Expected<ByteLevelBpe> tokenizer = ByteLevelBpe::fromTokenizerJson(
      root.dump(-1, ' ', false, json::error_handler_t::replace), name);
  if (tokenizer)
    return tokenizer;
  Expected<ByteLevelBpe> direct = ByteLevelBpe::fromVocabAndMerges(
      vocabFile.bytes, mergesFile.bytes, vocabFile.name, mergesFile.name);
  return direct ? tokenizer.takeError() : direct.takeError();
}

/// vocab.json + merges.txt as the tokenizer.json `tokenizers` would make of
/// them for RoBERTa, so that the special tokens get their flags (the mask
/// takes the white space before it).
Expected<ByteLevelBpe> loadVocabAndMerges(const NamedFile &vocabFile,
                                          const NamedFile &mergesFile,
                                          const SpecialTokens &specials,
                                          bool addPrefixSpace) {
  Expected<json> model = bpeModelFromFiles(vocabFile, mergesFile);
  if (!model)
    return model.takeError();
  json root = {{"model", std::move(*model)},
               {"pre_tokenizer",
                {{"type", "ByteLevel"},
                 {"add_prefix_space", addPrefixSpace},
                 {"use_regex", true}}},
               {"decoder", {{"type", "ByteLevel"}}},
               {"added_tokens",
                specialAddedTokens({&specials.cls, &specials.pad, &specials.sep,
                                    &specials.unk, &specials.mask},
                                   &specials.mask)}};
  return loadMadeTokenizerJson(root, vocabFile, mergesFile);
}

/// vocab.json + merges.txt as the tokenizer.json that `transformers`'
/// CLIPTokenizer makes of them: CLIP's normalizer and split, the "</w>"
/// end-of-word suffix, the unknown token, and the special tokens as special
/// added tokens matched in the raw text.
Expected<ByteLevelBpe> loadClipVocabAndMerges(const NamedFile &vocabFile,
                                              const NamedFile &mergesFile,
                                              const SpecialTokens &specials) {
  Expected<json> model = bpeModelFromFiles(vocabFile, mergesFile);
  if (!model)
    return model.takeError();
  (*model)["end_of_word_suffix"] = "</w>";
  (*model)["unk_token"] = specials.unk.empty() ? json() : json(specials.unk);
  json root = {
      {"model", std::move(*model)},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "NFC"}},
          {{"type", "Replace"},
           {"pattern", {{"Regex", "\\s+"}}},
           {"content", " "}},
          {{"type", "Lowercase"}}}}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern",
            {{"Regex", "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|"
                       "'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|"
                       "[^\\s\\p{L}\\p{N}]+"}}},
           {"behavior", "Removed"},
           {"invert", true}},
          {{"type", "ByteLevel"},
           {"add_prefix_space", false},
           {"use_regex", true}}}}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"added_tokens", specialAddedTokens({&specials.cls, &specials.sep,
                                           &specials.unk, &specials.pad},
                                          nullptr)}};
  return loadMadeTokenizerJson(root, vocabFile, mergesFile);
}

Expected<ByteLevelBpe> loadByteLevelBpe(const std::vector<NamedFile> &files,
                                        const SpecialTokens &specials,
                                        bool addPrefixSpace, bool clip) {
  for (const NamedFile &file : files)
    if (baseName(file.name) == "tokenizer.json")
      return ByteLevelBpe::fromTokenizerJson(file.bytes, file.name);
  if (files.size() == 1)
    return ByteLevelBpe::fromTokenizerJson(files[0].bytes, files[0].name);
  if (files.size() == 2) {
    // merges.txt is the text file, vocab.json the other.
    bool firstIsMerges = endsWith(files[0].name, ".txt");
    const NamedFile &merges = files[firstIsMerges ? 0 : 1];
    const NamedFile &vocab = files[firstIsMerges ? 1 : 0];
    if (endsWith(merges.name, ".txt") && !endsWith(vocab.name, ".txt"))
      return clip ? loadClipVocabAndMerges(vocab, merges, specials)
                  : loadVocabAndMerges(vocab, merges, specials, addPrefixSpace);
  }
  return makeError(kWhere,
                   "files: expected tokenizer.json, or vocab.json and "
                   "merges.txt, for ",
                   clip ? "clip_bpe" : "byte_level_bpe");
}

} // namespace

Expected<EncoderTokenizer> EncoderTokenizer::create(const json &metadata,
                                                    const FileLookup &file) {
  try {
    if (!metadata.is_object())
      return makeError("model metadata: tokenizer: expected an object, found ",
                       describe(metadata));
    Expected<std::string> kindName = readString(metadata, "kind", "", kWhere);
    if (!kindName)
      return kindName.takeError();
    EncoderTokenizer tokenizer;
    SpecialTokens defaults;
    if (*kindName == "wordpiece") {
      tokenizer.kind = Kind::WordPiece;
      defaults = {"[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]"};
    } else if (*kindName == "byte_level_bpe") {
      tokenizer.kind = Kind::ByteLevelBpe;
      defaults = {"<s>", "</s>", "<mask>", "<pad>", "<unk>"};
    } else if (isClipKind(*kindName)) {
      tokenizer.kind = Kind::ClipBpe;
      // CLIPTokenizer's: the end of text also pads and stands for unknown
      // characters; no mask.
      defaults = {"<|startoftext|>", "<|endoftext|>", "", "<|endoftext|>",
                  "<|endoftext|>"};
    } else {
      return makeError(kWhere,
                       "kind: expected \"wordpiece\", \"byte_level_bpe\" or "
                       "\"clip_bpe\", found ",
                       describe(metadata.value("kind", json())));
    }
    bool clip = tokenizer.kind == Kind::ClipBpe;
    Expected<SpecialTokens> specials =
        readSpecialTokens(metadata, defaults, clip);
    if (!specials)
      return specials.takeError();
    Expected<std::vector<NamedFile>> files = readFiles(metadata, file);
    if (!files)
      return files.takeError();

    std::string source;
    if (tokenizer.kind == Kind::WordPiece) {
      Expected<WordPiece> loaded = loadWordPiece(metadata, *files, *specials);
      if (!loaded)
        return loaded.takeError();
      tokenizer.wordPiece =
          std::make_shared<const WordPiece>(std::move(*loaded));
    } else {
      Expected<bool> prefixSpace =
          readBool(metadata, "add_prefix_space", false, kWhere);
      if (!prefixSpace)
        return prefixSpace.takeError();
      tokenizer.addPrefixSpace = *prefixSpace;
      Expected<ByteLevelBpe> loaded =
          loadByteLevelBpe(*files, *specials, *prefixSpace, clip);
      if (!loaded)
        return loaded.takeError();
      tokenizer.bpe = std::make_shared<const ByteLevelBpe>(std::move(*loaded));
      // CLIP: a tokenizer.json's post-processor names the tokens around a
      // text, unless the metadata does.
      if (clip && tokenizer.bpe->postProcessorTokens()) {
        const auto &[first, last] = *tokenizer.bpe->postProcessorTokens();
        if (!specials->clsGiven)
          specials->cls = first;
        if (!specials->sepGiven)
          specials->sep = last;
      }
    }
    auto maxLength = metadata.find("model_max_length");
    if (maxLength != metadata.end() && !maxLength->is_null()) {
      if (!maxLength->is_number_integer() || maxLength->get<int64_t>() <= 0)
        return makeError(kWhere,
                         "model_max_length: expected a positive integer, "
                         "found ",
                         describe(*maxLength));
      tokenizer.maxLength = maxLength->get<size_t>();
    }
    for (const NamedFile &named : *files)
      source += (source.empty() ? "" : " + ") + named.name;

    // The special tokens the encodings need.
    std::pair<const char *, const std::string *> required[] = {
        {clip ? "bos" : "cls", &specials->cls},
        {clip ? "eos" : "sep", &specials->sep},
        {"pad", &specials->pad}};
    int32_t *ids[] = {&tokenizer.clsId, &tokenizer.sepId,
                      &tokenizer.padTokenId};
    for (size_t i = 0; i < 3; ++i) {
      std::optional<int32_t> id = tokenizer.tokenId(*required[i].second);
      if (!id)
        return makeError(kWhere, "special_tokens.", required[i].first, ": \"",
                         *required[i].second, "\" is not a token of ", source);
      *ids[i] = *id;
    }
    tokenizer.maskTokenText = specials->mask;
    tokenizer.maskTokenId = tokenizer.tokenId(specials->mask);
    return tokenizer;
  } catch (const std::exception &e) {
    return makeError("model metadata: tokenizer: ", e.what());
  }
}

std::vector<int32_t> EncoderTokenizer::tokenize(std::string_view text) const {
  if (kind == Kind::WordPiece)
    return wordPiece->tokenize(text);
  return bpe->encode(text, addPrefixSpace);
}

std::optional<std::string_view> EncoderTokenizer::tokenText(int32_t id) const {
  return kind == Kind::WordPiece ? wordPiece->tokenText(id)
                                 : bpe->tokenText(id);
}

std::optional<int32_t> EncoderTokenizer::tokenId(std::string_view token) const {
  return kind == Kind::WordPiece ? wordPiece->tokenId(token)
                                 : bpe->tokenId(token);
}

void EncoderTokenizer::append(EncodedText &out, int32_t id,
                              int32_t typeId) const {
  out.ids.push_back(id);
  out.typeIds.push_back(typeId);
  out.tokens.emplace_back(tokenText(id).value_or(std::string_view()));
}

EncodedText EncoderTokenizer::encode(std::string_view text) const {
  EncodedText out;
  append(out, clsId, 0);
  for (int32_t id : tokenize(text))
    append(out, id, 0);
  append(out, sepId, 0);
  return out;
}

EncodedText EncoderTokenizer::encodePair(std::string_view first,
                                         std::string_view second) const {
  EncodedText out = encode(first);
  // BERT: [SEP] b [SEP] of type 1 after [CLS] a [SEP]; RoBERTa and CLIP
  // (RobertaProcessing): </s> b </s>, all of type 0.
  int32_t secondType = kind == Kind::WordPiece ? 1 : 0;
  if (kind != Kind::WordPiece)
    append(out, sepId, 0);
  for (int32_t id : tokenize(second))
    append(out, id, secondType);
  append(out, sepId, secondType);
  return out;
}

std::optional<int32_t> EncoderTokenizer::maskId() const { return maskTokenId; }

const std::string &EncoderTokenizer::maskToken() const { return maskTokenText; }

int32_t EncoderTokenizer::padId() const { return padTokenId; }

int32_t EncoderTokenizer::bosId() const { return clsId; }

int32_t EncoderTokenizer::eosId() const { return sepId; }

std::optional<size_t> EncoderTokenizer::modelMaxLength() const {
  return maxLength;
}

std::string EncoderTokenizer::displayToken(int32_t id) const {
  if (kind == Kind::WordPiece)
    return std::string(wordPiece->tokenText(id).value_or(std::string_view()));
  Expected<std::string> text = bpe->decode({id});
  if (!text)
    return std::string();
  if (kind == Kind::ClipBpe)
    return replaceWordSuffix(std::move(*text), bpe->endOfWordSuffix());
  return std::move(*text);
}

std::string EncoderTokenizer::decode(const std::vector<int32_t> &ids) const {
  if (kind == Kind::WordPiece)
    return wordPiece->decode(ids, /*skipSpecialTokens=*/true);
  // `tokenizers` skips ids it does not know; ByteLevelBpe refuses them.
  std::vector<int32_t> known;
  known.reserve(ids.size());
  for (int32_t id : ids)
    if (bpe->tokenText(id))
      known.push_back(id);
  Expected<std::string> text = bpe->decode(known, /*skipSpecialTokens=*/true);
  if (!text)
    return std::string();
  if (kind != Kind::ClipBpe)
    return std::move(*text);
  // What transformers' CLIPTokenizer does after the ByteLevel decoder.
  return stripWhiteSpace(
      replaceWordSuffix(std::move(*text), bpe->endOfWordSuffix()));
}

size_t EncoderTokenizer::vocabSize() const {
  return kind == Kind::WordPiece ? wordPiece->vocabSize() : bpe->vocabSize();
}

} // namespace kiln
