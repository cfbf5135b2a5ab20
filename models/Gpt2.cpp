//===- Gpt2.cpp - GPT-2 as tfm functions ----------------------------------===//
//
// Mirrors transformers' GPT2LMHeadModel: learned positions, pre-LayerNorm
// blocks, Conv1D weights stored [in, out], `gelu_new`, a tied LM head.
//
// Generation needs three entries that share the weights and a KV cache
// (`cache.<layer>.key|value`, [1, heads, context, head_dim], runtime-owned
// states updated in place):
//   prefill_<B>  ids [1, B]                -> hidden [1, B, D]; writes cache
//                                             positions [0, B)
//   decode       ids [1, 1], position [1, 1] -> hidden [1, 1, D]; writes the
//                                             cache at `position`, attends to
//                                             [0, position]
//   lm_head      hidden [1, D]             -> logits [1, V]
// `hidden` is the output of the final LayerNorm. A prompt of length L runs
// with the smallest B >= L: padding sits after the prompt, so the causal mask
// keeps it from changing the prompt's rows, and the cache rows it writes are
// overwritten by the tokens decoded next.
//
//===----------------------------------------------------------------------===//

#include "models/Models.h"

#include "dialect/TfmOps.h"
#include "models/TfmBuilder.h"
#include "frontend/Checkpoint.h"
#include "frontend/Gpt2Config.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

#include <cmath>
#include <nlohmann/json.hpp>

using namespace mlir;
using namespace kiln::tfm;

namespace kiln {
namespace {

class Gpt2Builder : public TfmBuilder {
public:
  Gpt2Builder(const CheckpointFolder &checkpoint, const Gpt2Config &config,
              int64_t context, MLIRContext &ctx)
      : TfmBuilder(ctx), checkpoint(checkpoint), config(config),
        context(context) {}

  /// Checks that every tensor the model reads exists with the config's
  /// shape, so a mismatch names the tensor before any IR is built.
  Error checkWeights();

  Error buildPrefill(ModuleOp module, int64_t length);
  Error buildDecode(ModuleOp module);
  Error buildLmHead(ModuleOp module);

private:
  struct WeightSpec {
    std::string name;
    std::vector<int64_t> shape;
  };
  std::vector<WeightSpec> weightSpecs();

  Value layerNorm(const std::string &path, Value x) {
    return TfmBuilder::layerNorm(path, x, config.layerNormEpsilon);
  }
  /// Conv1D: x · W + b with W stored [in, out].
  Value conv1d(const std::string &path, Value x, int64_t in, int64_t out) {
    return linear(path, x, in, out, /*bias=*/true, /*weightInOut=*/true);
  }
  Value embed(Value ids, Value positions, int64_t length);

  /// One block. `cacheKey`/`cacheValue` are updated in place; `position` is
  /// null for prefill (causal attention over the block's own keys) and the
  /// decoded token's position for decode (attention over the cache).
  Value block(int64_t layer, Value x, Value &cacheKey, Value &cacheValue,
              Value position);

  /// Creates `name` with inputs, the cache states, and hidden + caches out.
  Error buildGeneration(ModuleOp module, StringRef name,
                        ArrayRef<std::pair<std::string, RankedTensorType>>
                            inputs,
                        function_ref<Value(ArrayRef<Value> inputs,
                                           SmallVectorImpl<Value> &caches)>
                            body);

  const CheckpointFolder &checkpoint;
  const Gpt2Config &config;
  int64_t context;
};

std::vector<Gpt2Builder::WeightSpec> Gpt2Builder::weightSpecs() {
  int64_t d = config.hiddenSize, inner = config.innerSize;
  std::vector<WeightSpec> specs = {{"wte.weight", {config.vocabSize, d}},
                                   {"wpe.weight", {config.maxPositions, d}},
                                   {"ln_f.weight", {d}},
                                   {"ln_f.bias", {d}}};
  for (int64_t l = 0; l < config.numLayers; ++l) {
    std::string h = "h." + std::to_string(l) + ".";
    for (const char *norm : {"ln_1", "ln_2"}) {
      specs.push_back({h + norm + ".weight", {d}});
      specs.push_back({h + norm + ".bias", {d}});
    }
    specs.push_back({h + "attn.c_attn.weight", {d, 3 * d}});
    specs.push_back({h + "attn.c_attn.bias", {3 * d}});
    specs.push_back({h + "attn.c_proj.weight", {d, d}});
    specs.push_back({h + "attn.c_proj.bias", {d}});
    specs.push_back({h + "mlp.c_fc.weight", {d, inner}});
    specs.push_back({h + "mlp.c_fc.bias", {inner}});
    specs.push_back({h + "mlp.c_proj.weight", {inner, d}});
    specs.push_back({h + "mlp.c_proj.bias", {d}});
  }
  return specs;
}

Error Gpt2Builder::checkWeights() {
  prefix = checkpoint.hasTensor("transformer.wte.weight") ? "transformer." : "";
  if (Error error = checkpoint.checkLayerCount(
          "n_layer", config.numLayers, [&](int64_t layer) {
            return prefix + "h." + std::to_string(layer) + ".ln_1.weight";
          }))
    return error;
  std::vector<CheckpointFolder::TensorSpec> specs;
  for (const WeightSpec &spec : weightSpecs())
    specs.push_back({prefix + spec.name, spec.shape});
  return checkpoint.checkTensors(specs);
}

Value Gpt2Builder::embed(Value ids, Value positions, int64_t length) {
  int64_t d = config.hiddenSize;
  Value tokens = EmbeddingOp::create(
      b, at("wte"), tensor({1, length, d}),
      weight("wte.weight", {config.vocabSize, d}), ids);
  Value places = EmbeddingOp::create(
      b, at("wpe"), tensor({1, length, d}),
      weight("wpe.weight", {config.maxPositions, d}), positions);
  return add(at("wpe"), tokens, places);
}

Value Gpt2Builder::block(int64_t layer, Value x, Value &cacheKey,
                         Value &cacheValue, Value position) {
  std::string h = "h." + std::to_string(layer);
  int64_t d = config.hiddenSize;
  Location attn = at(h + ".attn");

  Value normed = layerNorm(h + ".ln_1", x);
  Value qkv = conv1d(h + ".attn.c_attn", normed, d, 3 * d);
  Value query = splitHeads(attn, sliceLast(attn, qkv, 0, d), config.numHeads);
  Value key = splitHeads(attn, sliceLast(attn, qkv, d, d), config.numHeads);
  Value value =
      splitHeads(attn, sliceLast(attn, qkv, 2 * d, d), config.numHeads);

  // Keys and values go to the cache at the position of the first row.
  Value start = position ? position : i64Constant({1, 1}, {0});
  IntegerAttr seqAxis = b.getI64IntegerAttr(2);
  cacheKey = KvCacheWriteOp::create(b, attn, cacheKey.getType(), cacheKey,
                                    start, key, seqAxis);
  cacheValue = KvCacheWriteOp::create(b, attn, cacheValue.getType(),
                                      cacheValue, start, value, seqAxis);

  double scale = 1.0;
  if (config.scaleAttnWeights)
    scale /= std::sqrt(static_cast<double>(config.headDim()));
  if (config.scaleAttnByInverseLayerIdx)
    scale /= static_cast<double>(layer + 1);
  Value context;
  if (position) {
    // Decode: the cache's keys [0, position] are valid.
    Value lengths = reshape(attn, add(attn, position, i64Constant({1, 1}, {1})),
                            {1});
    Value mask = PaddingMaskOp::create(
        b, attn, tensor({1, 1, 1, this->context}), lengths);
    context = attention(attn, query, cacheKey, cacheValue, mask, scale);
  } else {
    int64_t s = shapeOf(x)[1];
    Value mask = CausalMaskOp::create(b, attn, tensor({s, s}));
    context = attention(attn, query, key, value, mask, scale);
  }
  Value attnOut = conv1d(h + ".attn.c_proj", mergeHeads(attn, context), d, d);
  Value residual = add(at(h), x, attnOut);

  Value normed2 = layerNorm(h + ".ln_2", residual);
  Value hidden = conv1d(h + ".mlp.c_fc", normed2, d, config.innerSize);
  hidden = activation(at(h + ".mlp.act"), config.activation, hidden);
  Value mlpOut = conv1d(h + ".mlp.c_proj", hidden, config.innerSize, d);
  return add(at(h), residual, mlpOut);
}

Error Gpt2Builder::buildGeneration(
    ModuleOp module, StringRef name,
    ArrayRef<std::pair<std::string, RankedTensorType>> inputs,
    function_ref<Value(ArrayRef<Value>, SmallVectorImpl<Value> &)> body) {
  auto cacheType =
      tensor({1, config.numHeads, context, config.headDim()});
  SmallVector<Type> argTypes;
  SmallVector<std::string> argStates;
  for (const auto &[inputName, type] : inputs)
    argTypes.push_back(type);
  for (int64_t l = 0; l < config.numLayers; ++l)
    for (const char *kind : {"key", "value"}) {
      argTypes.push_back(cacheType);
      argStates.push_back("cache." + std::to_string(l) + "." + kind);
    }
  int64_t rows = cast<RankedTensorType>(inputs.front().second).getShape()[1];
  SmallVector<Type> resultTypes = {tensor({1, rows, config.hiddenSize})};
  resultTypes.append(argStates.size(), cacheType);

  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, at(name.str()), name,
                                   b.getFunctionType(argTypes, resultTypes));
  for (auto [i, input] : llvm::enumerate(inputs))
    func.setArgAttr(i, "tfm.name", b.getStringAttr(input.first));
  for (auto [i, state] : llvm::enumerate(argStates)) {
    func.setArgAttr(inputs.size() + i, "tfm.state", b.getStringAttr(state));
    func.setResultAttr(1 + i, "tfm.state", b.getStringAttr(state));
  }
  func.setResultAttr(0, "tfm.name", b.getStringAttr("hidden"));

  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  SmallVector<Value> caches(entry->getArguments().drop_front(inputs.size()));
  SmallVector<Value> inputValues(
      entry->getArguments().take_front(inputs.size()));
  Value hidden = body(inputValues, caches);
  SmallVector<Value> results = {hidden};
  results.append(caches.begin(), caches.end());
  func::ReturnOp::create(b, at(name.str()), results);
  return Error::success();
}

Error Gpt2Builder::buildPrefill(ModuleOp module, int64_t length) {
  auto idsType = tensor({1, length}, i64);
  return buildGeneration(
      module, "prefill_" + std::to_string(length), {{"ids", idsType}},
      [&](ArrayRef<Value> inputs, SmallVectorImpl<Value> &caches) {
        SmallVector<int64_t> positions(length);
        for (int64_t i = 0; i < length; ++i)
          positions[i] = i;
        Value positionIds = i64Constant({1, length}, positions);
        Value x = embed(inputs[0], positionIds, length);
        for (int64_t l = 0; l < config.numLayers; ++l)
          x = block(l, x, caches[2 * l], caches[2 * l + 1], /*position=*/{});
        return layerNorm("ln_f", x);
      });
}

Error Gpt2Builder::buildDecode(ModuleOp module) {
  auto scalarType = tensor({1, 1}, i64);
  return buildGeneration(
      module, "decode", {{"ids", scalarType}, {"position", scalarType}},
      [&](ArrayRef<Value> inputs, SmallVectorImpl<Value> &caches) {
        Value x = embed(inputs[0], inputs[1], 1);
        for (int64_t l = 0; l < config.numLayers; ++l)
          x = block(l, x, caches[2 * l], caches[2 * l + 1], inputs[1]);
        return layerNorm("ln_f", x);
      });
}

Error Gpt2Builder::buildLmHead(ModuleOp module) {
  int64_t d = config.hiddenSize, v = config.vocabSize;
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(
      b, at("lm_head"), "lm_head",
      b.getFunctionType({tensor({1, d})}, {tensor({1, v})}));
  func.setArgAttr(0, "tfm.name", b.getStringAttr("hidden"));
  func.setResultAttr(0, "tfm.name", b.getStringAttr("logits"));
  b.setInsertionPointToStart(func.addEntryBlock());
  // The head is tied to the token embedding unless the checkpoint has its
  // own (tie_word_embeddings = false).
  Value table;
  if (!config.tieWordEmbeddings && checkpoint.hasTensor("lm_head.weight"))
    table = WeightOp::create(b, at("lm_head"), tensor({v, d}),
                             "lm_head.weight");
  else
    table = weight("wte.weight", {v, d});
  Value logits = LinearOp::create(b, at("lm_head"), tensor({1, v}),
                                  func.getArgument(0), table, Value());
  func::ReturnOp::create(b, at("lm_head"), logits);
  return Error::success();
}

/// 16, 64, 256, 1024, ... below the context, then the context itself.
std::vector<int64_t> defaultPrefillLengths(int64_t context) {
  std::vector<int64_t> lengths;
  for (int64_t length = 16; length < context; length *= 4)
    lengths.push_back(length);
  lengths.push_back(context);
  return lengths;
}

/// The tokenizer files the executable embeds, by preference.
Expected<std::vector<ModelFile>> tokenizerFiles(const CheckpointFolder &ckpt) {
  if (ckpt.hasFile("tokenizer.json"))
    return std::vector<ModelFile>{
        {"tokenizer.json", ckpt.file("tokenizer.json")}};
  if (ckpt.hasFile("vocab.json") && ckpt.hasFile("merges.txt"))
    return std::vector<ModelFile>{{"vocab.json", ckpt.file("vocab.json")},
                                  {"merges.txt", ckpt.file("merges.txt")}};
  return makeError(ckpt.folder(), ": no tokenizer (expected tokenizer.json, "
                                  "or vocab.json and merges.txt)");
}

} // namespace

Expected<BuiltModel> buildGpt2(const CheckpointFolder &checkpoint,
                               MLIRContext &ctx,
                               const ModelBuildOptions &options) {
  Expected<Gpt2Config> config =
      Gpt2Config::parse(checkpoint.config(), checkpoint.configPath());
  if (!config)
    return config.takeError();
  int64_t context = options.contextLength ? options.contextLength
                                          : config->maxPositions;
  if (context > config->maxPositions)
    return makeError("--context ", context, " exceeds the model's ",
                     config->maxPositions, " positions (",
                     checkpoint.configPath(), ": n_positions)");
  std::vector<int64_t> lengths = options.prefillLengths.empty()
                                     ? defaultPrefillLengths(context)
                                     : options.prefillLengths;
  std::sort(lengths.begin(), lengths.end());
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  if (lengths.front() < 1 || lengths.back() > context)
    return makeError("--prefill-lengths must lie in [1, ", context, "]");
  if (lengths.back() != context)
    lengths.push_back(context); // every prompt that fits must have a prefill
  Expected<std::vector<ModelFile>> tokenizer = tokenizerFiles(checkpoint);
  if (!tokenizer)
    return tokenizer.takeError();

  ctx.loadDialect<TfmDialect, func::FuncDialect>();
  Gpt2Builder builder(checkpoint, *config, context, ctx);
  if (Error error = builder.checkWeights())
    return error;

  BuiltModel built;
  OpBuilder b(&ctx);
  built.module = ModuleOp::create(
      FileLineColLoc::get(&ctx, checkpoint.configPath(), 1, 1));
  for (int64_t length : lengths)
    if (Error error = builder.buildPrefill(*built.module, length))
      return error;
  if (Error error = builder.buildDecode(*built.module))
    return error;
  if (config->architecture == "GPT2LMHeadModel")
    if (Error error = builder.buildLmHead(*built.module))
      return error;
  if (failed(verify(*built.module)))
    return makeError(checkpoint.folder(),
                     ": internal error: the GPT-2 IR does not verify");

  nlohmann::json tokenizerNames = nlohmann::json::array();
  for (const ModelFile &file : *tokenizer)
    tokenizerNames.push_back(file.name);
  // One id as transformers writes it; a list when config.json has one.
  nlohmann::json eos;
  if (config->eosTokenIds.size() == 1)
    eos = config->eosTokenIds.front();
  else if (!config->eosTokenIds.empty())
    eos = config->eosTokenIds;
  nlohmann::json metadata = {
      {"task", config->architecture == "GPT2LMHeadModel" ? "text-generation"
                                                         : "hidden-states"},
      {"family", "gpt2"},
      {"context_length", context},
      {"vocab_size", config->vocabSize},
      {"hidden_size", config->hiddenSize},
      {"eos_token_id", eos},
      {"bos_token_id", config->bosTokenId ? nlohmann::json(*config->bosTokenId)
                                          : nlohmann::json()},
      {"prefill_lengths", lengths},
      {"tokenizer", {{"kind", "byte_level_bpe"}, {"files", tokenizerNames}}}};
  (*built.module)
      ->setAttr("tfm.metadata", b.getStringAttr(metadata.dump()));
  built.weightFiles = checkpoint.weightFiles();
  built.embeddedFiles = std::move(*tokenizer);
  return built;
}

} // namespace kiln
