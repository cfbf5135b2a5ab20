//===- TextEncoding.cpp - The command line of text encoders ---------------===//

#include "runtime/apps/TextEncoding.h"
#include "runtime/apps/CommandLine.h"
#include "runtime/support/FileUtil.h"
#include "runtime/support/Npy.h"
#include "runtime/session/Signature.h"
#include "runtime/support/Tensor.h"
#include "runtime/threads/ThreadPool.h"
#include "runtime/tokenizer/EncoderTokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace kiln {

namespace {

constexpr int64_t kDefaultFillMaskTopK = 5;
constexpr int64_t kMaxTopK = 1000000000;
/// Embeddings printed per text.
constexpr size_t kPrintedValues = 8;
/// The cosine similarity matrix is printed for at most this many texts.
constexpr size_t kMaxSimilarityTexts = 64;

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

enum class Pooling { Cls, Mean };

const char *poolingName(Pooling pooling) {
  return pooling == Pooling::Mean ? "mean" : "cls";
}

std::optional<Pooling> parsePooling(const std::string &name) {
  if (name == "cls")
    return Pooling::Cls;
  if (name == "mean")
    return Pooling::Mean;
  return std::nullopt;
}

struct Options : AppOptions {
  bool help = false;
  std::vector<std::string> texts;
  std::optional<std::string> file;
  std::optional<int64_t> topK;
  std::vector<std::pair<std::string, std::string>> pairs;
  /// The action flags, in the order given.
  std::vector<std::string> actionFlags;
  std::optional<Pooling> embedMode;
  bool normalize = false;
  std::optional<std::string> outputPath;

  bool has(const char *flag) const {
    return std::find(actionFlags.begin(), actionFlags.end(), flag) !=
           actionFlags.end();
  }
};

Expected<Options> parseOptions(int argc, char **argv) {
  Options options;
  ArgumentScanner args(argc, argv, /*positionals=*/true);
  while (args.next()) {
    // References into the scanner: `value` is what takeValue took.
    const std::string &arg = args.arg(), &flag = args.flag(),
                      &value = args.value();
    if (args.positional()) {
      options.texts.push_back(arg);
      continue;
    }
    auto action = [&]() -> Error {
      if (!options.has(flag.c_str()))
        options.actionFlags.push_back(flag);
      return Error::success();
    };

    if (flag == "--help" || flag == "-h") {
      if (Error e = args.noValue())
        return e;
      options.help = true;
    } else if (flag == "--file") {
      if (Error e = args.takeValue())
        return e;
      if (value.empty())
        return makeError("--file expects a file name (or - for standard "
                         "input), got ''");
      if (options.file)
        return makeError("--file is given twice");
      options.file = value;
    } else if (flag == "--top-k") {
      if (Error e = args.takeValue())
        return e;
      std::optional<int64_t> k = parseInteger(value, 1, kMaxTopK);
      if (!k)
        return makeError("--top-k expects an integer >= 1, got '", value, "'");
      options.topK = *k;
    } else if (flag == "--pair") {
      std::string first = value;
      if (!args.hasInlineValue()) {
        const char *next = args.takeNext();
        if (!next)
          return makeError("option --pair needs two texts: --pair A B");
        first = next;
      }
      const char *second = args.takeNext();
      if (!second)
        return makeError("option --pair needs two texts: --pair A B");
      options.pairs.emplace_back(first, second);
    } else if (flag == "--classify" || flag == "--tokens") {
      if (Error e = args.noValue())
        return e;
      (void)action();
    } else if (flag == "--embed") {
      (void)action();
      // The mode is optional: --embed, --embed=mean, --embed mean.
      if (args.hasInlineValue()) {
        options.embedMode = parsePooling(value);
        if (!options.embedMode)
          return makeError("--embed expects cls or mean, got '", value, "'");
      } else if (args.peek() && parsePooling(args.peek())) {
        options.embedMode = parsePooling(args.takeNext());
      }
    } else if (flag == "--normalize") {
      if (Error e = args.noValue())
        return e;
      options.normalize = true;
    } else if (flag == "--output" || flag == "-o") {
      if (Error e = args.takeValue())
        return e;
      if (value.empty())
        return makeError("--output expects a .npy file name, got ''");
      options.outputPath = value;
    } else if (std::optional<Error> common = args.takeAppOption(options)) {
      if (*common)
        return std::move(*common);
    } else {
      return makeError("unknown argument '", arg,
                       "' (see --help; put a text that starts with '-' "
                       "after --)");
    }
  }
  if (options.actionFlags.size() > 1)
    return makeError(options.actionFlags[0], " and ", options.actionFlags[1],
                     " cannot be combined");
  if (!options.texts.empty() && options.file)
    return makeError("give texts or --file, not both");
  if (!options.pairs.empty() && (!options.texts.empty() || options.file))
    return makeError("give texts (or --file) or --pair, not both");
  return options;
}

//===----------------------------------------------------------------------===//
// Metadata and entries
//===----------------------------------------------------------------------===//

enum class Head {
  Base,
  MaskedLm,
  NextSentence,
  Pretraining,
  SequenceClassification,
  TokenClassification
};

constexpr std::pair<Head, const char *> kHeadNames[] = {
    {Head::Base, "base"},
    {Head::MaskedLm, "masked-lm"},
    {Head::NextSentence, "next-sentence"},
    {Head::Pretraining, "pretraining"},
    {Head::SequenceClassification, "sequence-classification"},
    {Head::TokenClassification, "token-classification"}};

bool hasMlm(Head head) {
  return head == Head::MaskedLm || head == Head::Pretraining;
}
bool hasNsp(Head head) {
  return head == Head::NextSentence || head == Head::Pretraining;
}

enum class ProblemType { SingleLabel, MultiLabel, Regression };

struct Metadata {
  std::string family;
  std::string headName;
  Head head = Head::Base;
  int64_t batchSize = 0;
  /// Ascending, without duplicates.
  std::vector<int64_t> sequenceLengths;
  /// The longest text, in tokens: max_length, at most the largest bucket.
  int64_t maxTokens = 0;
  int64_t hiddenSize = 0;
  int64_t vocabSize = 0;
  /// Labels from id2label, in id order; empty when absent.
  std::vector<std::string> labels;
  std::optional<ProblemType> problemType;
  std::optional<Pooling> poolingMode;
  bool poolingNormalize = false;
  nlohmann::json tokenizer;
};

Expected<Metadata> parseMetadata(const std::string &text) {
  const char *prefix = "model metadata: ";
  nlohmann::json root = nlohmann::json::parse(text, nullptr, false);
  if (!root.is_object())
    return makeError(prefix, "expected a JSON object");
  Metadata metadata;
  auto positive = [&](const char *key, int64_t &value,
                      bool required = true) -> Error {
    auto it = root.find(key);
    if (it == root.end() && !required)
      return Error::success();
    if (it == root.end() || !it->is_number_integer() ||
        it->get<int64_t>() <= 0 || it->get<int64_t>() > INT32_MAX)
      return makeError(prefix, "'", key, "' must be a positive integer");
    value = it->get<int64_t>();
    return Error::success();
  };
  if (Error e = positive("batch_size", metadata.batchSize))
    return e;
  if (Error e = positive("hidden_size", metadata.hiddenSize))
    return e;
  if (Error e = positive("vocab_size", metadata.vocabSize))
    return e;
  int64_t maxLength = 0;
  if (Error e = positive("max_length", maxLength, /*required=*/false))
    return e;

  auto familyIt = root.find("family");
  if (familyIt != root.end() && familyIt->is_string())
    metadata.family = familyIt->get<std::string>();

  auto headIt = root.find("head");
  if (headIt == root.end() || !headIt->is_string())
    return makeError(prefix, "'head' must be a string");
  metadata.headName = headIt->get<std::string>();
  bool knownHead = false;
  for (auto [head, name] : kHeadNames) {
    if (metadata.headName == name) {
      metadata.head = head;
      knownHead = true;
    }
  }
  if (!knownHead)
    return makeError(prefix, "unknown head '", metadata.headName,
                     "' (this runtime knows base, masked-lm, next-sentence, "
                     "pretraining, sequence-classification and "
                     "token-classification)");

  auto lengthsIt = root.find("sequence_lengths");
  if (lengthsIt == root.end() || !lengthsIt->is_array() || lengthsIt->empty())
    return makeError(prefix, "'sequence_lengths' must be a non-empty array");
  for (const nlohmann::json &length : *lengthsIt) {
    if (!length.is_number_integer() || length.get<int64_t>() <= 0 ||
        length.get<int64_t>() > INT32_MAX ||
        (maxLength > 0 && length.get<int64_t>() > maxLength))
      return makeError(prefix, "'sequence_lengths' must hold positive integers",
                       maxLength > 0 ? " up to max_length " : "",
                       maxLength > 0 ? std::to_string(maxLength) : "",
                       ", found ", length.dump());
    metadata.sequenceLengths.push_back(length.get<int64_t>());
  }
  std::sort(metadata.sequenceLengths.begin(), metadata.sequenceLengths.end());
  metadata.sequenceLengths.erase(std::unique(metadata.sequenceLengths.begin(),
                                             metadata.sequenceLengths.end()),
                                 metadata.sequenceLengths.end());
  metadata.maxTokens = metadata.sequenceLengths.back();
  if (maxLength > 0)
    metadata.maxTokens = std::min(metadata.maxTokens, maxLength);

  auto labelsIt = root.find("id2label");
  if (labelsIt != root.end() && !labelsIt->is_null()) {
    const char *what = "'id2label' must map the ids \"0\" to \"N-1\" to "
                       "label names";
    if (!labelsIt->is_object())
      return makeError(prefix, what);
    metadata.labels.resize(labelsIt->size());
    std::vector<bool> seen(labelsIt->size(), false);
    for (auto it = labelsIt->begin(); it != labelsIt->end(); ++it) {
      std::optional<int64_t> id =
          parseInteger(it.key(), 0, static_cast<int64_t>(labelsIt->size()) - 1);
      if (!id || seen[*id] || !it.value().is_string())
        return makeError(prefix, what, ", found ", labelsIt->dump());
      seen[*id] = true;
      metadata.labels[*id] = it.value().get<std::string>();
    }
  }

  auto problemIt = root.find("problem_type");
  if (problemIt != root.end() && !problemIt->is_null()) {
    std::string problem = problemIt->is_string() ? problemIt->get<std::string>()
                                                 : problemIt->dump();
    if (problem == "single_label_classification")
      metadata.problemType = ProblemType::SingleLabel;
    else if (problem == "multi_label_classification")
      metadata.problemType = ProblemType::MultiLabel;
    else if (problem == "regression")
      metadata.problemType = ProblemType::Regression;
    else
      return makeError(prefix, "unknown problem_type '", problem,
                       "' (expected single_label_classification, "
                       "multi_label_classification or regression)");
  }

  auto poolingIt = root.find("pooling");
  if (poolingIt != root.end() && !poolingIt->is_null()) {
    if (!poolingIt->is_object())
      return makeError(prefix, "'pooling' must be an object");
    auto modeIt = poolingIt->find("mode");
    if (modeIt == poolingIt->end() || !modeIt->is_string() ||
        !parsePooling(modeIt->get<std::string>()))
      return makeError(prefix, "'pooling.mode' must be \"cls\" or \"mean\"",
                       modeIt == poolingIt->end()
                           ? std::string()
                           : ", found " + modeIt->dump());
    metadata.poolingMode = parsePooling(modeIt->get<std::string>());
    auto normalizeIt = poolingIt->find("normalize");
    if (normalizeIt != poolingIt->end()) {
      if (!normalizeIt->is_boolean())
        return makeError(prefix, "'pooling.normalize' must be true or false");
      metadata.poolingNormalize = normalizeIt->get<bool>();
    }
  }

  auto tokenizerIt = root.find("tokenizer");
  if (tokenizerIt == root.end() || !tokenizerIt->is_object())
    return makeError(prefix, "'tokenizer' must be an object");
  metadata.tokenizer = *tokenizerIt;
  return metadata;
}

std::string encodeEntry(int64_t length) {
  return "encode_" + std::to_string(length);
}

/// The output of encode_<S> that carries the head's logits, if any.
const char *logitsOutputName(Head head) {
  switch (head) {
  case Head::SequenceClassification:
  case Head::TokenClassification:
  case Head::NextSentence:
    return "logits";
  case Head::Pretraining:
    return "nsp_logits";
  case Head::Base:
  case Head::MaskedLm:
    return nullptr;
  }
  return nullptr;
}

/// Checks the entries of the model, and sets the number of labels of the
/// classification heads (from id2label, else from the logits).
Error checkEntries(const ModelSignature &signature, Metadata &metadata) {
  const int64_t b = metadata.batchSize, d = metadata.hiddenSize;
  const bool perToken = metadata.head == Head::TokenClassification;
  const bool classifies =
      perToken || metadata.head == Head::SequenceClassification;
  if (classifies && metadata.labels.empty()) {
    // No id2label: the labels are LABEL_0, LABEL_1, ... as many as logits.
    std::string first = encodeEntry(metadata.sequenceLengths.front());
    const EntrySignature *entry = signature.entry(first);
    const SignatureArg *logits =
        entry ? entry->find("logits", ArgRole::Output) : nullptr;
    size_t rank = perToken ? 3 : 2;
    if (logits && logits->shape.size() == rank && logits->shape.back() > 0 &&
        logits->shape.back() <= INT32_MAX) {
      for (int64_t i = 0; i < logits->shape.back(); ++i)
        metadata.labels.push_back("LABEL_" + std::to_string(i));
    }
  }
  const int64_t labels = static_cast<int64_t>(metadata.labels.size());
  for (int64_t s : metadata.sequenceLengths) {
    std::vector<ExpectedArg> expected = {
        {{"ids", ArgRole::Input, DType::I64, {b, s}}},
        {{"token_type_ids", ArgRole::Input, DType::I64, {b, s}}},
        {{"lengths", ArgRole::Input, DType::I64, {b}}},
        {{"hidden", ArgRole::Output, DType::F32, {b, s, d}}},
        {{"pooled", ArgRole::Output, DType::F32, {b, d}}, /*optional=*/true}};
    if (const char *name = logitsOutputName(metadata.head)) {
      Shape shape = {b, 2};
      if (metadata.head == Head::SequenceClassification)
        shape = {b, std::max<int64_t>(labels, 1)};
      else if (perToken)
        shape = {b, s, std::max<int64_t>(labels, 1)};
      expected.push_back({{name, ArgRole::Output, DType::F32, shape}});
    }
    if (Error e = checkEntryArgs(signature, "text-encoding", encodeEntry(s),
                                 expected))
      return e;
  }
  if (hasMlm(metadata.head)) {
    if (Error e =
            checkEntryArgs(signature, "text-encoding", "mlm_head",
                           {{{"hidden", ArgRole::Input, DType::F32, {1, d}}},
                            {{"logits",
                              ArgRole::Output,
                              DType::F32,
                              {1, metadata.vocabSize}}}}))
      return e;
  }
  return Error::success();
}

//===----------------------------------------------------------------------===//
// What to do
//===----------------------------------------------------------------------===//

enum class Action { FillMask, Classify, Tokens, NextSentence, Embed };

Error headError(const char *what, const char *needs, const Metadata &metadata,
                const char *recompileWith) {
  return makeError(what, " needs ", needs,
                   " head; this executable was compiled with '",
                   metadata.headName, "' (recompile with kiln compile --head ",
                   recompileWith, ")");
}

/// The action of the command line: an action flag, else --pair, else
/// --normalize/--output (embeddings), else the head's own task.
Expected<Action> chooseAction(const Options &options,
                              const Metadata &metadata) {
  const Head head = metadata.head;
  Action action;
  if (options.has("--classify")) {
    if (head != Head::SequenceClassification)
      return headError("--classify", "a sequence-classification", metadata,
                       "sequence-classification");
    action = Action::Classify;
  } else if (options.has("--tokens")) {
    if (head != Head::TokenClassification)
      return headError("--tokens", "a token-classification", metadata,
                       "token-classification");
    action = Action::Tokens;
  } else if (options.has("--embed")) {
    action = Action::Embed;
  } else if (!options.pairs.empty()) {
    if (!hasNsp(head))
      return headError("--pair", "a next-sentence or pretraining", metadata,
                       "next-sentence");
    action = Action::NextSentence;
  } else if (options.normalize || options.outputPath) {
    action = Action::Embed;
  } else {
    switch (head) {
    case Head::MaskedLm:
    case Head::Pretraining:
      action = Action::FillMask;
      break;
    case Head::SequenceClassification:
      action = Action::Classify;
      break;
    case Head::TokenClassification:
      action = Action::Tokens;
      break;
    case Head::NextSentence:
      return makeError("this executable predicts whether a text follows "
                       "another (head 'next-sentence'): give --pair A B");
    case Head::Base:
    default:
      action = Action::Embed;
      break;
    }
  }
  if (action != Action::Embed) {
    if (options.normalize)
      return makeError("--normalize applies only to embeddings (--embed)");
    if (options.outputPath)
      return makeError("--output applies only to embeddings (--embed)");
  }
  if (options.topK && action != Action::FillMask && action != Action::Classify)
    return makeError("--top-k applies only to fill-mask and --classify");
  return action;
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

/// One text, or one pair of texts, ready to run.
struct Input {
  /// For messages and headers: the text, or "A | B" for a pair.
  std::string display;
  EncodedText encoded;
};

void splitLines(std::string_view bytes, std::vector<std::string> &texts) {
  size_t start = 0;
  while (start <= bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string_view::npos)
      end = bytes.size();
    std::string_view line = bytes.substr(start, end - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.find_first_not_of(" \t\r\f\v") != std::string_view::npos)
      texts.emplace_back(line);
    start = end + 1;
  }
}

/// The texts to encode: the arguments, the lines of --file, or the lines of
/// `in` (null: standard input is a terminal).
Expected<std::vector<std::string>> readTexts(const Options &options,
                                             std::istream *in) {
  std::vector<std::string> texts = options.texts;
  if (!texts.empty() || !options.pairs.empty())
    return texts;
  if (options.file && *options.file != "-") {
    Expected<std::string> bytes = readFileBytes(*options.file);
    if (!bytes)
      return bytes.takeError();
    splitLines(*bytes, texts);
    if (texts.empty())
      return makeError("no input texts: ", *options.file, " has no text");
    return texts;
  }
  if (in) {
    std::string line;
    while (std::getline(*in, line))
      splitLines(line, texts);
    if (in->bad())
      return makeError("cannot read standard input");
  }
  if (texts.empty())
    return makeError("no input texts: give TEXT arguments, --file FILE or "
                     "lines on standard input (see --help)");
  return texts;
}

/// Encodes the inputs, checking their lengths (or truncating them) and
/// their ids.
Expected<std::vector<Input>> encodeInputs(const Options &options,
                                          const std::vector<std::string> &texts,
                                          const Metadata &metadata,
                                          const EncoderTokenizer &tokenizer) {
  std::vector<Input> inputs;
  const bool pairs = !options.pairs.empty();
  const size_t count = pairs ? options.pairs.size() : texts.size();
  const int64_t limit = metadata.maxTokens;
  for (size_t i = 0; i < count; ++i) {
    Input input;
    const char *kind = pairs ? "pair " : "text ";
    if (pairs) {
      const auto &[first, second] = options.pairs[i];
      input.display = first + " | " + second;
      input.encoded = tokenizer.encodePair(first, second);
    } else {
      input.display = texts[i];
      input.encoded = tokenizer.encode(texts[i]);
    }
    EncodedText &encoded = input.encoded;
    const int64_t length = static_cast<int64_t>(encoded.ids.size());
    if (length == 0)
      return makeError(kind, i + 1, " encodes to no tokens");
    if (encoded.typeIds.size() != encoded.ids.size())
      encoded.typeIds.resize(encoded.ids.size(), 0);
    if (length > limit) {
      if (!options.truncate)
        return makeError(kind, i + 1, " has ", length,
                         " tokens but the model's maximum is ", limit,
                         " (use --truncate)");
      // Keep the first limit - 1 tokens and the final separator.
      auto keep = [&](auto &items) {
        if (items.size() != static_cast<size_t>(length))
          return;
        auto last = items.back();
        items.resize(static_cast<size_t>(limit));
        items.back() = last;
      };
      keep(encoded.ids);
      keep(encoded.typeIds);
      keep(encoded.tokens);
    }
    for (int32_t id : encoded.ids)
      if (id < 0 || id >= metadata.vocabSize)
        return makeError(kind, i + 1, " has token id ", id,
                         ", outside the model's vocabulary of ",
                         metadata.vocabSize, " tokens");
    inputs.push_back(std::move(input));
  }
  return inputs;
}

/// Token positions of `ids` holding `maskId`.
std::vector<int64_t> maskPositions(const std::vector<int32_t> &ids,
                                   int32_t maskId) {
  std::vector<int64_t> positions;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == maskId)
      positions.push_back(static_cast<int64_t>(i));
  return positions;
}

//===----------------------------------------------------------------------===//
// Running the model
//===----------------------------------------------------------------------===//

/// The encode entries, bound bucket by bucket on first use.
class Encoder {
public:
  Encoder(Session &session, const Metadata &metadata, int32_t padId)
      : session(session), metadata(metadata), padId(padId) {}

  /// The buffers of one bucket after a call.
  struct Bucket {
    int64_t length = 0;
    Tensor ids, typeIds, lengths;
    std::map<std::string, Tensor, std::less<>> outputs;
    BoundCall call;
    double ms = 0;
    int64_t batches = 0, texts = 0;

    const float *output(std::string_view name) const {
      auto it = outputs.find(name);
      return it == outputs.end()
                 ? nullptr
                 : static_cast<const float *>(it->second.data());
    }
  };

  /// Runs a batch of at most batch_size inputs through the smallest bucket
  /// that holds the longest.
  Expected<const Bucket *> run(const std::vector<const Input *> &batch) {
    size_t longest = 0;
    for (const Input *input : batch)
      longest = std::max(longest, input->encoded.ids.size());
    auto it = std::lower_bound(metadata.sequenceLengths.begin(),
                               metadata.sequenceLengths.end(),
                               static_cast<int64_t>(longest));
    if (it == metadata.sequenceLengths.end())
      return makeError("internal error: no bucket holds ", longest, " tokens");
    Expected<Bucket *> bucket = bind(*it);
    if (!bucket)
      return bucket.takeError();
    Bucket &b = **bucket;
    const int64_t s = b.length;
    auto *ids = static_cast<int64_t *>(b.ids.data());
    auto *types = static_cast<int64_t *>(b.typeIds.data());
    auto *lengths = static_cast<int64_t *>(b.lengths.data());
    std::fill(ids, ids + b.ids.numElements(), padId);
    std::fill(types, types + b.typeIds.numElements(), 0);
    // Unused rows: one pad token.
    std::fill(lengths, lengths + b.lengths.numElements(), 1);
    for (size_t row = 0; row < batch.size(); ++row) {
      const EncodedText &encoded = batch[row]->encoded;
      for (size_t i = 0; i < encoded.ids.size(); ++i) {
        ids[row * s + i] = encoded.ids[i];
        types[row * s + i] = encoded.typeIds[i];
      }
      lengths[row] = static_cast<int64_t>(encoded.ids.size());
    }
    auto start = std::chrono::steady_clock::now();
    b.call();
    b.ms += elapsedMs(start);
    ++b.batches;
    b.texts += static_cast<int64_t>(batch.size());
    return &b;
  }

  const std::map<int64_t, Bucket> &buckets() const { return bound; }

private:
  Expected<Bucket *> bind(int64_t length) {
    auto found = bound.find(length);
    if (found != bound.end())
      return &found->second;
    Bucket bucket;
    bucket.length = length;
    const int64_t b = metadata.batchSize;
    for (auto [tensor, shape] :
         {std::make_pair(&bucket.ids, Shape{b, length}),
          std::make_pair(&bucket.typeIds, Shape{b, length}),
          std::make_pair(&bucket.lengths, Shape{b})}) {
      Expected<Tensor> allocated = Tensor::allocate(DType::I64, shape);
      if (!allocated)
        return allocated.takeError();
      *tensor = std::move(*allocated);
    }
    const std::string name = encodeEntry(length);
    const EntrySignature *entry = session.entry(name);
    if (!entry)
      return makeError("internal error: no entry ", name);
    std::vector<NamedTensor> outputs;
    for (const SignatureArg &arg : entry->args) {
      if (arg.role != ArgRole::Output)
        continue;
      Expected<Tensor> allocated = Tensor::allocate(arg.dtype, arg.shape);
      if (!allocated)
        return allocated.takeError();
      Tensor &tensor = bucket.outputs[arg.name] = std::move(*allocated);
      outputs.push_back({arg.name, tensor.view()});
    }
    Expected<BoundCall> call =
        session.bind(name,
                     {{"ids", bucket.ids.view()},
                      {"token_type_ids", bucket.typeIds.view()},
                      {"lengths", bucket.lengths.view()}},
                     outputs);
    if (!call)
      return call.takeError();
    bucket.call = std::move(*call);
    auto [it, inserted] = bound.emplace(length, std::move(bucket));
    (void)inserted;
    return &it->second;
  }

  Session &session;
  const Metadata &metadata;
  int32_t padId;
  std::map<int64_t, Bucket> bound;
};

/// mlm_head bound to its buffers.
class MlmHead {
public:
  static Expected<MlmHead> bind(Session &session, const Metadata &metadata) {
    MlmHead head;
    head.hiddenSize = metadata.hiddenSize;
    Expected<Tensor> input =
        Tensor::allocate(DType::F32, {1, metadata.hiddenSize});
    if (!input)
      return input.takeError();
    Expected<Tensor> output =
        Tensor::allocate(DType::F32, {1, metadata.vocabSize});
    if (!output)
      return output.takeError();
    head.input = std::move(*input);
    head.output = std::move(*output);
    Expected<BoundCall> call =
        session.bind("mlm_head", {{"hidden", head.input.view()}},
                     {{"logits", head.output.view()}});
    if (!call)
      return call.takeError();
    head.call = std::move(*call);
    return head;
  }

  /// The logits of one hidden row.
  const float *logitsOf(const float *hidden) {
    std::memcpy(input.data(), hidden,
                static_cast<size_t>(hiddenSize) * sizeof(float));
    auto start = std::chrono::steady_clock::now();
    call();
    ms += elapsedMs(start);
    ++calls;
    return static_cast<const float *>(output.data());
  }

  double ms = 0;
  int64_t calls = 0;

private:
  int64_t hiddenSize = 0;
  Tensor input, output;
  BoundCall call;
};

//===----------------------------------------------------------------------===//
// Scores
//===----------------------------------------------------------------------===//

std::vector<float> softmax(const float *logits, size_t n) {
  std::vector<float> probs(n);
  if (n == 0)
    return probs;
  float max = *std::max_element(logits, logits + n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i)
    sum += std::exp(static_cast<double>(logits[i]) - max);
  for (size_t i = 0; i < n; ++i)
    probs[i] = static_cast<float>(
        std::exp(static_cast<double>(logits[i]) - max) / sum);
  return probs;
}

float sigmoid(float x) {
  return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
}

/// Indices of the `k` largest scores, largest first (ties: lowest index;
/// NaN counts as the lowest score).
std::vector<int32_t> topIndices(const std::vector<float> &scores, size_t k) {
  std::vector<int32_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  k = std::min(k, order.size());
  auto key = [&](int32_t i) {
    return std::isnan(scores[i]) ? -std::numeric_limits<float>::infinity()
                                 : scores[i];
  };
  auto better = [&](int32_t a, int32_t b) {
    if (key(a) != key(b))
      return key(a) > key(b);
    return a < b;
  };
  std::partial_sort(order.begin(), order.begin() + k, order.end(), better);
  order.resize(k);
  return order;
}

std::string trimSpaces(std::string text) {
  size_t start = text.find_first_not_of(' ');
  return start == std::string::npos ? std::string() : text.substr(start);
}

/// One candidate for a mask.
struct Candidate {
  int32_t id = 0;
  float score = 0;
};

struct MaskResult {
  int64_t position = 0;
  std::vector<Candidate> candidates;
};

/// The results of one input, for the action.
struct Result {
  std::vector<MaskResult> masks;
  /// Classify: (label, score), best first. Tokens: best label per token.
  std::vector<std::pair<int32_t, float>> labels;
  /// Tokens: the positions of `labels`.
  std::vector<int64_t> positions;
  /// Next-sentence logits.
  float nsp[2] = {0, 0};
};

//===----------------------------------------------------------------------===//
// The command line
//===----------------------------------------------------------------------===//

void printUsage(const std::string &program, const Metadata &metadata,
                const ModelSymbols &model, std::ostream &out) {
  out << "usage: " << program
      << " [TEXT...] [--file FILE] [--top-k K] [--pair A B]\n"
         "       [--classify] [--tokens] [--embed [cls|mean]] [--normalize]\n"
         "       [--output FILE.npy] [--truncate] [--json] [--bench] "
         "[--threads N]\n"
         "       [--weights FILE]... [--help]\n\n";
  out << "Runs the compiled "
      << (metadata.family.empty() ? "text encoder" : metadata.family)
      << " model (head '" << metadata.headName
      << "') on texts given as arguments,\nwith --file or on standard input "
         "(one per line), "
      << metadata.batchSize << " at a time.\nSequence lengths: ";
  for (size_t i = 0; i < metadata.sequenceLengths.size(); ++i)
    out << (i ? ", " : "") << metadata.sequenceLengths[i];
  out << "; at most " << metadata.maxTokens << " tokens per text.\n";
  out << "Without an action option: ";
  switch (metadata.head) {
  case Head::MaskedLm:
  case Head::Pretraining:
    out << "fill-mask: the most likely tokens for each mask token of "
           "each text";
    break;
  case Head::SequenceClassification:
    out << "--classify";
    break;
  case Head::TokenClassification:
    out << "--tokens";
    break;
  case Head::NextSentence:
    out << "next-sentence prediction; give --pair A B";
    break;
  case Head::Base:
    out << "--embed";
    break;
  }
  out << ".\n\n";
  out << "options:\n"
         "  TEXT...              texts to encode\n"
         "  --file FILE          read the texts from FILE, one per line (- "
         "for standard\n"
         "                       input); empty lines are skipped\n"
         "  --top-k K            fill-mask: the K most likely tokens per "
         "mask (default\n"
         "                       "
      << kDefaultFillMaskTopK
      << "); --classify: only the K best labels\n"
         "  --pair A B           next-sentence prediction: the probability "
         "that B\n"
         "                       follows A (repeatable; with --classify, "
         "--tokens or\n"
         "                       --embed: encode A and B together)\n"
         "  --classify           label scores of each text (softmax, sigmoid "
         "for\n"
         "                       multi-label models, raw for regression)\n"
         "  --tokens             the best label of each token\n"
         "  --embed [cls|mean]   sentence embeddings: hidden state of the "
         "first token\n"
         "                       (cls) or mean over the tokens (mean)\n"
         "                       (default: "
      << (metadata.poolingMode ? poolingName(*metadata.poolingMode) : "cls")
      << (metadata.poolingNormalize ? ", normalized" : "")
      << ")\n"
         "  --normalize          scale embeddings to unit length\n"
         "  --output FILE.npy    write the embeddings, f32 [texts, "
      << metadata.hiddenSize
      << "]\n"
         "  --truncate           keep the first "
      << metadata.maxTokens
      << " tokens of longer texts (the last\n"
         "                       one being the final separator)\n"
         "  --json               print one JSON document\n"
         "  --bench              report the encoding speed on stderr\n"
         "  --threads N          number of threads (default: "
      << ThreadPool::defaultNumThreads()
      << ")\n"
         "  --weights FILE       safetensors file holding the weights "
         "(repeat for sharded\n"
         "                       checkpoints)\n"
         "  --help               print this help\n\n";
  out << "weights: " << describeWeightsSource(model) << "\n";
}

/// A JSON value of a float (null when not finite).
nlohmann::json number(float value) {
  if (!std::isfinite(value))
    return nullptr;
  return static_cast<double>(value);
}

/// The text of `ids` with each mask position replaced by a candidate:
/// `chosen[j]` for mask j.
std::string filledText(const EncoderTokenizer &tokenizer,
                       std::vector<int32_t> ids,
                       const std::vector<MaskResult> &masks,
                       const std::vector<int32_t> &chosen) {
  for (size_t j = 0; j < masks.size(); ++j)
    ids[static_cast<size_t>(masks[j].position)] = chosen[j];
  return tokenizer.decode(ids);
}

/// One run of the command line: the inputs, and what the action keeps of
/// each batch until everything is printed.
struct Job {
  Job(const Options &options, const Metadata &metadata,
      const EncoderTokenizer &tokenizer, const std::vector<Input> &inputs,
      Action action)
      : options(options), metadata(metadata), tokenizer(tokenizer),
        inputs(inputs), action(action),
        kind(options.pairs.empty() ? "text " : "pair ") {}

  const Options &options;
  const Metadata &metadata;
  const EncoderTokenizer &tokenizer;
  const std::vector<Input> &inputs;
  Action action;
  /// "text " or "pair ", for messages and headers.
  const char *kind;
  Pooling pooling = Pooling::Cls;
  bool normalize = false;
  /// Fill-mask candidates per mask, or labels per text.
  size_t topK = 0;
  /// Fill-mask: the mask positions of each input.
  std::vector<std::vector<int64_t>> masks;
  /// Embed: [inputs, hidden size].
  std::vector<float> embeddings;
  std::vector<Result> results;

  /// Keeps what the action needs of a batch of inputs, inputs[first...].
  void collect(const Encoder::Bucket &bucket,
               const std::vector<const Input *> &batch, size_t first,
               MlmHead *mlm);
  /// Prints the results as text on `out`, or adds them to `doc` (--json).
  void printFillMask(std::ostream &out, nlohmann::json &doc) const;
  void printClassify(std::ostream &out, nlohmann::json &doc) const;
  void printTokens(std::ostream &out, nlohmann::json &doc) const;
  void printNextSentence(std::ostream &out, nlohmann::json &doc) const;
  Error printEmbeddings(std::ostream &out, std::ostream &err,
                        nlohmann::json &doc) const;
  /// "text 2: ..." before the results of input i, when there are several.
  void printHeader(std::ostream &out, size_t i) const {
    if (inputs.size() > 1)
      out << kind << i + 1 << ": " << inputs[i].display << "\n";
  }
};

void Job::collect(const Encoder::Bucket &bucket,
                  const std::vector<const Input *> &batch, size_t first,
                  MlmHead *mlm) {
  const int64_t d = metadata.hiddenSize;
  const int64_t labelCount = static_cast<int64_t>(metadata.labels.size());
  const int64_t s = bucket.length;
  const float *hidden = bucket.output("hidden");
  for (size_t row = 0; row < batch.size(); ++row) {
    const size_t index = first + row;
    const EncodedText &encoded = batch[row]->encoded;
    const int64_t length = static_cast<int64_t>(encoded.ids.size());
    const float *rows = hidden + static_cast<int64_t>(row) * s * d;
    Result &result = results[index];
    switch (action) {
    case Action::Embed: {
      float *embedding = embeddings.data() + index * d;
      if (pooling == Pooling::Cls) {
        std::copy(rows, rows + d, embedding);
      } else {
        std::vector<double> sum(static_cast<size_t>(d), 0.0);
        for (int64_t t = 0; t < length; ++t)
          for (int64_t k = 0; k < d; ++k)
            sum[k] += rows[t * d + k];
        for (int64_t k = 0; k < d; ++k)
          embedding[k] = static_cast<float>(sum[k] / length);
      }
      if (normalize) {
        double norm = 0;
        for (int64_t k = 0; k < d; ++k)
          norm += static_cast<double>(embedding[k]) * embedding[k];
        // As torch.nn.functional.normalize: divide by max(norm, 1e-12).
        norm = std::max(std::sqrt(norm), 1e-12);
        for (int64_t k = 0; k < d; ++k)
          embedding[k] = static_cast<float>(embedding[k] / norm);
      }
      break;
    }
    case Action::FillMask:
      for (int64_t position : masks[index]) {
        const float *logits = mlm->logitsOf(rows + position * d);
        std::vector<float> probs =
            softmax(logits, static_cast<size_t>(metadata.vocabSize));
        MaskResult mask;
        mask.position = position;
        for (int32_t id : topIndices(probs, topK))
          mask.candidates.push_back({id, probs[id]});
        result.masks.push_back(std::move(mask));
      }
      break;
    case Action::Classify: {
      const float *logits =
          bucket.output("logits") + static_cast<int64_t>(row) * labelCount;
      std::vector<float> scores(logits, logits + labelCount);
      // As the transformers text-classification pipeline: raw scores for
      // regression, sigmoid for multi-label models and single logits,
      // softmax otherwise.
      if (metadata.problemType == ProblemType::Regression) {
        // Raw.
      } else if (metadata.problemType == ProblemType::MultiLabel ||
                 labelCount == 1) {
        for (float &score : scores)
          score = sigmoid(score);
      } else {
        scores = softmax(logits, static_cast<size_t>(labelCount));
      }
      for (int32_t label : topIndices(scores, topK))
        result.labels.emplace_back(label, scores[label]);
      break;
    }
    case Action::Tokens: {
      const float *logits =
          bucket.output("logits") + static_cast<int64_t>(row) * s * labelCount;
      const int32_t firstId = encoded.ids.front();
      const int32_t lastId = encoded.ids.back();
      for (int64_t t = 0; t < length; ++t) {
        int32_t id = encoded.ids[t];
        // The special tokens of the template: [CLS]/<s>, [SEP]/</s>.
        if (id == firstId || id == lastId || id == tokenizer.padId())
          continue;
        std::vector<float> probs =
            softmax(logits + t * labelCount, static_cast<size_t>(labelCount));
        int32_t best = topIndices(probs, 1).front();
        result.labels.emplace_back(best, probs[best]);
        result.positions.push_back(t);
      }
      break;
    }
    case Action::NextSentence: {
      const float *logits =
          bucket.output(logitsOutputName(metadata.head)) + row * 2;
      result.nsp[0] = logits[0];
      result.nsp[1] = logits[1];
      break;
    }
    }
  }
}

void Job::printFillMask(std::ostream &out, nlohmann::json &doc) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<MaskResult> &maskResults = results[i].masks;
    std::vector<int32_t> best;
    for (const MaskResult &mask : maskResults)
      best.push_back(mask.candidates.empty() ? tokenizer.padId()
                                             : mask.candidates[0].id);
    if (options.json) {
      nlohmann::json candidates = nlohmann::json::array();
      for (size_t j = 0; j < maskResults.size(); ++j) {
        for (const Candidate &candidate : maskResults[j].candidates) {
          std::vector<int32_t> chosen = best;
          chosen[j] = candidate.id;
          candidates.push_back(
              {{"token_id", candidate.id},
               {"token", tokenizer.displayToken(candidate.id)},
               {"score", number(candidate.score)},
               {"sequence", filledText(tokenizer, inputs[i].encoded.ids,
                                       maskResults, chosen)},
               {"position", maskResults[j].position}});
        }
      }
      doc.push_back(std::move(candidates));
      continue;
    }
    printHeader(out, i);
    for (size_t j = 0; j < maskResults.size(); ++j) {
      if (maskResults.size() > 1)
        out << " mask " << j + 1 << ":\n";
      for (const Candidate &candidate : maskResults[j].candidates)
        out << "  " << formatNumber("%.4f", candidate.score) << "  "
            << trimSpaces(tokenizer.displayToken(candidate.id)) << "\n";
    }
    out << "filled: "
        << filledText(tokenizer, inputs[i].encoded.ids, maskResults, best)
        << "\n";
  }
}

void Job::printClassify(std::ostream &out, nlohmann::json &doc) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (options.json) {
      nlohmann::json labels = nlohmann::json::array();
      for (auto [label, score] : results[i].labels)
        labels.push_back(
            {{"label", metadata.labels[label]}, {"score", number(score)}});
      doc.push_back(std::move(labels));
      continue;
    }
    printHeader(out, i);
    for (auto [label, score] : results[i].labels)
      out << "  " << formatNumber("%.4f", score) << "  "
          << metadata.labels[label] << "\n";
  }
}

void Job::printTokens(std::ostream &out, nlohmann::json &doc) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Result &result = results[i];
    const std::vector<int32_t> &ids = inputs[i].encoded.ids;
    if (options.json) {
      nlohmann::json tokens = nlohmann::json::array();
      for (size_t t = 0; t < result.labels.size(); ++t) {
        int32_t id = ids[result.positions[t]];
        tokens.push_back({{"entity", metadata.labels[result.labels[t].first]},
                          {"score", number(result.labels[t].second)},
                          {"index", result.positions[t]},
                          {"word", tokenizer.displayToken(id)},
                          {"token_id", id}});
      }
      doc.push_back(std::move(tokens));
      continue;
    }
    printHeader(out, i);
    // Columns: token, label, score.
    std::vector<std::string> words;
    size_t wordWidth = 0, labelWidth = 0;
    for (size_t t = 0; t < result.labels.size(); ++t) {
      words.push_back(
          trimSpaces(tokenizer.displayToken(ids[result.positions[t]])));
      wordWidth = std::max(wordWidth, words.back().size());
      labelWidth =
          std::max(labelWidth, metadata.labels[result.labels[t].first].size());
    }
    for (size_t t = 0; t < result.labels.size(); ++t) {
      const std::string &label = metadata.labels[result.labels[t].first];
      out << "  " << words[t] << std::string(wordWidth - words[t].size(), ' ')
          << "  " << label << std::string(labelWidth - label.size(), ' ')
          << "  " << formatNumber("%.4f", result.labels[t].second) << "\n";
    }
  }
}

void Job::printNextSentence(std::ostream &out, nlohmann::json &doc) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    // Index 0 is "B follows A" in BERT's next-sentence head.
    std::vector<float> probs = softmax(results[i].nsp, 2);
    if (options.json) {
      doc.push_back(
          {{"is_next", number(probs[0])},
           {"logits", {number(results[i].nsp[0]), number(results[i].nsp[1])}}});
      continue;
    }
    printHeader(out, i);
    out << "P(B follows A) = " << formatNumber("%.4f", probs[0]) << "\n";
  }
}

Error Job::printEmbeddings(std::ostream &out, std::ostream &err,
                           nlohmann::json &doc) const {
  const int64_t n = static_cast<int64_t>(inputs.size());
  const int64_t d = metadata.hiddenSize;
  if (options.outputPath) {
    if (Error e = writeNpy(*options.outputPath,
                           TensorView{DType::F32,
                                      {n, d},
                                      const_cast<float *>(embeddings.data())}))
      return e;
    if (options.json)
      doc = {{"output", *options.outputPath}, {"shape", {n, d}}};
    else
      out << "wrote " << n << " embedding" << (n == 1 ? "" : "s") << " ("
          << formatType(DType::F32, {n, d}) << ") to " << *options.outputPath
          << "\n";
    return Error::success();
  }
  if (options.json) {
    for (int64_t i = 0; i < n; ++i) {
      nlohmann::json values = nlohmann::json::array();
      for (int64_t k = 0; k < d; ++k)
        values.push_back(number(embeddings[i * d + k]));
      doc.push_back(std::move(values));
    }
    return Error::success();
  }
  for (int64_t i = 0; i < n; ++i) {
    out << "[";
    size_t shown = std::min(kPrintedValues, static_cast<size_t>(d));
    for (size_t k = 0; k < shown; ++k)
      out << (k ? ", " : "") << formatNumber("%.4f", embeddings[i * d + k]);
    if (shown < static_cast<size_t>(d))
      out << ", \u2026] (" << d << " values)";
    else
      out << "]";
    out << "\n";
  }
  if (static_cast<size_t>(n) > kMaxSimilarityTexts) {
    err << "note: the cosine similarity matrix is printed for at most "
        << kMaxSimilarityTexts << " texts; use --output FILE.npy" << std::endl;
    return Error::success();
  }
  if (n < 2)
    return Error::success();
  std::vector<double> norms(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (int64_t k = 0; k < d; ++k)
      sum += static_cast<double>(embeddings[i * d + k]) * embeddings[i * d + k];
    norms[i] = std::max(std::sqrt(sum), 1e-12);
  }
  out << "cosine similarity:\n";
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (int64_t k = 0; k < d; ++k)
        dot +=
            static_cast<double>(embeddings[i * d + k]) * embeddings[j * d + k];
      out << "  " << formatNumber("%7.4f", dot / (norms[i] * norms[j]));
    }
    out << "\n";
  }
  return Error::success();
}

int run(const ModelSymbols &model, int argc, char **argv, std::istream *in,
        std::ostream &out, std::ostream &err) {
  if (Error e = requireModel(model))
    return reportError(err, e.message());
  Expected<Options> optionsOr = parseOptions(argc, argv);
  if (!optionsOr)
    return reportError(err, optionsOr.message());
  const Options &options = *optionsOr;
  Expected<ModelSignature> signature = parseModelSignature(model.signature);
  if (!signature)
    return reportError(err, signature.message());
  Expected<Metadata> metadataOr = parseMetadata(signature->metadata);
  if (!metadataOr)
    return reportError(err, metadataOr.message());
  Metadata &metadata = *metadataOr;
  if (Error e = checkEntries(*signature, metadata))
    return reportError(err, e.message());
  if (options.help) {
    printUsage(programName(argc, argv), metadata, model, out);
    out.flush();
    return 0;
  }
  Expected<Action> action = chooseAction(options, metadata);
  if (!action)
    return reportError(err, action.message());
  if (options.threads)
    ThreadPool::global().setNumThreads(*options.threads);

  Expected<EncoderTokenizer> tokenizer =
      EncoderTokenizer::create(metadata.tokenizer, [&](std::string_view name) {
        return findEmbeddedFile(model, name);
      });
  if (!tokenizer)
    return reportError(err, tokenizer.message());

  // Every input is read, encoded and checked before the weights are loaded.
  Expected<std::vector<std::string>> texts = readTexts(options, in);
  if (!texts)
    return reportError(err, texts.message());
  Expected<std::vector<Input>> inputs =
      encodeInputs(options, *texts, metadata, *tokenizer);
  if (!inputs)
    return reportError(err, inputs.message());
  Job job(options, metadata, *tokenizer, *inputs, *action);
  job.pooling = options.embedMode ? *options.embedMode
                                  : metadata.poolingMode.value_or(Pooling::Cls);
  job.normalize = options.normalize || metadata.poolingNormalize;
  job.topK = static_cast<size_t>(options.topK.value_or(
      job.action == Action::FillMask
          ? kDefaultFillMaskTopK
          : static_cast<int64_t>(metadata.labels.size())));
  job.results.resize(inputs->size());
  if (job.action == Action::Embed)
    job.embeddings.assign(
        inputs->size() * static_cast<size_t>(metadata.hiddenSize), 0.0f);
  if (job.action == Action::FillMask) {
    // Every text needs a mask token.
    std::optional<int32_t> maskId = tokenizer->maskId();
    if (!maskId)
      return reportError(err, "the tokenizer has no mask token, which "
                              "fill-mask needs");
    for (size_t i = 0; i < inputs->size(); ++i) {
      job.masks.push_back(maskPositions((*inputs)[i].encoded.ids, *maskId));
      if (job.masks.back().empty())
        return reportError(err, std::string(job.kind) + std::to_string(i + 1) +
                                    " has no " + tokenizer->maskToken() +
                                    " token");
    }
  }

  Expected<Session> session =
      Session::create(model, std::move(*signature), options.weightsPaths);
  if (!session)
    return reportError(err, session.message());
  const double startupMs = processUptimeMs();
  Encoder encoder(*session, metadata, tokenizer->padId());
  std::optional<MlmHead> mlm;
  if (job.action == Action::FillMask) {
    Expected<MlmHead> head = MlmHead::bind(*session, metadata);
    if (!head)
      return reportError(err, head.message());
    mlm = std::move(*head);
  }

  // Batches of batch_size inputs, in order.
  const size_t batchSize = static_cast<size_t>(metadata.batchSize);
  for (size_t first = 0; first < inputs->size(); first += batchSize) {
    std::vector<const Input *> batch;
    for (size_t i = first; i < std::min(inputs->size(), first + batchSize); ++i)
      batch.push_back(&(*inputs)[i]);
    Expected<const Encoder::Bucket *> bucket = encoder.run(batch);
    if (!bucket)
      return reportError(err, bucket.message());
    job.collect(**bucket, batch, first, mlm ? &*mlm : nullptr);
  }

  nlohmann::json doc = nlohmann::json::array();
  switch (job.action) {
  case Action::FillMask:
    job.printFillMask(out, doc);
    break;
  case Action::Classify:
    job.printClassify(out, doc);
    break;
  case Action::Tokens:
    job.printTokens(out, doc);
    break;
  case Action::NextSentence:
    job.printNextSentence(out, doc);
    break;
  case Action::Embed:
    if (Error e = job.printEmbeddings(out, err, doc))
      return reportError(err, e.message());
    break;
  }
  if (options.json)
    out << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  out.flush();
  if (!out)
    return reportError(err, "cannot write to standard output");

  if (options.bench) {
    err << formatStartupReport(startupMs) << std::endl;
    for (const auto &[length, bucket] : encoder.buckets()) {
      double perBatch = bucket.ms / std::max<int64_t>(bucket.batches, 1);
      err << "encode: " << formatNumber("%.3f", perBatch) << " ms per batch of "
          << metadata.batchSize << " (" << length << " tokens), "
          << formatNumber("%.1f",
                          bucket.texts * 1000.0 / std::max(bucket.ms, 1e-6))
          << " texts/s" << std::endl;
    }
    if (mlm && mlm->calls > 0)
      err << "mlm_head: " << formatNumber("%.3f", mlm->ms / mlm->calls)
          << " ms per mask (" << mlm->calls << " mask"
          << (mlm->calls == 1 ? "" : "s") << ")" << std::endl;
  }
  return 0;
}

int guardedRun(const ModelSymbols &model, int argc, char **argv,
               std::istream *in, std::ostream &out, std::ostream &err) {
  return runGuarded(err, [&] { return run(model, argc, argv, in, out, err); });
}

} // namespace

int runTextEncoding(const ModelSymbols &model, int argc, char **argv,
                    std::ostream &out, std::ostream &err) {
  // A terminal on standard input gives no texts rather than a silent wait.
  std::istream *in = isatty(STDIN_FILENO) ? nullptr : &std::cin;
  return guardedRun(model, argc, argv, in, out, err);
}

int runTextEncoding(const ModelSymbols &model, int argc, char **argv,
                    std::istream &in, std::ostream &out, std::ostream &err) {
  return guardedRun(model, argc, argv, &in, out, err);
}

} // namespace kiln
