//===- Bert.cpp - BERT and RoBERTa encoders as tfm functions --------------===//
//
// Mirrors transformers' BertModel / RobertaModel and their heads: word +
// position + token-type embeddings, post-LayerNorm blocks with padding-masked
// self-attention, an optional tanh pooler, and the task heads.
//
// Entries, for a batch of B right-padded texts (B = --batch):
//   encode_<S>  ids [B, S], token_type_ids [B, S], lengths [B]
//               -> hidden [B, S, D] (last hidden state), pooled [B, D] (when
//                  the checkpoint has a pooler) and the head's outputs:
//                  sequence-classification: logits [B, L]
//                  next-sentence:           logits [B, 2]
//                  pretraining:             nsp_logits [B, 2]
//                  token-classification:    logits [B, S, L]
//   mlm_head    hidden [1, D] -> logits [1, V] (masked-lm and pretraining)
// Keys at or past lengths[b] are masked, so padding never changes the rows of
// real tokens. RoBERTa numbers positions from padding_idx + 1; rows past the
// length would use padding_idx there, but nothing reads those rows.
//
//===----------------------------------------------------------------------===//

#include "models/Models.h"

#include "dialect/TfmOps.h"
#include "frontend/BertConfig.h"
#include "frontend/Checkpoint.h"
#include "frontend/EncoderSettings.h"
#include "models/TfmBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"

#include <cmath>
#include <nlohmann/json.hpp>

using namespace mlir;
using namespace kiln::tfm;

namespace kiln {
namespace {

/// The task heads a checkpoint can carry, by architecture.
struct HeadInfo {
  const char *name;
  const char *bertArchitecture;
  const char *robertaArchitecture;
};
const HeadInfo kHeads[] = {
    {"base", "BertModel", "RobertaModel"},
    {"masked-lm", "BertForMaskedLM", "RobertaForMaskedLM"},
    {"next-sentence", "BertForNextSentencePrediction", nullptr},
    {"pretraining", "BertForPreTraining", nullptr},
    {"sequence-classification", "BertForSequenceClassification",
     "RobertaForSequenceClassification"},
    {"token-classification", "BertForTokenClassification",
     "RobertaForTokenClassification"},
};

std::string headNames() {
  std::string names;
  for (const HeadInfo &head : kHeads)
    names += std::string(names.empty() ? "" : ", ") + head.name;
  return names;
}

class BertBuilder : public TfmBuilder {
public:
  BertBuilder(const CheckpointFolder &checkpoint, const BertConfig &config,
              std::string head, int64_t batch, MLIRContext &ctx)
      : TfmBuilder(ctx), checkpoint(checkpoint), config(config),
        head(std::move(head)), batch(batch) {}

  /// Picks the weight prefix and checks every tensor the model reads.
  Error checkWeights();
  void buildEncode(ModuleOp module, int64_t length);
  void buildMlmHead(ModuleOp module);
  bool hasPooler() const { return pooler; }

private:
  std::string base() const { return config.roberta ? "roberta" : "bert"; }
  bool usesMlm() const { return head == "masked-lm" || head == "pretraining"; }
  bool usesNsp() const {
    return head == "next-sentence" || head == "pretraining";
  }
  std::vector<CheckpointFolder::TensorSpec> encoderSpecs() const;
  std::vector<CheckpointFolder::TensorSpec> headSpecs() const;

  /// Linear layers outside the base model are named without its prefix.
  Value headLinear(const std::string &path, Value x, int64_t in,
                   int64_t out) {
    std::string saved = std::exchange(prefix, "");
    Value result = linear(path, x, in, out);
    prefix = saved;
    return result;
  }
  Value headLayerNorm(const std::string &path, Value x) {
    std::string saved = std::exchange(prefix, "");
    Value result = layerNorm(path, x, config.layerNormEpsilon);
    prefix = saved;
    return result;
  }
  Value headWeight(const std::string &name, ArrayRef<int64_t> shape) {
    return WeightOp::create(b, at(name), tensor(shape), name);
  }

  Value embeddings(Value ids, Value typeIds, int64_t length);
  Value layer(int64_t index, Value x, Value mask);
  /// Row 0 of every sequence: [B, S, D] -> [B, D].
  Value firstToken(Location loc, Value hidden);

  const CheckpointFolder &checkpoint;
  const BertConfig &config;
  std::string head;
  int64_t batch;
  bool pooler = false;
};

std::vector<CheckpointFolder::TensorSpec> BertBuilder::encoderSpecs() const {
  int64_t d = config.hiddenSize, inner = config.intermediateSize;
  std::vector<CheckpointFolder::TensorSpec> specs = {
      {"embeddings.word_embeddings.weight", {config.vocabSize, d}},
      {"embeddings.position_embeddings.weight", {config.maxPositions, d}},
      {"embeddings.token_type_embeddings.weight", {config.typeVocabSize, d}},
      {"embeddings.LayerNorm.weight", {d}},
      {"embeddings.LayerNorm.bias", {d}}};
  for (int64_t l = 0; l < config.numLayers; ++l) {
    std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char *name : {"attention.self.query", "attention.self.key",
                             "attention.self.value", "attention.output.dense"}) {
      specs.push_back({p + name + ".weight", {d, d}});
      specs.push_back({p + name + ".bias", {d}});
    }
    specs.push_back({p + "intermediate.dense.weight", {inner, d}});
    specs.push_back({p + "intermediate.dense.bias", {inner}});
    specs.push_back({p + "output.dense.weight", {d, inner}});
    specs.push_back({p + "output.dense.bias", {d}});
    for (const char *norm : {"attention.output.LayerNorm", "output.LayerNorm"}) {
      specs.push_back({p + norm + ".weight", {d}});
      specs.push_back({p + norm + ".bias", {d}});
    }
  }
  for (auto &spec : specs)
    spec.name = prefix + spec.name;
  return specs;
}

std::vector<CheckpointFolder::TensorSpec> BertBuilder::headSpecs() const {
  int64_t d = config.hiddenSize, v = config.vocabSize;
  int64_t labels = static_cast<int64_t>(config.id2label.size());
  std::vector<CheckpointFolder::TensorSpec> specs;
  if (usesMlm()) {
    std::string p = config.roberta ? "lm_head." : "cls.predictions.";
    std::string transform = config.roberta ? p : p + "transform.";
    std::string norm = config.roberta ? "layer_norm" : "LayerNorm";
    specs.push_back({transform + "dense.weight", {d, d}});
    specs.push_back({transform + "dense.bias", {d}});
    specs.push_back({transform + norm + ".weight", {d}});
    specs.push_back({transform + norm + ".bias", {d}});
    specs.push_back({p + "bias", {v}});
  }
  if (usesNsp()) {
    specs.push_back({"cls.seq_relationship.weight", {2, d}});
    specs.push_back({"cls.seq_relationship.bias", {2}});
  }
  if (head == "sequence-classification") {
    if (config.roberta) {
      specs.push_back({"classifier.dense.weight", {d, d}});
      specs.push_back({"classifier.dense.bias", {d}});
      specs.push_back({"classifier.out_proj.weight", {labels, d}});
      specs.push_back({"classifier.out_proj.bias", {labels}});
    } else {
      specs.push_back({"classifier.weight", {labels, d}});
      specs.push_back({"classifier.bias", {labels}});
    }
  }
  if (head == "token-classification") {
    specs.push_back({"classifier.weight", {labels, d}});
    specs.push_back({"classifier.bias", {labels}});
  }
  return specs;
}

Error BertBuilder::checkWeights() {
  // Head checkpoints nest the encoder under "bert." / "roberta."; base
  // checkpoints (sentence-transformers) do not.
  std::string nested = base() + ".";
  prefix = checkpoint.hasTensor(nested + "embeddings.word_embeddings.weight")
               ? nested
               : "";
  if (Error error = checkpoint.checkTensors(encoderSpecs()))
    return error;
  if (Error error = checkpoint.checkTensors(headSpecs()))
    return error;
  pooler = checkpoint.hasTensor(prefix + "pooler.dense.weight");
  if (usesNsp() && !pooler)
    return makeError(checkpoint.folder(), ": head '", head,
                     "' needs the pooler, but tensor '", prefix,
                     "pooler.dense.weight' is missing");
  if (head == "sequence-classification" && !config.roberta && !pooler)
    return makeError(checkpoint.folder(),
                     ": head 'sequence-classification' needs the pooler, "
                     "but tensor '",
                     prefix, "pooler.dense.weight' is missing");
  if (pooler) {
    int64_t d = config.hiddenSize;
    return checkpoint.checkTensors({{prefix + "pooler.dense.weight", {d, d}},
                                    {prefix + "pooler.dense.bias", {d}}});
  }
  return Error::success();
}

Value BertBuilder::embeddings(Value ids, Value typeIds, int64_t length) {
  int64_t d = config.hiddenSize;
  Location loc = at("embeddings");
  auto hiddenType = tensor({batch, length, d});
  Value words = EmbeddingOp::create(
      b, at("embeddings.word_embeddings"), hiddenType,
      weight("embeddings.word_embeddings.weight", {config.vocabSize, d}),
      ids);
  // Absolute positions; RoBERTa's start after padding_idx.
  int64_t first = config.roberta ? config.padTokenId + 1 : 0;
  SmallVector<int64_t> positions(length);
  for (int64_t i = 0; i < length; ++i)
    positions[i] = first + i;
  Value places = EmbeddingOp::create(
      b, at("embeddings.position_embeddings"), tensor({1, length, d}),
      weight("embeddings.position_embeddings.weight",
             {config.maxPositions, d}),
      i64Constant({1, length}, positions));
  Value types = EmbeddingOp::create(
      b, at("embeddings.token_type_embeddings"), hiddenType,
      weight("embeddings.token_type_embeddings.weight",
             {config.typeVocabSize, d}),
      typeIds);
  Value sum = add(loc, add(loc, words, places), types);
  return layerNorm("embeddings.LayerNorm", sum, config.layerNormEpsilon);
}

Value BertBuilder::layer(int64_t index, Value x, Value mask) {
  std::string p = "encoder.layer." + std::to_string(index);
  int64_t d = config.hiddenSize;
  Location attn = at(p + ".attention.self");
  Value query = splitHeads(attn, linear(p + ".attention.self.query", x, d, d),
                           config.numHeads);
  Value key = splitHeads(attn, linear(p + ".attention.self.key", x, d, d),
                         config.numHeads);
  Value value = splitHeads(attn, linear(p + ".attention.self.value", x, d, d),
                           config.numHeads);
  double scale = 1.0 / std::sqrt(static_cast<double>(config.headDim()));
  Value context =
      mergeHeads(attn, attention(attn, query, key, value, mask, scale));
  Value attended = linear(p + ".attention.output.dense", context, d, d);
  Value normed =
      layerNorm(p + ".attention.output.LayerNorm",
                add(at(p + ".attention.output"), attended, x),
                config.layerNormEpsilon);
  Value inner = linear(p + ".intermediate.dense", normed, d,
                       config.intermediateSize);
  inner = activation(at(p + ".intermediate"), config.hiddenAct, inner);
  Value out = linear(p + ".output.dense", inner, config.intermediateSize, d);
  return layerNorm(p + ".output.LayerNorm", add(at(p + ".output"), out, normed),
                   config.layerNormEpsilon);
}

Value BertBuilder::firstToken(Location loc, Value hidden) {
  ArrayRef<int64_t> shape = shapeOf(hidden);
  SmallVector<int64_t> offsets(3, 0), strides(3, 1);
  Value row = SliceOp::create(b, loc, tensor({shape[0], 1, shape[2]}), hidden,
                              b.getDenseI64ArrayAttr(offsets),
                              b.getDenseI64ArrayAttr(strides));
  return reshape(loc, row, {shape[0], shape[2]});
}

void BertBuilder::buildEncode(ModuleOp module, int64_t length) {
  int64_t d = config.hiddenSize;
  int64_t labels = static_cast<int64_t>(config.id2label.size());
  auto idsType = tensor({batch, length}, i64);
  SmallVector<Type> argTypes = {idsType, idsType, tensor({batch}, i64)};
  SmallVector<std::pair<std::string, Type>> results = {
      {"hidden", tensor({batch, length, d})}};
  if (pooler)
    results.push_back({"pooled", tensor({batch, d})});
  if (head == "sequence-classification")
    results.push_back({"logits", tensor({batch, labels})});
  if (head == "next-sentence")
    results.push_back({"logits", tensor({batch, 2})});
  if (head == "pretraining")
    results.push_back({"nsp_logits", tensor({batch, 2})});
  if (head == "token-classification")
    results.push_back({"logits", tensor({batch, length, labels})});
  SmallVector<Type> resultTypes;
  for (auto &result : results)
    resultTypes.push_back(result.second);

  std::string name = "encode_" + std::to_string(length);
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, at(name), name,
                                   b.getFunctionType(argTypes, resultTypes));
  static const char *const argNames[] = {"ids", "token_type_ids", "lengths"};
  for (auto [i, argName] : llvm::enumerate(argNames))
    func.setArgAttr(i, "tfm.name", b.getStringAttr(argName));
  for (auto [i, result] : llvm::enumerate(results))
    func.setResultAttr(i, "tfm.name", b.getStringAttr(result.first));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);

  Value hidden = embeddings(entry->getArgument(0), entry->getArgument(1),
                            length);
  Value mask = PaddingMaskOp::create(b, at("encoder"),
                                     tensor({batch, 1, 1, length}),
                                     entry->getArgument(2));
  for (int64_t l = 0; l < config.numLayers; ++l)
    hidden = layer(l, hidden, mask);

  SmallVector<Value> outputs = {hidden};
  Value pooled;
  if (pooler) {
    Location loc = at("pooler");
    pooled = activation(loc, "tanh",
                        linear("pooler.dense", firstToken(loc, hidden), d, d));
    outputs.push_back(pooled);
  }
  if (usesNsp())
    outputs.push_back(headLinear("cls.seq_relationship", pooled, d, 2));
  if (head == "sequence-classification") {
    if (config.roberta) {
      Location loc = at("classifier");
      Value x = headLinear("classifier.dense", firstToken(loc, hidden), d, d);
      x = activation(loc, "tanh", x);
      outputs.push_back(headLinear("classifier.out_proj", x, d, labels));
    } else {
      outputs.push_back(headLinear("classifier", pooled, d, labels));
    }
  }
  if (head == "token-classification")
    outputs.push_back(headLinear("classifier", hidden, d, labels));
  func::ReturnOp::create(b, at(name), outputs);
}

void BertBuilder::buildMlmHead(ModuleOp module) {
  int64_t d = config.hiddenSize, v = config.vocabSize;
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(
      b, at("mlm_head"), "mlm_head",
      b.getFunctionType({tensor({1, d})}, {tensor({1, v})}));
  func.setArgAttr(0, "tfm.name", b.getStringAttr("hidden"));
  func.setResultAttr(0, "tfm.name", b.getStringAttr("logits"));
  b.setInsertionPointToStart(func.addEntryBlock());

  // transform (dense, activation, LayerNorm), then the decoder tied to the
  // word embeddings plus its own bias.
  std::string p = config.roberta ? "lm_head" : "cls.predictions";
  std::string transform = config.roberta ? p : p + ".transform";
  std::string norm = config.roberta ? ".layer_norm" : ".LayerNorm";
  Value x = headLinear(transform + ".dense", func.getArgument(0), d, d);
  x = activation(at(transform), config.roberta ? "gelu" : config.hiddenAct, x);
  x = headLayerNorm(transform + norm, x);
  Value table = weight("embeddings.word_embeddings.weight", {v, d});
  Value logits = LinearOp::create(b, at(p + ".decoder"), tensor({1, v}), x,
                                  table, headWeight(p + ".bias", {v}));
  func::ReturnOp::create(b, at("mlm_head"), logits);
}

/// The head: --head, else from `architectures`, else the base model.
Expected<std::string> chooseHead(const BertConfig &config,
                                 const std::string &requested,
                                 const std::string &configPath) {
  if (!requested.empty()) {
    for (const HeadInfo &head : kHeads)
      if (requested == head.name) {
        if (config.roberta && !head.robertaArchitecture)
          return makeError("--head ", requested,
                           " does not exist for RoBERTa");
        return requested;
      }
    return makeError("--head ", requested, " is not a head (", headNames(),
                     ")");
  }
  if (config.architecture.empty())
    return std::string("base");
  for (const HeadInfo &head : kHeads) {
    const char *architecture =
        config.roberta ? head.robertaArchitecture : head.bertArchitecture;
    if (architecture && config.architecture == architecture)
      return std::string(head.name);
  }
  return makeError(configPath, ": architecture '", config.architecture,
                   "' is not supported (choose a head with --head: ",
                   headNames(), ")");
}

/// Tokenizer files and settings for the runtime's EncoderTokenizer.
Expected<nlohmann::json> tokenizerMetadata(const CheckpointFolder &ckpt,
                                           const BertConfig &config,
                                           std::vector<ModelFile> &files) {
  nlohmann::json metadata = {
      {"kind", config.roberta ? "byte_level_bpe" : "wordpiece"}};
  if (ckpt.hasFile("tokenizer.json")) {
    files.push_back({"tokenizer.json", ckpt.file("tokenizer.json")});
    metadata["files"] = {"tokenizer.json"};
  } else if (!config.roberta && ckpt.hasFile("vocab.txt")) {
    files.push_back({"vocab.txt", ckpt.file("vocab.txt")});
    metadata["files"] = {"vocab.txt"};
    metadata["lowercase"] = true;
    metadata["strip_accents"] = nullptr;
    metadata["tokenize_chinese_chars"] = true;
    if (ckpt.hasFile("tokenizer_config.json")) {
      Expected<nlohmann::json> settings =
          readJsonFile(ckpt.file("tokenizer_config.json"));
      if (!settings)
        return settings.takeError();
      applyTokenizerConfig(*settings, metadata);
    }
  } else if (config.roberta && ckpt.hasFile("vocab.json") &&
             ckpt.hasFile("merges.txt")) {
    files.push_back({"vocab.json", ckpt.file("vocab.json")});
    files.push_back({"merges.txt", ckpt.file("merges.txt")});
    metadata["files"] = {"vocab.json", "merges.txt"};
    metadata["add_prefix_space"] = false;
  } else {
    return makeError(ckpt.folder(), ": no tokenizer (expected ",
                     config.roberta
                         ? "tokenizer.json, or vocab.json and merges.txt)"
                         : "tokenizer.json or vocab.txt)");
  }
  return metadata;
}

/// sentence-transformers folders: modules.json names a Pooling module
/// (mean or cls) and maybe a Normalize module.
Expected<nlohmann::json> sentenceTransformersPooling(
    const CheckpointFolder &ckpt) {
  if (!ckpt.hasFile("modules.json"))
    return nlohmann::json();
  Expected<nlohmann::json> modulesJson =
      readJsonFile(ckpt.file("modules.json"));
  if (!modulesJson)
    return modulesJson.takeError();
  Expected<SentenceTransformersModules> modules =
      parseModulesJson(*modulesJson, ckpt.file("modules.json"));
  if (!modules)
    return modules.takeError();
  nlohmann::json pooling = {{"mode", "cls"}, {"normalize", modules->normalize}};
  for (const std::string &folder : modules->poolingFolders) {
    std::string configPath = ckpt.file(folder + "/config.json");
    Expected<nlohmann::json> settings = readJsonFile(configPath);
    if (!settings)
      return settings.takeError();
    Expected<std::string> mode = parsePoolingConfig(*settings, configPath);
    if (!mode)
      return mode.takeError();
    pooling["mode"] = *mode;
  }
  return pooling;
}

} // namespace

Expected<BuiltModel> buildBert(const CheckpointFolder &checkpoint,
                               MLIRContext &ctx,
                               const ModelBuildOptions &options) {
  Expected<BertConfig> config =
      BertConfig::parse(checkpoint.config(), checkpoint.configPath());
  if (!config)
    return config.takeError();
  Expected<std::string> head =
      chooseHead(*config, options.head, checkpoint.configPath());
  if (!head)
    return head.takeError();
  int64_t maxTokens = config->maxTokens();
  std::vector<int64_t> lengths = options.sequenceLengths;
  if (lengths.empty())
    for (int64_t length : {16, 64, 256})
      if (length < maxTokens)
        lengths.push_back(length);
  std::sort(lengths.begin(), lengths.end());
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  if (lengths.front() < 2 || lengths.back() > maxTokens)
    return makeError("--sequence-lengths must lie in [2, ", maxTokens, "]");
  if (lengths.back() != maxTokens)
    lengths.push_back(maxTokens); // every text that fits must have an entry
  int64_t batch = options.batchSize > 0 ? options.batchSize : 8;

  std::vector<ModelFile> files;
  Expected<nlohmann::json> tokenizer =
      tokenizerMetadata(checkpoint, *config, files);
  if (!tokenizer)
    return tokenizer.takeError();
  Expected<nlohmann::json> pooling = sentenceTransformersPooling(checkpoint);
  if (!pooling)
    return pooling.takeError();

  ctx.loadDialect<TfmDialect, func::FuncDialect>();
  BertBuilder builder(checkpoint, *config, *head, batch, ctx);
  if (Error error = builder.checkWeights())
    return error;
  BuiltModel built;
  built.module = ModuleOp::create(
      FileLineColLoc::get(&ctx, checkpoint.configPath(), 1, 1));
  for (int64_t length : lengths)
    builder.buildEncode(*built.module, length);
  if (*head == "masked-lm" || *head == "pretraining")
    builder.buildMlmHead(*built.module);
  if (failed(verify(*built.module)))
    return makeError(checkpoint.folder(),
                     ": internal error: the encoder IR does not verify");

  nlohmann::json labels = nlohmann::json::object();
  for (const auto &[index, label] : config->id2label)
    labels[std::to_string(index)] = label;
  nlohmann::json metadata = {
      {"task", "text-encoding"},
      {"family", config->roberta ? "roberta" : "bert"},
      {"head", *head},
      {"batch_size", batch},
      {"sequence_lengths", lengths},
      {"max_length", maxTokens},
      {"hidden_size", config->hiddenSize},
      {"vocab_size", config->vocabSize},
      {"id2label", labels},
      {"problem_type", config->problemType.empty()
                           ? "single_label_classification"
                           : config->problemType},
      {"tokenizer", *tokenizer}};
  if (!pooling->is_null())
    metadata["pooling"] = *pooling;
  (*built.module)
      ->setAttr("tfm.metadata",
                StringAttr::get(&ctx, metadata.dump()));
  built.weightFiles = checkpoint.weightFiles();
  built.embeddedFiles = std::move(files);
  return built;
}

} // namespace kiln
