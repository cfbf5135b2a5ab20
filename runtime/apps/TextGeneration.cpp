//===- TextGeneration.cpp - The command line of text generators -----------===//

#include "runtime/apps/TextGeneration.h"
#include "runtime/apps/CommandLine.h"
#include "runtime/support/Npy.h"
#include "runtime/session/Signature.h"
#include "runtime/support/Tensor.h"
#include "runtime/threads/ThreadPool.h"
#include "runtime/apps/Sampling.h"
#include "runtime/tokenizer/ByteLevelBpe.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace kiln {

namespace {

constexpr int64_t kDefaultNewTokens = 40;
constexpr int64_t kMaxNewTokens = 1000000000;
constexpr int64_t kMaxTopK = 1000000000;

struct Options : AppOptions {
  bool help = false;
  std::optional<std::string> prompt;
  std::optional<std::string> ids;
  /// -1: until eos or the context is full.
  int64_t maxNewTokens = kDefaultNewTokens;
  SamplingOptions sampling;
  bool topKGiven = false, topPGiven = false;
  std::optional<uint64_t> seed;
  /// Generation does not stop at an end-of-text token.
  bool ignoreEos = false;
  std::optional<std::string> logitsPath;
  std::optional<std::string> stepLogitsPath;
};

Expected<Options> parseOptions(int argc, char **argv) {
  Options options;
  ArgumentScanner args(argc, argv, /*positionals=*/true);
  while (args.next()) {
    // References into the scanner: `value` is what takeValue took.
    const std::string &arg = args.arg(), &flag = args.flag(),
                      &value = args.value();
    if (args.positional()) {
      if (options.prompt)
        return makeError("unexpected argument '", arg,
                         "': the prompt is "
                         "already given (quote a prompt that has spaces)");
      options.prompt = arg;
      continue;
    }
    if (flag == "--help" || flag == "-h") {
      if (Error e = args.noValue())
        return e;
      options.help = true;
    } else if (flag == "--prompt" || flag == "-p") {
      if (Error e = args.takeValue())
        return e;
      if (options.prompt)
        return makeError("the prompt is given twice");
      options.prompt = value;
    } else if (flag == "-n" || flag == "--max-new-tokens") {
      if (Error e = args.takeValue())
        return e;
      std::optional<int64_t> n = parseInteger(value, 0, kMaxNewTokens);
      if (value == "-1")
        n = -1;
      if (!n)
        return makeError(flag, " expects a number of new tokens from 0 to ",
                         kMaxNewTokens,
                         " (or -1: until the end of the "
                         "context), got '",
                         value, "'");
      options.maxNewTokens = *n;
    } else if (flag == "--temperature") {
      if (Error e = args.takeValue())
        return e;
      std::optional<double> t = parseNumber(value);
      if (!t || *t < 0)
        return makeError("--temperature expects a number >= 0, got '", value,
                         "'");
      options.sampling.temperature = *t;
    } else if (flag == "--top-k") {
      if (Error e = args.takeValue())
        return e;
      std::optional<int64_t> k = parseInteger(value, 0, kMaxTopK);
      if (!k)
        return makeError("--top-k expects an integer >= 0 (0: off), got '",
                         value, "'");
      options.sampling.topK = *k;
      options.topKGiven = true;
    } else if (flag == "--top-p") {
      if (Error e = args.takeValue())
        return e;
      std::optional<double> p = parseNumber(value);
      if (!p || *p < 0 || *p > 1)
        return makeError("--top-p expects a number from 0 to 1 (1: off), got '",
                         value, "'");
      options.sampling.topP = *p;
      options.topPGiven = true;
    } else if (flag == "--seed") {
      if (Error e = args.takeValue())
        return e;
      std::optional<uint64_t> seed = parseUnsigned(value);
      if (!seed)
        return makeError("--seed expects an integer from 0 to ", UINT64_MAX,
                         ", got '", value, "'");
      options.seed = *seed;
    } else if (flag == "--ignore-eos") {
      if (Error e = args.noValue())
        return e;
      options.ignoreEos = true;
    } else if (flag == "--ids") {
      if (Error e = args.takeValue())
        return e;
      options.ids = value;
    } else if (flag == "--logits") {
      if (Error e = args.takeValue())
        return e;
      if (value.empty())
        return makeError("--logits expects a .npy file name, got ''");
      options.logitsPath = value;
    } else if (flag == "--step-logits") {
      if (Error e = args.takeValue())
        return e;
      if (value.empty())
        return makeError("--step-logits expects a .npy file name, got ''");
      options.stepLogitsPath = value;
    } else if (std::optional<Error> common = args.takeAppOption(options)) {
      if (*common)
        return std::move(*common);
    } else {
      return makeError("unknown argument '", arg,
                       "' (see --help; put a prompt that starts with '-' "
                       "after --)");
    }
  }
  if (options.prompt && options.ids)
    return makeError("give either a prompt or --ids, not both");
  return options;
}

/// What the compiler records about a causal language model.
struct Metadata {
  std::string family;
  int64_t contextLength = 0;
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  /// Generation stops at any of these (eos_token_id may be a list).
  std::vector<int32_t> eosTokenIds;
  std::optional<int32_t> bosTokenId;
  /// Ascending, without duplicates.
  std::vector<int64_t> prefillLengths;
  std::vector<std::string> tokenizerFiles;
};

Expected<Metadata> parseMetadata(const std::string &text) {
  const char *prefix = "model metadata: ";
  nlohmann::json root = nlohmann::json::parse(text, nullptr, false);
  if (!root.is_object())
    return makeError(prefix, "expected a JSON object");
  Metadata metadata;
  auto positive = [&](const char *key, int64_t &value) -> Error {
    auto it = root.find(key);
    if (it == root.end() || !it->is_number_integer() ||
        it->get<int64_t>() <= 0 || it->get<int64_t>() > INT32_MAX)
      return makeError(prefix, "'", key, "' must be a positive integer");
    value = it->get<int64_t>();
    return Error::success();
  };
  if (Error e = positive("context_length", metadata.contextLength))
    return e;
  if (Error e = positive("vocab_size", metadata.vocabSize))
    return e;
  if (Error e = positive("hidden_size", metadata.hiddenSize))
    return e;
  // A token id, null, or (eos_token_id only) a list of token ids.
  auto tokenIds = [&](const char *key, bool allowList,
                      std::vector<int32_t> &ids) -> Error {
    auto it = root.find(key);
    if (it == root.end() || it->is_null())
      return Error::success();
    std::vector<nlohmann::json> items;
    if (allowList && it->is_array())
      items.assign(it->begin(), it->end());
    else
      items.push_back(*it);
    for (const nlohmann::json &item : items) {
      if (!item.is_number_integer() || item.get<int64_t>() < 0 ||
          item.get<int64_t>() >= metadata.vocabSize)
        return makeError(prefix, "'", key, "' must be a token id below ",
                         metadata.vocabSize,
                         allowList ? ", a list of them" : "",
                         " or null, found ", it->dump());
      ids.push_back(static_cast<int32_t>(item.get<int64_t>()));
    }
    return Error::success();
  };
  if (Error e = tokenIds("eos_token_id", true, metadata.eosTokenIds))
    return e;
  std::vector<int32_t> bos;
  if (Error e = tokenIds("bos_token_id", false, bos))
    return e;
  if (!bos.empty())
    metadata.bosTokenId = bos.front();
  auto familyIt = root.find("family");
  if (familyIt != root.end() && familyIt->is_string())
    metadata.family = familyIt->get<std::string>();

  auto lengthsIt = root.find("prefill_lengths");
  if (lengthsIt == root.end() || !lengthsIt->is_array() || lengthsIt->empty())
    return makeError(prefix, "'prefill_lengths' must be a non-empty array");
  for (const nlohmann::json &length : *lengthsIt) {
    if (!length.is_number_integer() || length.get<int64_t>() <= 0 ||
        length.get<int64_t>() > metadata.contextLength)
      return makeError(prefix,
                       "'prefill_lengths' must hold integers from 1 to the "
                       "context length ",
                       metadata.contextLength, ", found ", length.dump());
    metadata.prefillLengths.push_back(length.get<int64_t>());
  }
  std::sort(metadata.prefillLengths.begin(), metadata.prefillLengths.end());
  metadata.prefillLengths.erase(std::unique(metadata.prefillLengths.begin(),
                                            metadata.prefillLengths.end()),
                                metadata.prefillLengths.end());

  auto tokenizerIt = root.find("tokenizer");
  if (tokenizerIt == root.end() || !tokenizerIt->is_object())
    return makeError(prefix, "'tokenizer' must be an object");
  auto kindIt = tokenizerIt->find("kind");
  if (kindIt == tokenizerIt->end() || !kindIt->is_string())
    return makeError(prefix, "'tokenizer.kind' must be a string");
  if (*kindIt != "byte_level_bpe")
    return makeError(prefix, "unsupported tokenizer kind '",
                     kindIt->get<std::string>(),
                     "' (this runtime knows byte_level_bpe)");
  auto filesIt = tokenizerIt->find("files");
  if (filesIt == tokenizerIt->end() || !filesIt->is_array())
    return makeError(prefix, "'tokenizer.files' must be an array");
  for (const nlohmann::json &file : *filesIt) {
    if (!file.is_string())
      return makeError(prefix, "'tokenizer.files' must hold file names");
    metadata.tokenizerFiles.push_back(file.get<std::string>());
  }
  bool single = metadata.tokenizerFiles.size() == 1;
  bool pair = metadata.tokenizerFiles.size() == 2;
  if (!single && !pair)
    return makeError(prefix, "'tokenizer.files' must name tokenizer.json, or "
                             "vocab.json and merges.txt");
  return metadata;
}

std::string prefillEntry(int64_t length) {
  return "prefill_" + std::to_string(length);
}

Error checkEntries(const ModelSignature &signature, const Metadata &metadata) {
  int64_t d = metadata.hiddenSize, v = metadata.vocabSize;
  for (int64_t b : metadata.prefillLengths)
    if (Error e = checkEntryArgs(
            signature, "text-generation", prefillEntry(b),
            {{{"ids", ArgRole::Input, DType::I64, {1, b}}},
             {{"hidden", ArgRole::Output, DType::F32, {1, b, d}}}}))
      return e;
  if (Error e = checkEntryArgs(
          signature, "text-generation", "decode",
          {{{"ids", ArgRole::Input, DType::I64, {1, 1}}},
           {{"position", ArgRole::Input, DType::I64, {1, 1}}},
           {{"hidden", ArgRole::Output, DType::F32, {1, 1, d}}}}))
    return e;
  return checkEntryArgs(signature, "text-generation", "lm_head",
                        {{{"hidden", ArgRole::Input, DType::F32, {1, d}}},
                         {{"logits", ArgRole::Output, DType::F32, {1, v}}}});
}

Expected<ByteLevelBpe> loadTokenizer(const ModelSymbols &model,
                                     const Metadata &metadata) {
  std::vector<std::pair<std::string, std::string_view>> files;
  for (const std::string &name : metadata.tokenizerFiles) {
    std::optional<std::string_view> file = findEmbeddedFile(model, name);
    if (!file)
      return makeError("the tokenizer file '", name,
                       "' is not embedded in the executable");
    files.emplace_back(name, *file);
  }
  return ByteLevelBpe::fromFiles(files);
}

/// Parses --ids: decimal token ids separated by spaces or commas.
Expected<std::vector<int32_t>> parseIds(const std::string &text,
                                        int64_t vocabSize) {
  std::vector<int32_t> ids;
  size_t i = 0;
  auto isSeparator = [](char c) {
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
  };
  while (i < text.size()) {
    if (isSeparator(text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && !isSeparator(text[end]))
      ++end;
    std::string item = text.substr(i, end - i);
    std::optional<int64_t> id = parseInteger(item, 0, INT64_MAX / 10);
    if (!id)
      return makeError("--ids: '", item, "' is not a token id");
    if (*id >= vocabSize)
      return makeError("--ids: token id ", *id,
                       " is out of range (the model's vocabulary has ",
                       vocabSize, " tokens)");
    ids.push_back(static_cast<int32_t>(*id));
    i = end;
  }
  if (ids.empty())
    return makeError("--ids expects token ids separated by spaces or commas, "
                     "got '",
                     text, "'");
  return ids;
}

/// The prompt's token ids: --ids, the encoded prompt, or the BOS token.
/// With --truncate, a prompt that leaves no room for the new tokens keeps
/// its last tokens, as many as fit with them (at least one).
Expected<std::vector<int32_t>> promptTokens(const Options &options,
                                            const Metadata &metadata,
                                            const ByteLevelBpe &tokenizer) {
  const int64_t context = metadata.contextLength;
  const int64_t vocab = metadata.vocabSize;
  std::vector<int32_t> ids;
  if (options.ids) {
    Expected<std::vector<int32_t>> parsed = parseIds(*options.ids, vocab);
    if (!parsed)
      return parsed.takeError();
    ids = std::move(*parsed);
  } else if (options.prompt && !options.prompt->empty()) {
    ids = tokenizer.encode(*options.prompt);
    for (int32_t id : ids)
      if (id < 0 || id >= vocab)
        return makeError("the prompt has token id ", id,
                         ", outside the model's vocabulary of ", vocab,
                         " tokens");
  }
  if (ids.empty()) {
    if (!metadata.bosTokenId)
      return makeError("the prompt is empty and the model has no "
                       "bos_token_id to start from; give a prompt or --ids");
    ids.push_back(*metadata.bosTokenId);
  }
  if (static_cast<int64_t>(ids.size()) > context && !options.truncate)
    return makeError("prompt has ", ids.size(),
                     " tokens but the model's context is ", context,
                     " tokens (use --truncate to keep the last tokens)");
  if (options.truncate) {
    int64_t room = options.maxNewTokens < 0 ? 0 : options.maxNewTokens;
    int64_t keep = std::max<int64_t>(1, context - room);
    if (static_cast<int64_t>(ids.size()) > keep)
      ids.erase(ids.begin(), ids.end() - keep);
  }
  return ids;
}

void printUsage(const std::string &program, const Metadata &metadata,
                const ModelSymbols &model, std::ostream &out) {
  out << "usage: " << program
      << " [PROMPT] [-n N] [--temperature T] [--top-k K] [--top-p P]\n"
         "       [--seed S] [--ignore-eos] [--ids \"ID ...\"] "
         "[--logits FILE.npy]\n"
         "       [--step-logits FILE.npy] [--threads N] [--bench] [--json] "
         "[--truncate]\n"
         "       [--weights FILE]... [--help]\n\n";
  out << "Continues PROMPT with the compiled "
      << (metadata.family.empty() ? "language" : metadata.family)
      << " model (context " << metadata.contextLength << " tokens, vocabulary "
      << metadata.vocabSize
      << ").\nPrints only the new text, as it is generated.\n\n";
  out << "options:\n"
         "  PROMPT, -p, --prompt TEXT  text to continue (default: start "
         "from the\n"
         "                             beginning-of-text token)\n"
         "  -n, --max-new-tokens N     number of new tokens (default: "
      << kDefaultNewTokens
      << "; 0: only run\n"
         "                             the prompt; -1: until the context is "
         "full)\n"
         "  --temperature T            0 (default): greedy; > 0: sample from\n"
         "                             softmax(logits / T)\n"
         "  --top-k K                  sample among the K most likely tokens "
         "(0: all)\n"
         "  --top-p P                  sample among the fewest most likely "
         "tokens whose\n"
         "                             probabilities sum to P (1: all)\n"
         "  --seed S                   random seed for sampling (default: "
         "random)\n"
         "  --ignore-eos               do not stop at the end-of-text token: "
         "generate\n"
         "                             exactly N tokens (unless the context "
         "is full)\n"
         "  --ids \"ID ...\"             the prompt as token ids (spaces or "
         "commas)\n"
         "  --logits FILE.npy          write the prompt's logits, f32 "
         "[tokens, vocab]\n"
         "  --step-logits FILE.npy     write the logits each new token was "
         "chosen from,\n"
         "                             f32 [steps, vocab] (an end-of-text "
         "choice included)\n"
         "  --truncate                 drop the start of a prompt that "
         "leaves no room\n"
         "                             for the new tokens in the "
      << metadata.contextLength
      << "-token context\n"
         "  --threads N                number of threads (default: "
      << ThreadPool::defaultNumThreads()
      << ")\n"
         "  --bench                    report prefill (after one untimed "
         "warm-up\n"
         "                             prefill) and decode speed on stderr\n"
         "  --json                     print one JSON object instead of the "
         "text\n"
         "  --weights FILE             safetensors file holding the weights "
         "(repeat for\n"
         "                             sharded checkpoints)\n"
         "  --help                     print this help\n\n";
  out << "weights: " << describeWeightsSource(model) << "\n";
}

enum class Stop { Length, Eos, Context };

const char *stopName(Stop stop) {
  switch (stop) {
  case Stop::Length:
    return "length";
  case Stop::Eos:
    return "eos";
  case Stop::Context:
    return "context";
  }
  return "?";
}

/// The entries of a text-generation model bound to their buffers: prefill
/// for one bucket, decode and lm_head.
class LanguageModel {
public:
  static Expected<LanguageModel>
  bind(Session &session, const Metadata &metadata, int64_t bucket) {
    LanguageModel lm;
    lm.hiddenSize = metadata.hiddenSize;
    lm.vocabSize = metadata.vocabSize;
    const int64_t d = metadata.hiddenSize;
    for (auto [tensor, dtype, shape] :
         {std::make_tuple(&lm.prefillIds, DType::I64, Shape{1, bucket}),
          std::make_tuple(&lm.prefillOut, DType::F32, Shape{1, bucket, d}),
          std::make_tuple(&lm.decodeIds, DType::I64, Shape{1, 1}),
          std::make_tuple(&lm.decodePosition, DType::I64, Shape{1, 1}),
          std::make_tuple(&lm.decodeOut, DType::F32, Shape{1, 1, d}),
          std::make_tuple(&lm.lmInput, DType::F32, Shape{1, d}),
          std::make_tuple(&lm.lmOutput, DType::F32,
                          Shape{1, metadata.vocabSize})}) {
      Expected<Tensor> allocated = Tensor::allocate(dtype, shape);
      if (!allocated)
        return allocated.takeError();
      *tensor = std::move(*allocated);
    }
    Expected<BoundCall> prefill =
        session.bind(prefillEntry(bucket), {{"ids", lm.prefillIds.view()}},
                     {{"hidden", lm.prefillOut.view()}});
    if (!prefill)
      return prefill.takeError();
    Expected<BoundCall> decode = session.bind(
        "decode",
        {{"ids", lm.decodeIds.view()}, {"position", lm.decodePosition.view()}},
        {{"hidden", lm.decodeOut.view()}});
    if (!decode)
      return decode.takeError();
    Expected<BoundCall> head =
        session.bind("lm_head", {{"hidden", lm.lmInput.view()}},
                     {{"logits", lm.lmOutput.view()}});
    if (!head)
      return head.takeError();
    // lm_head straight on decode's output: [1,1,D] and [1,D] are the same
    // bytes.
    Expected<BoundCall> headOfDecode = session.bind(
        "lm_head",
        {{"hidden", TensorView{DType::F32, {1, d}, lm.decodeOut.data()}}},
        {{"logits", lm.lmOutput.view()}});
    if (!headOfDecode)
      return headOfDecode.takeError();
    lm.prefillCall = std::move(*prefill);
    lm.decodeCall = std::move(*decode);
    lm.headCall = std::move(*head);
    lm.headOfDecodeCall = std::move(*headOfDecode);
    return lm;
  }

  /// Runs prefill on the first `count` ids (at most the bucket), padded with
  /// id 0.
  void prefill(const std::vector<int32_t> &ids, int64_t count) {
    auto *data = static_cast<int64_t *>(prefillIds.data());
    std::fill(data, data + prefillIds.numElements(), 0);
    for (int64_t i = 0; i < count; ++i)
      data[i] = ids[i];
    prefillCall();
  }
  /// Hidden row `row` of the last prefill.
  const float *prefillHidden(int64_t row) const {
    return static_cast<const float *>(prefillOut.data()) + row * hiddenSize;
  }
  /// Runs decode on token `id` at `position`.
  void decode(int32_t id, int64_t position) {
    *static_cast<int64_t *>(decodeIds.data()) = id;
    *static_cast<int64_t *>(decodePosition.data()) = position;
    decodeCall();
  }
  /// The hidden row of the last decode.
  const float *decodedHidden() const {
    return static_cast<const float *>(decodeOut.data());
  }
  /// lm_head on the last decode's hidden row.
  const float *logitsOfDecode() {
    headOfDecodeCall();
    return logits();
  }
  /// lm_head on a hidden row.
  const float *logitsOf(const float *hidden) {
    std::memcpy(lmInput.data(), hidden,
                static_cast<size_t>(hiddenSize) * sizeof(float));
    headCall();
    return logits();
  }
  /// The logits of the last lm_head call.
  const float *logits() const {
    return static_cast<const float *>(lmOutput.data());
  }
  void setLogits(const std::vector<float> &values) {
    std::memcpy(lmOutput.data(), values.data(), values.size() * sizeof(float));
  }

private:
  int64_t hiddenSize = 0, vocabSize = 0;
  Tensor prefillIds, prefillOut, decodeIds, decodePosition, decodeOut, lmInput,
      lmOutput;
  BoundCall prefillCall, decodeCall, headCall, headOfDecodeCall;
};

int run(const ModelSymbols &model, int argc, char **argv, std::ostream &out,
        std::ostream &err) {
  if (Error e = requireModel(model))
    return reportError(err, e.message());
  Expected<Options> options = parseOptions(argc, argv);
  if (!options)
    return reportError(err, options.message());
  Expected<ModelSignature> signature = parseModelSignature(model.signature);
  if (!signature)
    return reportError(err, signature.message());
  Expected<Metadata> metadataOr = parseMetadata(signature->metadata);
  if (!metadataOr)
    return reportError(err, metadataOr.message());
  const Metadata &metadata = *metadataOr;
  if (Error e = checkEntries(*signature, metadata))
    return reportError(err, e.message());
  if (options->help) {
    printUsage(programName(argc, argv), metadata, model, out);
    out.flush();
    return 0;
  }
  if (options->threads)
    ThreadPool::global().setNumThreads(*options->threads);
  if ((options->topKGiven || options->topPGiven) &&
      !(options->sampling.temperature > 0))
    err << "warning: --top-k and --top-p apply only when sampling "
           "(--temperature > 0); decoding greedily"
        << std::endl;

  Expected<ByteLevelBpe> tokenizer = loadTokenizer(model, metadata);
  if (!tokenizer)
    return reportError(err, tokenizer.message());

  const int64_t context = metadata.contextLength;
  const int64_t vocab = metadata.vocabSize;
  Expected<std::vector<int32_t>> promptOr =
      promptTokens(*options, metadata, *tokenizer);
  if (!promptOr)
    return reportError(err, promptOr.message());
  const std::vector<int32_t> &promptIds = *promptOr;
  const int64_t length = static_cast<int64_t>(promptIds.size());

  Expected<Session> session =
      Session::create(model, std::move(*signature), options->weightsPaths);
  if (!session)
    return reportError(err, session.message());
  const double startupMs = processUptimeMs();

  uint64_t seed = 0;
  if (options->seed) {
    seed = *options->seed;
  } else {
    std::random_device device;
    seed = (static_cast<uint64_t>(device()) << 32) ^ device();
  }
  std::mt19937_64 rng(seed);

  // The prompt: one prefill call on the smallest bucket that holds it, then
  // decode for what the largest bucket does not hold.
  const int64_t chunk = std::min(length, metadata.prefillLengths.back());
  const int64_t bucket = *std::lower_bound(
      metadata.prefillLengths.begin(), metadata.prefillLengths.end(), chunk);
  Expected<LanguageModel> lm = LanguageModel::bind(*session, metadata, bucket);
  if (!lm)
    return reportError(err, lm.message());
  // Hidden rows of the prompt tokens that went through decode, for --logits.
  std::vector<float> decodedRows;
  const int64_t d = metadata.hiddenSize;
  // Timed runs start warm, as a benchmark of any engine would: the first
  // call also faults in the scratch memory and the weights' pages. The
  // timed prefill below rewrites every cache row this one wrote.
  if (options->bench)
    lm->prefill(promptIds, chunk);
  auto prefillStart = std::chrono::steady_clock::now();
  lm->prefill(promptIds, chunk);
  for (int64_t i = chunk; i < length; ++i) {
    lm->decode(promptIds[i], i);
    if (options->logitsPath)
      decodedRows.insert(decodedRows.end(), lm->decodedHidden(),
                         lm->decodedHidden() + d);
  }
  if (options->maxNewTokens != 0) {
    if (length > chunk)
      lm->logitsOfDecode();
    else
      lm->logitsOf(lm->prefillHidden(length - 1));
  }
  double prefillMs = elapsedMs(prefillStart);

  if (options->logitsPath) {
    Expected<Tensor> all = Tensor::allocate(DType::F32, {length, vocab});
    if (!all)
      return reportError(err, "--logits: " + all.message());
    std::vector<float> next(lm->logits(), lm->logits() + vocab);
    for (int64_t row = 0; row < length; ++row) {
      const float *hidden = row < chunk
                                ? lm->prefillHidden(row)
                                : decodedRows.data() + (row - chunk) * d;
      std::memcpy(static_cast<float *>(all->data()) + row * vocab,
                  lm->logitsOf(hidden), static_cast<size_t>(vocab) * 4);
    }
    lm->setLogits(next);
    if (Error e = writeNpy(*options->logitsPath, all->view()))
      return reportError(err, e.message());
  }

  // Generation.
  std::vector<int32_t> tokens = promptIds, generated;
  BpeStreamDecoder stream(*tokenizer);
  bool printed = false;
  Stop stop = Stop::Length;
  // With --step-logits: the logits each new token was chosen from.
  std::vector<float> stepLogits;
  double decodeMs = 0;
  int64_t decodeSteps = 0;
  const int64_t wanted = options->maxNewTokens < 0
                             ? std::numeric_limits<int64_t>::max()
                             : options->maxNewTokens;
  while (static_cast<int64_t>(generated.size()) < wanted) {
    if (static_cast<int64_t>(tokens.size()) >= context) {
      stop = Stop::Context;
      break;
    }
    if (options->stepLogitsPath)
      stepLogits.insert(stepLogits.end(), lm->logits(), lm->logits() + vocab);
    int32_t token = sampleToken(lm->logits(), static_cast<size_t>(vocab),
                                options->sampling, rng);
    if (!options->ignoreEos && std::count(metadata.eosTokenIds.begin(),
                                          metadata.eosTokenIds.end(), token)) {
      stop = Stop::Eos;
      break;
    }
    tokens.push_back(token);
    generated.push_back(token);
    if (!options->json) {
      Expected<std::string> piece = stream.push(token);
      if (!piece) {
        if (printed)
          out << "\n";
        out.flush();
        return reportError(err, piece.message());
      }
      out << *piece << std::flush;
      printed |= !piece->empty();
    }
    if (static_cast<int64_t>(generated.size()) >= wanted ||
        static_cast<int64_t>(tokens.size()) >= context)
      continue;
    auto start = std::chrono::steady_clock::now();
    lm->decode(token, static_cast<int64_t>(tokens.size()) - 1);
    lm->logitsOfDecode();
    decodeMs += elapsedMs(start);
    ++decodeSteps;
  }
  if (options->stepLogitsPath) {
    int64_t steps = static_cast<int64_t>(stepLogits.size()) / vocab;
    if (Error e = writeNpy(
            *options->stepLogitsPath,
            TensorView{DType::F32, {steps, vocab}, stepLogits.data()})) {
      if (printed)
        out << "\n";
      out.flush();
      return reportError(err, e.message());
    }
  }

  if (options->json) {
    Expected<std::string> text = tokenizer->decode(generated);
    if (!text)
      return reportError(err, text.message());
    nlohmann::json result;
    result["prompt_ids"] = promptIds;
    result["generated_ids"] = generated;
    result["text"] = *text;
    result["seed"] = seed;
    result["stop"] = stopName(stop);
    result["timings"] = {{"prefill_ms", prefillMs},
                         {"prefill_tokens", length},
                         {"prefill_bucket", bucket},
                         {"decode_ms", decodeMs},
                         {"decode_tokens", decodeSteps},
                         {"decode_tokens_per_s",
                          decodeSteps > 0
                              ? decodeSteps * 1000.0 / std::max(decodeMs, 1e-6)
                              : 0.0}};
    out << result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  } else {
    out << stream.flush() << "\n";
  }
  out.flush();
  if (!out)
    return reportError(err, "cannot write to standard output");

  if (stop == Stop::Context)
    err << "note: the context of " << context << " tokens is full; stopped "
        << "after " << generated.size() << " new token"
        << (generated.size() == 1 ? "" : "s") << std::endl;
  if (options->bench) {
    err << formatStartupReport(startupMs) << std::endl;
    std::string bucketText = "bucket " + std::to_string(bucket);
    if (length > chunk)
      bucketText += " + " + std::to_string(length - chunk) + " decode steps";
    err << "prefill: " << formatNumber("%.3f", prefillMs) << " ms for "
        << length << " token" << (length == 1 ? "" : "s") << " (" << bucketText
        << ")" << std::endl;
    if (decodeSteps > 0)
      err << "decode: "
          << formatNumber("%.2f",
                          decodeSteps * 1000.0 / std::max(decodeMs, 1e-6))
          << " tokens/s (" << formatNumber("%.3f", decodeMs / decodeSteps)
          << " ms/token) over " << decodeSteps << " token"
          << (decodeSteps == 1 ? "" : "s") << std::endl;
    else
      err << "decode: no decode steps" << std::endl;
  }
  return 0;
}

} // namespace

int runTextGeneration(const ModelSymbols &model, int argc, char **argv,
                      std::ostream &out, std::ostream &err) {
  return runGuarded(err, [&] { return run(model, argc, argv, out, err); });
}

} // namespace kiln
