//===- ByteLevelBpe.cpp - GPT-2 / RoBERTa / CLIP byte-level BPE -----------===//
//
// Behaviour follows the Hugging Face `tokenizers` library (the reference of
// the test fixtures), including its less obvious choices:
//  - added tokens are found as AddedTokenSplitter.h describes; the text
//    between them, normalized (CLIP) or not (GPT-2, RoBERTa), is searched for
//    the normalized ones;
//  - added token ids are those of the model vocab when it has the content,
//    else new ids from the vocab's entry count up (tokenizer.json's "id" is
//    not used, as in `tokenizers`);
//  - the prefix space goes in front of every stretch of text between added
//    tokens, not only in front of the whole text;
//  - merges are applied lowest rank first, leftmost first among equal ranks;
//  - with CLIP's Split pre-tokenizer the ByteLevel one still applies GPT-2's
//    regex to each piece (it only matters for "<|endoftext|>" written in the
//    text but not taken as an added token: "<|", "endoftext", "|>"); each of
//    those words gets the end-of-word suffix on its last byte.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/ByteLevelBpe.h"
#include "runtime/support/FileUtil.h"
#include "runtime/tokenizer/TokenizerJson.h"
#include "runtime/tokenizer/UnicodeTables.h"
#include "runtime/tokenizer/Utf8.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <queue>
#include <unordered_set>

namespace kiln {

using namespace tokenizer_json;

namespace {

using unicode::classify;
using unicode::kLetter;
using unicode::kNumber;
using unicode::kSpace;
using unicode::kWord;
using utf8::appendUtf8;
using utf8::charAt;
using utf8::charBefore;
using utf8::decodeUtf8;
using utf8::TextChar;
using utf8::Utf8Step;

/// Ids above this are refused: tables are indexed by id, and no real
/// vocabulary comes near it.
constexpr int64_t kMaxTokenId = (int64_t(1) << 24) - 1;
/// Words longer than this (bytes) are not cached: rare, and they would bloat
/// the cache.
constexpr size_t kMaxCachedWordBytes = 256;
/// The cache starts over when it holds this many words.
constexpr size_t kMaxCachedWords = 1 << 17;

constexpr char kReplacementCharacter[] = "\xEF\xBF\xBD"; // U+FFFD

enum IdFlags : uint8_t { kKnownId = 1, kSpecialId = 2 };

//===----------------------------------------------------------------------===//
// UTF-8
//===----------------------------------------------------------------------===//

/// Appends `bytes` as UTF-8, each maximal invalid subsequence replaced by one
/// U+FFFD (what Rust's String::from_utf8_lossy does). Stops before an
/// incomplete character at the end when `holdIncompleteTail` is set and
/// returns how many bytes were consumed.
size_t appendLossyUtf8(std::string_view bytes, bool holdIncompleteTail,
                       std::string &out) {
  const auto *data = reinterpret_cast<const unsigned char *>(bytes.data());
  size_t pos = 0;
  while (pos < bytes.size()) {
    // Copy runs of ASCII at once.
    size_t ascii = pos;
    while (ascii < bytes.size() && data[ascii] < 0x80)
      ++ascii;
    out.append(bytes.data() + pos, ascii - pos);
    pos = ascii;
    if (pos == bytes.size())
      break;
    Utf8Step step = decodeUtf8(data + pos, bytes.size() - pos);
    if (step.truncated && holdIncompleteTail)
      return pos;
    if (step.valid)
      out.append(bytes.data() + pos, step.length);
    else
      out += kReplacementCharacter;
    pos += step.length;
  }
  return pos;
}

//===----------------------------------------------------------------------===//
// GPT-2's byte alphabet
//===----------------------------------------------------------------------===//

/// GPT-2 spells every byte as one printable character so that vocab entries
/// are readable strings: printable Latin-1 bytes stand for themselves, the
/// others (controls, space, DEL, NBSP, soft hyphen) take U+0100 onwards in
/// byte order.
struct ByteAlphabet {
  std::array<std::string, 256> spelling;
  /// Byte spelled by code points below kCodepoints, or -1.
  static constexpr uint32_t kCodepoints = 0x100 + 68;
  std::array<int16_t, kCodepoints> byteOf;

  ByteAlphabet() {
    byteOf.fill(-1);
    uint32_t nextExtra = 0x100;
    for (int byte = 0; byte < 256; ++byte) {
      bool printable = (byte >= '!' && byte <= '~') ||
                       (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
      uint32_t codepoint = printable ? byte : nextExtra++;
      appendUtf8(codepoint, spelling[byte]);
      byteOf[codepoint] = static_cast<int16_t>(byte);
    }
  }

  /// The bytes a token stands for, as the ByteLevel decoder computes them:
  /// each character mapped back to its byte, or, when some character is not
  /// in the alphabet (added tokens such as " <mask>"), the token's own UTF-8.
  std::string bytesOf(std::string_view token) const {
    std::string out;
    const auto *data = reinterpret_cast<const unsigned char *>(token.data());
    for (size_t pos = 0; pos < token.size();) {
      Utf8Step step = decodeUtf8(data + pos, token.size() - pos);
      if (!step.valid || step.codepoint >= kCodepoints ||
          byteOf[step.codepoint] < 0)
        return std::string(token);
      out += static_cast<char>(byteOf[step.codepoint]);
      pos += step.length;
    }
    return out;
  }
};

const ByteAlphabet &byteAlphabet() {
  static const ByteAlphabet alphabet;
  return alphabet;
}

//===----------------------------------------------------------------------===//
// GPT-2's pre-tokenizer
//===----------------------------------------------------------------------===//

/// The three kinds of runs ` ?\p{L}+`, ` ?\p{N}+` and ` ?[^\s\p{L}\p{N}]+`
/// take, and white space, which ends them all.
enum class RunKind { Letter, Number, Other, Space };

RunKind runKind(uint8_t classes) {
  if (classes & kSpace)
    return RunKind::Space;
  if (classes & kLetter)
    return RunKind::Letter;
  if (classes & kNumber)
    return RunKind::Number;
  return RunKind::Other;
}

/// Length of the contraction ('s 't 're 've 'm 'll 'd, lower case only) at
/// `pos`, or 0.
size_t contractionLength(std::string_view text, size_t pos) {
  if (text[pos] != '\'' || pos + 1 >= text.size())
    return 0;
  char first = text[pos + 1];
  if (first == 's' || first == 't' || first == 'm' || first == 'd')
    return 2;
  if (pos + 2 >= text.size())
    return 0;
  char second = text[pos + 2];
  if ((first == 'r' && second == 'e') || (first == 'v' && second == 'e') ||
      (first == 'l' && second == 'l'))
    return 3;
  return 0;
}

/// Calls `emit(begin, end)` for each match of GPT-2's pre-tokenizer regex
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// in order. The matches tile the text: every byte is in one.
template <typename Emit> void splitPreTokens(std::string_view text, Emit emit) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (size_t length = contractionLength(text, pos)) {
      emit(pos, pos + length);
      pos += length;
      continue;
    }
    // The ` ?` of the three run alternatives takes one plain space only.
    TextChar lead = charAt(text, pos);
    size_t runStart = pos;
    if (text[pos] == ' ' && pos + 1 < text.size()) {
      TextChar next = charAt(text, pos + 1);
      if (!(next.classes & kSpace)) {
        lead = next;
        runStart = pos + 1;
      }
    }
    RunKind kind = runKind(lead.classes);
    if (kind != RunKind::Space) {
      size_t end = runStart + lead.length;
      while (end < text.size()) {
        TextChar c = charAt(text, end);
        if (runKind(c.classes) != kind)
          break;
        end += c.length;
      }
      emit(pos, end);
      pos = end;
      continue;
    }
    // White space: `\s+(?!\S)` backs off one character when a non-space
    // follows, so that the last space can lead the next word; a single
    // space before a non-space is left to `\s+`.
    size_t end = pos;
    size_t lastStart = pos;
    size_t count = 0;
    while (end < text.size()) {
      TextChar c = charAt(text, end);
      if (!(c.classes & kSpace))
        break;
      lastStart = end;
      end += c.length;
      ++count;
    }
    if (end < text.size() && count > 1)
      end = lastStart;
    emit(pos, end);
    pos = end;
  }
}

/// CLIP's split regex, whose matches are kept and the rest (white space)
/// removed, as its Split pre-tokenizer does.
constexpr const char kClipSplitRegex[] =
    "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|"
    "[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/// Calls `emit(begin, end)` for each match of CLIP's regex (kClipSplitRegex)
/// in order: the special tokens spelled out, contractions, letter runs,
/// single digits and runs of anything else but white space. White space
/// between matches is dropped.
template <typename Emit>
void splitClipPieces(std::string_view text, Emit emit) {
  static constexpr std::string_view kSpecials[] = {"<|startoftext|>",
                                                   "<|endoftext|>"};
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length = 0;
    for (std::string_view special : kSpecials)
      if (text.substr(pos, special.size()) == special)
        length = special.size();
    if (!length)
      length = contractionLength(text, pos);
    if (length) {
      emit(pos, pos + length);
      pos += length;
      continue;
    }
    TextChar lead = charAt(text, pos);
    RunKind kind = runKind(lead.classes);
    size_t end = pos + lead.length;
    if (kind == RunKind::Letter || kind == RunKind::Other) {
      // Greedy runs: an apostrophe inside a punctuation run stays there.
      while (end < text.size()) {
        TextChar c = charAt(text, end);
        if (runKind(c.classes) != kind)
          break;
        end += c.length;
      }
    }
    if (kind != RunKind::Space)
      emit(pos, end);
    pos = end;
  }
}

//===----------------------------------------------------------------------===//
// Loading helpers
//===----------------------------------------------------------------------===//

/// Reads a token id: a JSON integer in [0, kMaxTokenId].
std::optional<int32_t> readId(const json &value) {
  if (value.is_number_unsigned()) {
    uint64_t id = value.get<uint64_t>();
    if (id <= static_cast<uint64_t>(kMaxTokenId))
      return static_cast<int32_t>(id);
  } else if (value.is_number_integer()) {
    int64_t id = value.get<int64_t>();
    if (id >= 0 && id <= kMaxTokenId)
      return static_cast<int32_t>(id);
  }
  return std::nullopt;
}

/// Reads a JSON object of token -> id into `vocab`.
Error readVocab(const json &object, const std::string &where,
                std::unordered_map<std::string, int32_t> &vocab) {
  vocab.reserve(object.size());
  for (const auto &[token, value] : object.items()) {
    std::optional<int32_t> id = readId(value);
    if (!id)
      return makeError(where, "token '", printable(token),
                       "': expected an id in [0, ", kMaxTokenId, "], found ",
                       describe(value));
    vocab.emplace(token, *id);
  }
  return checkIdsDense(vocab, where);
}

/// Reads model.merges of a tokenizer.json: "a b" strings or [a, b] pairs.
Error readMerges(const json &model, const std::string &where,
                 std::vector<std::pair<std::string, std::string>> &pairs) {
  auto merges = model.find("merges");
  if (merges == model.end() || !merges->is_array())
    return makeError(where, "model.merges: expected an array");
  pairs.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const json &merge = (*merges)[i];
    std::string field = "model.merges[" + std::to_string(i) + "]";
    if (merge.is_string()) {
      // "a b": exactly one space, as `tokenizers` requires.
      const std::string &line = merge.get_ref<const std::string &>();
      size_t space = line.find(' ');
      if (space == std::string::npos ||
          line.find(' ', space + 1) != std::string::npos)
        return makeError(where, field,
                         ": expected two tokens separated by one space, "
                         "found ",
                         describe(merge));
      pairs.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      pairs.emplace_back(merge[0].get<std::string>(),
                         merge[1].get<std::string>());
    } else {
      return makeError(where, field,
                       ": expected \"a b\" or [\"a\", \"b\"], found ",
                       describe(merge));
    }
  }
  return Error::success();
}

/// Byte-level BPE takes the ByteLevel decoder (null decodes the same way
/// here).
Error checkDecoder(const json &root, const std::string &where) {
  auto decoder = root.find("decoder");
  if (decoder != root.end() && !decoder->is_null() &&
      typeOf(*decoder) != "ByteLevel")
    return makeError(where, "decoder: expected ByteLevel, found \"",
                     typeOf(*decoder), "\"");
  return Error::success();
}

/// Checks that a Split pre-tokenizer is CLIP's: its regex, matches kept.
Error checkClipSplit(const json &split, const std::string &where) {
  auto pattern = split.find("pattern");
  const json *regex = nullptr;
  if (pattern != split.end() && pattern->is_object()) {
    auto it = pattern->find("Regex");
    if (it != pattern->end() && it->is_string())
      regex = &*it;
  }
  if (!regex || *regex != kClipSplitRegex)
    return makeError(where, "pattern: only CLIP's regex ", kClipSplitRegex,
                     " is supported, found ",
                     pattern == split.end() ? "none" : describe(*pattern));
  Expected<std::string> behavior = readString(split, "behavior", "", where);
  if (!behavior)
    return behavior.takeError();
  Expected<bool> invert = readBool(split, "invert", false, where);
  if (!invert)
    return invert.takeError();
  if (*behavior != "Removed" || !*invert)
    return makeError(where,
                     "expected behavior \"Removed\" and invert true (keep "
                     "the matches), found \"",
                     *behavior, "\" and ", *invert ? "true" : "false");
  return Error::success();
}

/// Reads the ByteLevel pre-tokenizer, alone, as the only step of a
/// sequence, or after CLIP's Split. Its defaults are those of `tokenizers`.
Error readPreTokenizer(const json &root, const std::string &where,
                       bool &addPrefixSpace, bool &useRegex,
                       bool &splitLikeClip) {
  auto found = root.find("pre_tokenizer");
  if (found == root.end() || found->is_null())
    return makeError(where, "pre_tokenizer: missing; expected ByteLevel");
  const json *preTokenizer = &*found;
  std::string field = "pre_tokenizer";
  splitLikeClip = false;
  if (typeOf(*preTokenizer) == "Sequence") {
    auto steps = preTokenizer->find("pretokenizers");
    if (steps != preTokenizer->end() && steps->is_array() &&
        steps->size() == 2 && typeOf((*steps)[0]) == "Split") {
      if (Error error = checkClipSplit(
              (*steps)[0], where + "pre_tokenizer.pretokenizers[0]."))
        return error;
      splitLikeClip = true;
      preTokenizer = &(*steps)[1];
      field = "pre_tokenizer.pretokenizers[1]";
    } else if (steps != preTokenizer->end() && steps->is_array() &&
               steps->size() == 1) {
      preTokenizer = &(*steps)[0];
    }
  }
  if (typeOf(*preTokenizer) != "ByteLevel")
    return makeError(where, field, ": expected ByteLevel, found \"",
                     typeOf(*preTokenizer), "\"");
  Expected<bool> prefixSpace =
      readBool(*preTokenizer, "add_prefix_space", true, where + field + ".");
  if (!prefixSpace)
    return prefixSpace.takeError();
  Expected<bool> regex =
      readBool(*preTokenizer, "use_regex", true, where + field + ".");
  if (!regex)
    return regex.takeError();
  addPrefixSpace = *prefixSpace;
  useRegex = *regex;
  return Error::success();
}

/// The cls and sep tokens of a RobertaProcessing or BertProcessing
/// post-processor (["<s>", 0] pairs), nullopt for others or none.
std::optional<std::pair<std::string, std::string>>
readWrapTokens(const json &root) {
  auto processor = root.find("post_processor");
  if (processor == root.end() || (typeOf(*processor) != "RobertaProcessing" &&
                                  typeOf(*processor) != "BertProcessing"))
    return std::nullopt;
  auto tokenOf = [&](const char *field) -> std::optional<std::string> {
    auto it = processor->find(field);
    if (it == processor->end() || !it->is_array() || it->empty() ||
        !(*it)[0].is_string())
      return std::nullopt;
    return (*it)[0].get<std::string>();
  };
  std::optional<std::string> cls = tokenOf("cls"), sep = tokenOf("sep");
  if (!cls || !sep)
    return std::nullopt;
  return std::make_pair(*cls, *sep);
}

bool isFile(const std::string &path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path, error);
}

} // namespace

//===----------------------------------------------------------------------===//
// ByteLevelBpe
//===----------------------------------------------------------------------===//

/// Never a key: ids stay below 2^24.
constexpr uint64_t kNoKey = ~uint64_t(0);

size_t ByteLevelBpe::MergeTable::slotOf(uint64_t key) const {
  // Fibonacci hashing: the high bits of the product are well mixed.
  uint64_t mixed = key * 0x9E3779B97F4A7C15ull;
  return static_cast<size_t>(mixed >> 32) & (slots.size() - 1);
}

void ByteLevelBpe::MergeTable::reserve(size_t count) {
  size_t size = 16;
  while (size < 2 * count)
    size *= 2;
  if (size <= slots.size())
    return;
  std::vector<Slot> old = std::move(slots);
  slots.assign(size, Slot{kNoKey, {}});
  used = 0;
  for (const Slot &slot : old)
    if (slot.key != kNoKey)
      insertOrAssign(slot.key, slot.merge);
}

void ByteLevelBpe::MergeTable::insertOrAssign(uint64_t key, Merge merge) {
  reserve(used + 1);
  for (size_t i = slotOf(key);; i = (i + 1) & (slots.size() - 1)) {
    if (slots[i].key == key) {
      slots[i].merge = merge;
      return;
    }
    if (slots[i].key == kNoKey) {
      slots[i] = {key, merge};
      ++used;
      return;
    }
  }
}

const ByteLevelBpe::Merge *ByteLevelBpe::MergeTable::find(uint64_t key) const {
  if (slots.empty())
    return nullptr;
  for (size_t i = slotOf(key);; i = (i + 1) & (slots.size() - 1)) {
    if (slots[i].key == key)
      return &slots[i].merge;
    if (slots[i].key == kNoKey)
      return nullptr;
  }
}

/// Merged ids of recently seen words, keyed by their bytes. Guarded so that
/// encode() stays safe to call from several threads.
struct ByteLevelBpe::WordCache {
  std::mutex mutex;
  std::unordered_map<std::string, std::vector<int32_t>> words;
};

ByteLevelBpe::ByteLevelBpe() : cache(std::make_unique<WordCache>()) {
  byteTokenIds.fill(-1);
}
ByteLevelBpe::ByteLevelBpe(ByteLevelBpe &&) noexcept = default;
ByteLevelBpe &ByteLevelBpe::operator=(ByteLevelBpe &&) noexcept = default;
ByteLevelBpe::~ByteLevelBpe() = default;

Error ByteLevelBpe::build(
    const std::vector<std::pair<std::string, std::string>> &mergePairs,
    const std::function<std::string(size_t)> &mergeWhere) {
  int32_t largestId = -1;
  for (const auto &[token, id] : vocab)
    largestId = std::max(largestId, id);
  idToText.assign(static_cast<size_t>(largestId) + 1, std::string());
  idFlags.assign(idToText.size(), 0);
  // Several tokens may share an id; keep the smallest string so that the
  // choice does not depend on hash order.
  for (const auto &[token, id] : vocab) {
    if (!(idFlags[id] & kKnownId) || token < idToText[id])
      idToText[id] = token;
    idFlags[id] = kKnownId;
  }

  const ByteAlphabet &alphabet = byteAlphabet();
  for (int byte = 0; byte < 256; ++byte) {
    auto it = vocab.find(alphabet.spelling[byte]);
    byteTokenIds[byte] = it == vocab.end() ? -1 : it->second;
    it = vocab.find(alphabet.spelling[byte] + wordSuffix);
    lastByteTokenIds[byte] = it == vocab.end() ? -1 : it->second;
  }

  merges.reserve(mergePairs.size());
  std::string merged;
  for (size_t rank = 0; rank < mergePairs.size(); ++rank) {
    const auto &[left, right] = mergePairs[rank];
    auto leftIt = vocab.find(left);
    if (leftIt == vocab.end())
      return makeError(mergeWhere(rank), ": token '", printable(left),
                       "' is not in the vocab");
    auto rightIt = vocab.find(right);
    if (rightIt == vocab.end())
      return makeError(mergeWhere(rank), ": token '", printable(right),
                       "' is not in the vocab");
    merged = left;
    merged += right;
    auto mergedIt = vocab.find(merged);
    if (mergedIt == vocab.end())
      return makeError(mergeWhere(rank), ": merged token '", printable(merged),
                       "' is not in the vocab");
    // A repeated pair keeps its last rank, as in `tokenizers`.
    merges.insertOrAssign(mergeKey(leftIt->second, rightIt->second),
                          {static_cast<uint32_t>(rank), mergedIt->second});
  }
  return Error::success();
}

void ByteLevelBpe::addTokens(std::vector<AddedToken> tokens) {
  // New ids follow the vocab's entry count, or the largest added id when it
  // is already past that (the rule of `tokenizers`).
  int64_t nextId = static_cast<int64_t>(vocab.size());
  if (!addedTokens.empty()) {
    int64_t largestAdded = 0;
    for (const AddedToken &token : addedTokens)
      largestAdded = std::max<int64_t>(largestAdded, token.id);
    if (largestAdded >= nextId || vocab.empty())
      nextId = largestAdded + 1;
  }
  for (AddedToken &token : tokens) {
    if (token.content.empty())
      continue;
    if (std::optional<int32_t> id = tokenId(token.content)) {
      token.id = *id;
    } else {
      token.id = static_cast<int32_t>(nextId++);
    }
    auto known = addedTokenIndex.find(token.content);
    if (known != addedTokenIndex.end()) {
      addedTokens[known->second] = token;
    } else {
      addedTokenIndex.emplace(token.content, addedTokens.size());
      addedTokens.push_back(token);
    }
  }

  // Per-id tables: added tokens take precedence over the vocab.
  size_t size = idToText.size();
  for (const AddedToken &token : addedTokens)
    size = std::max(size, static_cast<size_t>(token.id) + 1);
  idToText.resize(size);
  idFlags.resize(size, 0);
  for (const AddedToken &token : addedTokens) {
    idToText[token.id] = token.content;
    idFlags[token.id] = kKnownId;
  }
  // `tokenizers` skips by content: any id spelled like a special token.
  std::unordered_set<std::string> specialContents;
  for (const AddedToken &token : addedTokens)
    if (token.special)
      specialContents.insert(token.content);
  if (!specialContents.empty())
    for (size_t id = 0; id < size; ++id)
      if ((idFlags[id] & kKnownId) && specialContents.count(idToText[id]))
        idFlags[id] |= kSpecialId;

  const ByteAlphabet &alphabet = byteAlphabet();
  idToBytes.assign(size, std::string());
  for (size_t id = 0; id < size; ++id)
    if (idFlags[id] & kKnownId)
      idToBytes[id] = alphabet.bytesOf(idToText[id]);

  std::vector<AddedTokenSplitter::Token> patterns;
  patterns.reserve(addedTokens.size());
  // Normalized tokens are searched for in normalized text, by their
  // normalized content.
  for (const AddedToken &token : addedTokens)
    patterns.push_back(
        {token.normalized ? normalizer.apply(token.content) : token.content,
         token.id, token.singleWord, token.stripLeft, token.stripRight,
         token.normalized});
  splitter.assign(std::move(patterns));
  cache->words.clear();
}

Expected<ByteLevelBpe>
ByteLevelBpe::fromTokenizerJson(std::string_view text,
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

    // model
    auto modelIt = root.find("model");
    if (modelIt == root.end() || !modelIt->is_object())
      return makeError(where, "model: expected an object with vocab and "
                              "merges");
    const json &model = *modelIt;
    std::string modelType = typeOf(model);
    if (!modelType.empty() && modelType != "BPE")
      return makeError(where, "model.type: expected \"BPE\", found \"",
                       modelType, "\"");
    auto prefix = model.find("continuing_subword_prefix");
    if (prefix != model.end() && !prefix->is_null() &&
        !(prefix->is_string() && prefix->get<std::string>().empty()))
      return makeError(where,
                       "model.continuing_subword_prefix: ", describe(*prefix),
                       " is not supported by byte-level BPE");
    Expected<std::string> suffix =
        readString(model, "end_of_word_suffix", "", where + "model.");
    if (!suffix)
      return suffix.takeError();
    auto dropout = model.find("dropout");
    if (dropout != model.end() && !dropout->is_null() &&
        !(dropout->is_number() && dropout->get<double>() == 0.0))
      return makeError(where, "model.dropout: ", describe(*dropout),
                       " is not supported (BPE dropout is for training)");

    ByteLevelBpe tokenizer;
    tokenizer.source = name;
    tokenizer.wordSuffix = *suffix;
    auto vocab = model.find("vocab");
    if (vocab == model.end() || !vocab->is_object())
      return makeError(where, "model.vocab: expected an object of token ids");
    if (Error error =
            readVocab(*vocab, where + "model.vocab: ", tokenizer.vocab))
      return error;
    std::vector<std::pair<std::string, std::string>> mergePairs;
    if (Error error = readMerges(model, where, mergePairs))
      return error;
    if (Error error = tokenizer.build(mergePairs, [&](size_t rank) {
          return where + "model.merges[" + std::to_string(rank) + "]";
        }))
      return error;

    Expected<bool> ignoreMerges =
        readBool(model, "ignore_merges", false, where + "model.");
    Expected<bool> fuseUnknown =
        readBool(model, "fuse_unk", false, where + "model.");
    Expected<bool> byteFallback =
        readBool(model, "byte_fallback", false, where + "model.");
    for (Expected<bool> *flag : {&ignoreMerges, &fuseUnknown, &byteFallback})
      if (!*flag)
        return flag->takeError();
    tokenizer.ignoreMerges = *ignoreMerges;
    tokenizer.fuseUnknown = *fuseUnknown;
    auto unknown = model.find("unk_token");
    if (unknown != model.end() && !unknown->is_null()) {
      if (!unknown->is_string())
        return makeError(where, "model.unk_token: expected a string, found ",
                         describe(*unknown));
      // `tokenizers` only fails when an unknown character shows up; without
      // the token in the vocab such characters are dropped here.
      auto it = tokenizer.vocab.find(unknown->get<std::string>());
      if (it != tokenizer.vocab.end())
        tokenizer.unknownId = it->second;
    }
    if (*byteFallback)
      for (int byte = 0; byte < 256; ++byte)
        if (tokenizer.byteTokenIds[byte] < 0)
          return makeError(where,
                           "model.byte_fallback: not supported when the "
                           "vocab lacks byte tokens (byte ",
                           byte, ")");

    if (Error error = checkDecoder(root, where))
      return error;
    auto normalizer = root.find("normalizer");
    if (normalizer != root.end()) {
      Expected<TextNormalizer> steps =
          TextNormalizer::fromJson(*normalizer, where);
      if (!steps)
        return steps.takeError();
      tokenizer.normalizer = std::move(*steps);
    }
    if (Error error =
            readPreTokenizer(root, where, tokenizer.alwaysAddPrefixSpace,
                             tokenizer.splitWithRegex, tokenizer.splitLikeClip))
      return error;
    tokenizer.wrapTokens = readWrapTokens(root);

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

Expected<ByteLevelBpe> ByteLevelBpe::fromVocabAndMerges(
    std::string_view vocabJson, std::string_view mergesText,
    const std::string &vocabName, const std::string &mergesName,
    const std::vector<std::string> &extraSpecialTokens) {
  try {
    Expected<json> parsed = parse(vocabJson, vocabName);
    if (!parsed)
      return parsed.takeError();
    if (!parsed->is_object())
      return makeError(vocabName,
                       ": expected a JSON object of token ids, found ",
                       parsed->type_name());
    ByteLevelBpe tokenizer;
    tokenizer.source = vocabName;
    if (Error error = readVocab(*parsed, vocabName + ": ", tokenizer.vocab))
      return error;

    // merges.txt: one "a b" per line, an optional "#version" line, ranks in
    // file order.
    std::vector<std::pair<std::string, std::string>> mergePairs;
    std::vector<size_t> lineNumbers;
    size_t lineStart = 0;
    for (size_t lineNumber = 1; lineStart < mergesText.size(); ++lineNumber) {
      size_t lineEnd = mergesText.find('\n', lineStart);
      if (lineEnd == std::string_view::npos)
        lineEnd = mergesText.size();
      std::string_view line = mergesText.substr(lineStart, lineEnd - lineStart);
      lineStart = lineEnd + 1;
      if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
      if (line.empty() || line.substr(0, 8) == "#version")
        continue;
      size_t space = line.find(' ');
      if (space == std::string_view::npos ||
          line.find(' ', space + 1) != std::string_view::npos)
        return makeError(mergesName, ": line ", lineNumber,
                         ": expected two tokens separated by one space, "
                         "found '",
                         printable(line), "'");
      mergePairs.emplace_back(std::string(line.substr(0, space)),
                              std::string(line.substr(space + 1)));
      lineNumbers.push_back(lineNumber);
    }
    if (Error error = tokenizer.build(mergePairs, [&](size_t rank) {
          return mergesName + ": line " + std::to_string(lineNumbers[rank]);
        }))
      return error;

    // Specials: <|...|> entries of the vocab (in id order), then the extras.
    std::vector<std::pair<int32_t, std::string>> marked;
    for (const auto &[token, id] : tokenizer.vocab)
      if (token.size() > 4 && token.compare(0, 2, "<|") == 0 &&
          token.compare(token.size() - 2, 2, "|>") == 0)
        marked.emplace_back(id, token);
    std::sort(marked.begin(), marked.end());
    std::vector<AddedToken> specials;
    auto addSpecial = [&](const std::string &content) {
      AddedToken token;
      token.content = content;
      token.special = true;
      specials.push_back(std::move(token));
    };
    for (const auto &[id, token] : marked)
      addSpecial(token);
    for (const std::string &token : extraSpecialTokens)
      addSpecial(token);
    tokenizer.addTokens(std::move(specials));
    return tokenizer;
  } catch (const std::exception &e) {
    return makeError(vocabName, ": cannot load tokenizer: ", e.what());
  }
}

Expected<ByteLevelBpe> ByteLevelBpe::fromFiles(
    const std::vector<std::pair<std::string, std::string_view>> &files) {
  if (files.size() == 1)
    return fromTokenizerJson(files[0].second, files[0].first);
  auto isText = [](const std::string &name) {
    return name.size() >= 4 && name.compare(name.size() - 4, 4, ".txt") == 0;
  };
  if (files.size() != 2 || isText(files[0].first) == isText(files[1].first))
    return makeError("expected the tokenizer files tokenizer.json, or "
                     "vocab.json and merges.txt");
  size_t merges = isText(files[0].first) ? 0 : 1;
  const auto &vocab = files[1 - merges];
  return fromVocabAndMerges(vocab.second, files[merges].second, vocab.first,
                            files[merges].first);
}

Expected<ByteLevelBpe> ByteLevelBpe::fromFolder(const std::string &folder) {
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error))
    return makeError(folder, ": no such folder");
  std::string tokenizerJson = folder + "/tokenizer.json";
  if (isFile(tokenizerJson)) {
    Expected<std::string> text = readFileBytes(tokenizerJson);
    if (!text)
      return text.takeError();
    return fromTokenizerJson(*text, tokenizerJson);
  }
  std::string vocabPath = folder + "/vocab.json";
  std::string mergesPath = folder + "/merges.txt";
  bool haveVocab = isFile(vocabPath), haveMerges = isFile(mergesPath);
  if (!haveVocab || !haveMerges)
    return makeError(folder, ": no tokenizer.json, and ",
                     haveVocab    ? "merges.txt is missing next to vocab.json"
                     : haveMerges ? "vocab.json is missing next to merges.txt"
                                  : "no vocab.json + merges.txt either");
  Expected<std::string> vocabText = readFileBytes(vocabPath);
  if (!vocabText)
    return vocabText.takeError();
  Expected<std::string> mergesText = readFileBytes(mergesPath);
  if (!mergesText)
    return mergesText.takeError();
  return fromVocabAndMerges(*vocabText, *mergesText, vocabPath, mergesPath);
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

std::vector<int32_t> ByteLevelBpe::encode(std::string_view text,
                                          bool addPrefixSpace) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);
  bool prefixSpace = addPrefixSpace || alwaysAddPrefixSpace;
  if (addedTokens.empty()) {
    if (normalizer.empty())
      encodeText(text, prefixSpace, ids);
    else
      encodeText(normalizer.apply(text), prefixSpace, ids);
    return ids;
  }
  AddedTokenSplitter::Normalizer normalize;
  if (!normalizer.empty())
    normalize = [&](std::string_view piece) { return normalizer.apply(piece); };
  splitter.split(
      text, normalize, [&](int32_t id) { ids.push_back(id); },
      [&](std::string_view piece) { encodeText(piece, prefixSpace, ids); });
  return ids;
}

void ByteLevelBpe::encodeText(std::string_view text, bool prefixSpace,
                              std::vector<int32_t> &ids) const {
  if (!splitLikeClip)
    return encodePiece(text, prefixSpace, ids);
  splitClipPieces(text, [&](size_t begin, size_t end) {
    encodePiece(text.substr(begin, end - begin), prefixSpace, ids);
  });
}

void ByteLevelBpe::encodePiece(std::string_view text, bool prefixSpace,
                               std::vector<int32_t> &ids) const {
  if (text.empty())
    return;
  std::string withSpace;
  if (prefixSpace && text[0] != ' ') {
    withSpace.reserve(text.size() + 1);
    withSpace += ' ';
    withSpace += text;
    text = withSpace;
  }
  if (!splitWithRegex) {
    encodeWord(text, ids);
    return;
  }
  splitPreTokens(text, [&](size_t begin, size_t end) {
    encodeWord(text.substr(begin, end - begin), ids);
  });
}

void ByteLevelBpe::encodeWord(std::string_view word,
                              std::vector<int32_t> &ids) const {
  if (ignoreMerges) {
    // Llama-3 style: a word that is a token is not split at all (looked up
    // without the end-of-word suffix, as `tokenizers` does).
    std::string spelled;
    for (char byte : word)
      spelled += byteAlphabet().spelling[static_cast<unsigned char>(byte)];
    auto it = vocab.find(spelled);
    if (it != vocab.end()) {
      ids.push_back(it->second);
      return;
    }
  }
  if (word.size() == 1 &&
      lastByteTokenIds[static_cast<unsigned char>(word[0])] >= 0) {
    ids.push_back(lastByteTokenIds[static_cast<unsigned char>(word[0])]);
    return;
  }
  bool cacheable = word.size() <= kMaxCachedWordBytes;
  std::string key;
  if (cacheable) {
    key.assign(word);
    std::lock_guard<std::mutex> lock(cache->mutex);
    auto it = cache->words.find(key);
    if (it != cache->words.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  size_t first = ids.size();
  mergeWord(word, ids);
  if (cacheable) {
    std::vector<int32_t> merged(ids.begin() + first, ids.end());
    std::lock_guard<std::mutex> lock(cache->mutex);
    if (cache->words.size() >= kMaxCachedWords)
      cache->words.clear();
    cache->words.emplace(std::move(key), std::move(merged));
  }
}

void ByteLevelBpe::mergeWord(std::string_view word,
                             std::vector<int32_t> &ids) const {
  // The word's symbols as a linked list over an array; merging keeps the
  // left symbol's slot, so slot order is text order.
  struct Symbol {
    int32_t id; // -1 once merged into its left neighbour
    int32_t prev;
    int32_t next;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  auto append = [&](int32_t id) {
    int32_t index = static_cast<int32_t>(symbols.size());
    if (index > 0)
      symbols.back().next = index;
    symbols.push_back({id, index - 1, -1});
  };
  bool lastWasUnknown = false;
  for (size_t i = 0; i < word.size(); ++i) {
    auto byte = static_cast<unsigned char>(word[i]);
    int32_t id =
        i + 1 < word.size() ? byteTokenIds[byte] : lastByteTokenIds[byte];
    if (id >= 0) {
      append(id);
      lastWasUnknown = false;
    } else if (unknownId) {
      // Bytes without a token become the unknown token, one per run when
      // fuse_unk is set; with no unknown token they are dropped.
      if (!(fuseUnknown && lastWasUnknown))
        append(*unknownId);
      lastWasUnknown = true;
    }
  }

  struct Candidate {
    uint32_t rank;
    int32_t left; // slot of the pair's left symbol
    int32_t mergedId;
  };
  // Lowest rank first; among equal ranks, the leftmost pair.
  auto later = [](const Candidate &a, const Candidate &b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> queue(
      later);
  auto considerPair = [&](int32_t left) {
    int32_t right = symbols[left].next;
    if (right < 0)
      return;
    if (const Merge *merge =
            merges.find(mergeKey(symbols[left].id, symbols[right].id)))
      queue.push({merge->rank, left, merge->mergedId});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i)
    considerPair(i);

  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol &left = symbols[top.left];
    if (left.id < 0 || left.next < 0)
      continue;
    // Skip stale candidates: the pair here has changed since.
    Symbol &right = symbols[left.next];
    const Merge *merge = merges.find(mergeKey(left.id, right.id));
    if (!merge || merge->mergedId != top.mergedId)
      continue;
    left.id = top.mergedId;
    right.id = -1;
    left.next = right.next;
    if (right.next >= 0)
      symbols[right.next].prev = top.left;
    if (left.prev >= 0)
      considerPair(left.prev);
    considerPair(top.left);
  }
  for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next)
    ids.push_back(symbols[i].id);
}

//===----------------------------------------------------------------------===//
// Decoding and lookups
//===----------------------------------------------------------------------===//

bool ByteLevelBpe::isKnownId(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < idFlags.size() &&
         (idFlags[id] & kKnownId);
}

Error ByteLevelBpe::unknownIdError(int32_t id, size_t position) const {
  return makeError(source, ": decode: id ", id, " at position ", position,
                   " is not a token (vocab size ", vocabSize(), ")");
}

Expected<std::string> ByteLevelBpe::decode(const std::vector<int32_t> &ids,
                                           bool skipSpecialTokens) const {
  std::string bytes;
  for (size_t i = 0; i < ids.size(); ++i) {
    int32_t id = ids[i];
    if (!isKnownId(id))
      return unknownIdError(id, i);
    if (skipSpecialTokens && (idFlags[id] & kSpecialId))
      continue;
    bytes += idToBytes[id];
  }
  std::string text;
  text.reserve(bytes.size());
  appendLossyUtf8(bytes, /*holdIncompleteTail=*/false, text);
  return text;
}

std::optional<int32_t> ByteLevelBpe::tokenId(std::string_view token) const {
  std::string key(token);
  auto added = addedTokenIndex.find(key);
  if (added != addedTokenIndex.end())
    return addedTokens[added->second].id;
  auto it = vocab.find(key);
  if (it == vocab.end())
    return std::nullopt;
  return it->second;
}

std::optional<std::string_view> ByteLevelBpe::tokenText(int32_t id) const {
  if (!isKnownId(id))
    return std::nullopt;
  return std::string_view(idToText[id]);
}

size_t ByteLevelBpe::vocabSize() const { return idFlags.size(); }

//===----------------------------------------------------------------------===//
// BpeStreamDecoder
//===----------------------------------------------------------------------===//

BpeStreamDecoder::BpeStreamDecoder(const ByteLevelBpe &tokenizer)
    : tokenizer(tokenizer) {}

Expected<std::string> BpeStreamDecoder::push(int32_t id) {
  if (!tokenizer.isKnownId(id))
    return tokenizer.unknownIdError(id, pushed);
  ++pushed;
  pending += tokenizer.idToBytes[id];
  // Each step of lossy decoding depends only on the bytes it consumes and
  // the one after them, so decoding all but an incomplete tail now gives
  // exactly what decoding everything at the end would.
  std::string text;
  size_t consumed = appendLossyUtf8(pending, /*holdIncompleteTail=*/true, text);
  pending.erase(0, consumed);
  return text;
}

std::string BpeStreamDecoder::flush() {
  std::string text;
  appendLossyUtf8(pending, /*holdIncompleteTail=*/false, text);
  pending.clear();
  pushed = 0;
  return text;
}

} // namespace kiln
