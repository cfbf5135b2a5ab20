//===- Pipeline.cpp - The LLVM path from tfm to the llvm dialect ----------===//

#include "codegen/Pipeline.h"

#include "passes/Passes.h"
#include "runtime/Contract.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include <nlohmann/json.hpp>

using namespace mlir;

namespace kiln {

llvm::ArrayRef<llvm::StringRef> getOptionalPasses() {
  static const llvm::StringRef passes[] = {"tfm-fuse-attention",
                                           "tfm-fuse-patch-embed",
                                           "tfm-fuse-epilogue",
                                           "tfm-fuse-qkv",
                                           "tfm-fuse-residual-norm",
                                           "canonicalize",
                                           "cse",
                                           "tfm-pack-weights",
                                           "tfm-hoist-weight-expressions",
                                           "kiln-attention-to-ukernel",
                                           "kiln-linear-to-ukernel",
                                           "kiln-norm-to-ukernel",
                                           "kiln-plan-memory",
                                           "kiln-matmul-to-ukernel",
                                           "kiln-approximate-math"};
  return passes;
}

std::vector<LoweringStage>
getLoweringStages(ArrayRef<std::string> disabledPasses, int panelWidth,
                  StringRef entry, StringRef backend,
                  StringRef targetFeatures, StringRef tuningFile) {
  auto enabled = [&](StringRef pass) {
    return !llvm::is_contained(disabledPasses, pass.str());
  };
  std::vector<std::string> tfm;
  for (StringRef pass :
       {"tfm-fuse-attention", "tfm-fuse-patch-embed", "tfm-fuse-epilogue",
        "tfm-fuse-qkv",
        "tfm-fuse-residual-norm", "canonicalize", "cse", "tfm-pack-weights",
        "tfm-hoist-weight-expressions"}) {
    if (!enabled(pass))
      continue;
    if (pass == "tfm-pack-weights")
      tfm.push_back(
          "tfm-pack-weights{panel-width=" + std::to_string(panelWidth) + "}");
    else
      tfm.push_back(pass.str());
  }
  // Ops given to Halide become calls of generated kernels, then ops with a
  // runtime kernel become calls of it, before the linalg conversion.
  std::string kernelCalls =
      "kiln-assign-backends{backend=" + backend.str() +
      "},kiln-convert-to-halide-calls{target-features=" + targetFeatures.str() +
      "},";
  for (StringRef pass : {"kiln-attention-to-ukernel", "kiln-linear-to-ukernel",
                         "kiln-norm-to-ukernel"})
    if (enabled(pass))
      kernelCalls += pass.str() + ",";
  std::string ukernels =
      enabled("kiln-matmul-to-ukernel") ? "kiln-matmul-to-ukernel," : "";
  std::string planMemory =
      enabled("kiln-plan-memory") ? ",func.func(kiln-plan-memory)" : "";
  std::string approximateMath =
      enabled("kiln-approximate-math") ? "kiln-approximate-math," : "";
  std::string prepareEntries =
      entry.empty() ? std::string("kiln-prepare-entries")
                    : "kiln-prepare-entries{entry=" + entry.str() + "}";

  return {
      // Fusions, then weight-only work moved to the load-time entry.
      {"tfm", "tfm after fusion and weight packing", llvm::join(tfm, ",")},
      // Attention, linear layers on panels and normalizations become calls
      // of the runtime's kernels; attention the kernel does not cover is
      // expanded before the conversion, which has no pattern for it. Weights
      // become entry arguments so that the signature is the whole contract
      // with the runtime.
      {"linalg", "linalg, tensor, arith and math on tensors",
       kernelCalls + "func.func(tfm-decompose-attention),"
                     "tfm-outline-weights,"
                     "func.func(convert-tfm-to-linalg),canonicalize,cse"},
      // Once the driver has read the signature from the entries' tfm
      // attributes, they become bufferization's. Results that are a state
      // argument updated in place disappear; the others become caller-owned
      // out-parameters, which the runtime allocates. Temporaries get
      // explicit deallocations, then share one arena planned by lifetime.
      {"bufferized", "memrefs with explicit deallocation",
       prepareEntries +
           ",one-shot-bufferize{bufferize-function-boundaries "
           "function-boundary-type-conversion=identity-layout-map},"
           "kiln-drop-state-results,"
           "buffer-results-to-out-params{hoist-static-allocs "
           "modify-public-functions},"
           "buffer-deallocation-pipeline,canonicalize" +
           planMemory + ",kiln-release-consumed-weights,kiln-order-globals"},
      // f32 matmuls become calls of the runtime's packed GEMM kernels.
      // Copies of strided views become loops rather than calls into a
      // runtime copy routine. Only the outermost parallel loop of a nest
      // becomes a thread-pool task; the loops inside stay sequential.
      {"loops", "scf loops, outer ones parallel; GEMM kernel calls",
       ukernels + "func.func(" + approximateMath +
           "kiln-memref-copy-to-linalg,"
           "convert-linalg-to-parallel-loops,"
           "kiln-serialize-nested-parallel-loops),canonicalize"},
      // The canonicalizer inlines the alloca scopes that scf-to-openmp wraps
      // loop bodies in, which scf-to-cf cannot lower. math ops with an LLVM
      // intrinsic go first; the rest (erf) call libm.
      {"llvm", "the llvm dialect",
       "convert-scf-to-openmp,canonicalize,convert-scf-to-cf,"
       "convert-openmp-to-llvm,expand-strided-metadata,lower-affine,"
       "finalize-memref-to-llvm,convert-math-to-llvm,convert-math-to-libm,"
       "convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,"
       "convert-cf-to-llvm,reconcile-unrealized-casts"},
  };
}

namespace {

/// The options of every `kiln-stage-<name>` pipeline: the driver's options
/// that change the passes of a stage.
struct StageOptions : PassPipelineOptions<StageOptions> {
  Option<int> panelWidth{
      *this, "panel-width",
      llvm::cl::desc("GEMM panel width weights are packed for (kiln picks "
                     "32 with AVX-512, else 16)"),
      llvm::cl::init(16)};
  Option<std::string> entry{
      *this, "entry",
      llvm::cl::desc("The entry function, as kiln's --entry (default: every "
                     "public function with a body)")};
  Option<std::string> backend{
      *this, "backend",
      llvm::cl::desc("Kernels' code generator, as kiln's --backend (llvm, "
                     "halide, auto)"),
      llvm::cl::init("llvm")};
  Option<std::string> targetFeatures{
      *this, "target-features",
      llvm::cl::desc("x86 features of Halide kernels' target, joined by "
                     "'+' (avx2+fma+avx512)")};
  ListOption<std::string> disabledPasses{
      *this, "disable-pass",
      llvm::cl::desc("Optional passes to skip, as kiln's --disable-pass")};
};

} // namespace

void registerLoweringStagePipelines() {
  for (const LoweringStage &stage : getLoweringStages()) {
    StringRef name = stage.name;
    registerPassPipeline(
        ("kiln-stage-" + name).str(),
        ("Stage '" + name + "' of kiln compile: " + stage.summary).str(),
        [name](OpPassManager &pm, StringRef text,
               function_ref<LogicalResult(const Twine &)> errorHandler) {
          StageOptions options;
          if (failed(options.parseFromString(text)))
            return failure();
          std::vector<std::string> disabled(options.disabledPasses.begin(),
                                            options.disabledPasses.end());
          for (const std::string &pass : disabled)
            if (!llvm::is_contained(getOptionalPasses(), pass))
              return errorHandler("disable-pass=" + pass +
                                  ": not an optional pass");
          for (const LoweringStage &built :
               getLoweringStages(disabled, options.panelWidth, options.entry,
                                 options.backend, options.targetFeatures))
            if (name == built.name)
              return parsePassPipeline(built.pipeline, pm);
          return failure();
        },
        [](function_ref<void(const mlir::detail::PassOptions &)> handler) {
          handler(StageOptions());
        });
  }
}

FailureOr<SmallVector<func::FuncOp>> findEntryFunctions(ModuleOp module,
                                                        StringRef name) {
  SmallVector<func::FuncOp> entries;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    if (name.empty() ? func.isPublic() : func.getSymName() == name)
      entries.push_back(func);
  }
  if (entries.empty()) {
    if (!name.empty())
      return module.emitError() << "no function named '" << name << "'";
    return module.emitError() << "no public function to compile";
  }
  return entries;
}

static FailureOr<std::string> dtypeName(Location loc, Type type) {
  if (type.isF32())
    return std::string(contract::kDTypeF32);
  if (type.isF64())
    return std::string(contract::kDTypeF64);
  if (type.isF16())
    return std::string(contract::kDTypeF16);
  if (type.isBF16())
    return std::string(contract::kDTypeBF16);
  if (type.isInteger(64))
    return std::string(contract::kDTypeI64);
  if (type.isInteger(32))
    return std::string(contract::kDTypeI32);
  if (type.isInteger(1))
    return std::string(contract::kDTypeI1);
  return emitError(loc) << "the runtime has no dtype for " << type;
}

void markIndexInputs(ArrayRef<func::FuncOp> entries) {
  for (func::FuncOp entry : entries) {
    for (BlockArgument arg : entry.getArguments()) {
      if (!isa<IntegerType>(getElementTypeOrSelf(arg.getType())))
        continue;
      std::optional<int64_t> bound;
      auto bind = [&](Value table, int64_t dim) {
        auto type = dyn_cast<RankedTensorType>(table.getType());
        if (!type || type.isDynamicDim(dim))
          return;
        bound = std::min(bound.value_or(type.getDimSize(dim)),
                         type.getDimSize(dim));
      };
      // Views that keep every value: whatever they index, all of the
      // argument's values must be in range.
      SmallVector<Value> values{arg};
      while (!values.empty()) {
        Value value = values.pop_back_val();
        for (OpOperand &use : value.getUses()) {
          Operation *user = use.getOwner();
          if (auto gather = dyn_cast<tfm::GatherOp>(user)) {
            if (use.get() == gather.getIndices())
              bind(gather.getInput(), gather.getNormalizedAxis());
          } else if (auto embedding = dyn_cast<tfm::EmbeddingOp>(user)) {
            if (use.get() == embedding.getIds())
              bind(embedding.getTable(), 0);
          } else if (isa<tfm::ReshapeOp, tfm::TransposeOp>(user)) {
            values.push_back(user->getResult(0));
          }
        }
      }
      if (bound)
        entry.setArgAttr(
            arg.getArgNumber(), kIndexBoundAttr,
            IntegerAttr::get(IntegerType::get(entry.getContext(), 64), *bound));
    }
  }
}

/// The signature of one entry: arguments in call order after bufferization
/// (arguments, then the results that are not states, as out-parameters).
static FailureOr<nlohmann::json> buildEntrySignature(func::FuncOp entry) {
  nlohmann::json args = nlohmann::json::array();
  auto add = [&](Type type, StringRef name, contract::ArgRole role,
                 Location loc) -> LogicalResult {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return emitError(loc)
             << contract::argRoleName(role) << " '" << name
             << "' must be a statically shaped tensor, got " << type;
    FailureOr<std::string> dtype = dtypeName(loc, tensor.getElementType());
    if (failed(dtype))
      return failure();
    args.push_back({{contract::kArgNameKey, name.str()},
                    {contract::kArgRoleKey, contract::argRoleName(role)},
                    {contract::kArgDTypeKey, *dtype},
                    {contract::kArgShapeKey,
                     std::vector<int64_t>(tensor.getShape().begin(),
                                          tensor.getShape().end())}});
    return success();
  };
  auto addIndexBound = [&](unsigned i) {
    if (auto bound = entry.getArgAttrOfType<IntegerAttr>(i, kIndexBoundAttr))
      args.back()["index_bound"] = bound.getInt();
  };
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    Location loc = entry.getArgument(i).getLoc();
    Type type = entry.getArgument(i).getType();
    LogicalResult added = success();
    if (auto weight = entry.getArgAttrOfType<StringAttr>(i, kWeightAttr))
      added = add(type, weight.getValue(), contract::ArgRole::Weight, loc);
    else if (auto state = entry.getArgAttrOfType<StringAttr>(i, kStateAttr))
      added = add(type, state.getValue(), contract::ArgRole::State, loc);
    else if (auto name = entry.getArgAttrOfType<StringAttr>(i, kNameAttr))
      added = add(type, name.getValue(), contract::ArgRole::Input, loc);
    else
      added =
          add(type, "arg" + std::to_string(i), contract::ArgRole::Input, loc);
    if (failed(added))
      return failure();
    addIndexBound(i);
  }
  for (unsigned i = 0; i < entry.getNumResults(); ++i) {
    // A state result is the state argument updated in place: bufferization
    // drops it from the signature.
    if (entry.getResultAttr(i, kStateAttr))
      continue;
    auto name = entry.getResultAttrOfType<StringAttr>(i, kNameAttr);
    std::string text = name ? name.str() : "result" + std::to_string(i);
    if (failed(add(entry.getResultTypes()[i], text, contract::ArgRole::Output,
                   entry.getLoc())))
      return failure();
  }
  return nlohmann::json{{contract::kEntryNameKey, entry.getSymName().str()},
                        {contract::kEntryArgsKey, args}};
}

/// Checks that every state result returns the state argument of the same
/// name updated in place, which is what lets bufferization drop it.
static LogicalResult verifyStates(func::FuncOp entry) {
  llvm::StringMap<unsigned> stateArgs;
  for (unsigned i = 0; i < entry.getNumArguments(); ++i)
    if (auto state = entry.getArgAttrOfType<StringAttr>(i, kStateAttr))
      stateArgs[state.getValue()] = i;
  for (unsigned i = 0; i < entry.getNumResults(); ++i) {
    auto state = entry.getResultAttrOfType<StringAttr>(i, kStateAttr);
    if (state && !stateArgs.count(state.getValue()))
      return entry.emitError()
             << "result #" << i << " updates state '" << state.getValue()
             << "' but no argument holds that state";
  }
  return success();
}

FailureOr<std::string> buildModelSignature(ModuleOp module,
                                           ArrayRef<func::FuncOp> entries) {
  nlohmann::json list = nlohmann::json::array();
  for (func::FuncOp entry : entries) {
    if (failed(verifyStates(entry)))
      return failure();
    FailureOr<nlohmann::json> signature = buildEntrySignature(entry);
    if (failed(signature))
      return failure();
    list.push_back(*signature);
  }
  nlohmann::json metadata = nlohmann::json::object();
  if (auto text = module->getAttrOfType<StringAttr>(kMetadataAttr)) {
    metadata = nlohmann::json::parse(text.getValue().str(), nullptr,
                                     /*allow_exceptions=*/false);
    if (metadata.is_discarded() || !metadata.is_object())
      return module.emitError()
             << "'" << kMetadataAttr << "' must be a JSON object";
  }
  return nlohmann::json{{contract::kSignatureEntriesKey, list},
                        {contract::kSignatureMetadataKey, metadata}}
      .dump();
}

/// The static shape of a kernel operand, seen through the casts to the
/// dynamic type the kernels are declared with and the transposes of them.
static std::optional<SmallVector<int64_t>> kernelOperandShape(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  if (type && type.hasStaticShape())
    return SmallVector<int64_t>(type.getShape());
  if (auto cast = value.getDefiningOp<memref::CastOp>())
    return kernelOperandShape(cast.getSource());
  if (auto transpose = value.getDefiningOp<memref::TransposeOp>()) {
    std::optional<SmallVector<int64_t>> source =
        kernelOperandShape(transpose.getIn());
    AffineMap permutation = transpose.getPermutation();
    if (!source || permutation.getNumResults() != source->size())
      return std::nullopt;
    SmallVector<int64_t> shape;
    for (unsigned i = 0; i < permutation.getNumResults(); ++i)
      shape.push_back((*source)[permutation.getDimPosition(i)]);
    return shape;
  }
  return std::nullopt;
}

void recordKernelScratch(ModuleOp module, std::string &signatureJson) {
  int64_t gemmDepth = 0, gemmWidth = 0, normWidth = 0, headDim = 0;
  bool known = true;
  module.walk([&](func::CallOp call) {
    StringRef callee = call.getCallee();
    auto shape = [&](unsigned i) -> SmallVector<int64_t> {
      std::optional<SmallVector<int64_t>> dims;
      if (i < call.getNumOperands())
        dims = kernelOperandShape(call.getOperand(i));
      if (!dims || dims->size() < 2) {
        known = false;
        return {};
      }
      return *dims;
    };
    auto last = [](ArrayRef<int64_t> dims, unsigned fromEnd) -> int64_t {
      return dims.size() > fromEnd ? dims[dims.size() - 1 - fromEnd] : 0;
    };
    auto product = [&](ArrayRef<int64_t> c, int64_t k) {
      gemmDepth = std::max(gemmDepth, k);
      gemmWidth = std::max({gemmWidth, last(c, 0), last(c, 1)});
    };
    // Operands as in runtime/kernels/{Gemm,Attention,Norm}.h.
    if (callee == "kiln_matmul_f32" || callee == "kiln_batch_matmul_f32") {
      // A is [M, K], or [K, M] transposed: the larger when the flag is not
      // a constant.
      SmallVector<int64_t> a = shape(0);
      int64_t k = std::max(last(a, 0), last(a, 1));
      APInt transposeA;
      if (call.getNumOperands() > 3 &&
          matchPattern(call.getOperand(3), m_ConstantInt(&transposeA)))
        k = last(a, transposeA.isZero() ? 0 : 1);
      product(shape(2), k);
    } else if (callee == "kiln_matmul_panels_f32") {
      product(shape(2), last(shape(1), 1)); // panels [P, K, W]
    } else if (callee == "kiln_linear_panels_f32") {
      product(shape(3), last(shape(1), 1));
    } else if (callee == "kiln_attention_f32" ||
               callee == "kiln_attention_lengths_f32" ||
               callee == "kiln_attention_bias_f32" ||
               callee == "kiln_attention_bias_lengths_f32") {
      headDim = std::max({headDim, last(shape(0), 0), last(shape(2), 0)});
    } else if (callee == "kiln_layer_norm_f32" ||
               callee == "kiln_rms_norm_f32") {
      normWidth = std::max(normWidth, last(shape(0), 0));
    }
  });
  if (!known)
    return;
  nlohmann::json signature = nlohmann::json::parse(signatureJson);
  signature["kernel_scratch"] = {{"gemm_depth", gemmDepth},
                                 {"gemm_width", gemmWidth},
                                 {"norm_width", normWidth},
                                 {"head_dim", headDim}};
  signatureJson = signature.dump();
}

} // namespace kiln
