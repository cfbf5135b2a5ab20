//===- Pipeline.cpp - The LLVM path from tfm to the llvm dialect ----------===//

#include "codegen/llvm/Pipeline.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"
#include <nlohmann/json.hpp>

using namespace mlir;

namespace kiln {

llvm::ArrayRef<llvm::StringRef> getOptionalTfmPasses() {
  static const llvm::StringRef passes[] = {"canonicalize", "cse"};
  return passes;
}

static std::string join(ArrayRef<std::string> passes) {
  std::string text;
  for (const std::string &pass : passes) {
    if (!text.empty())
      text += ",";
    text += pass;
  }
  return text;
}

std::vector<LoweringStage>
getLoweringStages(ArrayRef<std::string> disabledPasses) {
  auto enabled = [&](StringRef pass) {
    return !llvm::is_contained(disabledPasses, pass.str());
  };
  std::vector<std::string> tfm;
  for (StringRef pass : getOptionalTfmPasses())
    if (enabled(pass))
      tfm.push_back(pass.str());

  return {
      {"tfm", "tfm after simplification", join(tfm)},
      // Attention is expanded before the conversion, which has no pattern
      // for it; weights become entry arguments so that the signature is the
      // whole contract with the runtime.
      {"linalg", "linalg, tensor, arith and math on tensors",
       "func.func(tfm-decompose-attention),"
       "tfm-outline-weights,"
       "func.func(convert-tfm-to-linalg),canonicalize,cse"},
      // Results become caller-owned out-parameters, which the runtime
      // allocates; temporaries get explicit deallocations.
      {"bufferized", "memrefs with explicit deallocation",
       "one-shot-bufferize{bufferize-function-boundaries "
       "function-boundary-type-conversion=identity-layout-map},"
       "buffer-results-to-out-params{hoist-static-allocs "
       "modify-public-functions},"
       "buffer-deallocation-pipeline,canonicalize"},
      // Copies of strided views become loops rather than calls into a
      // runtime copy routine. Only the outermost parallel loop of a nest
      // becomes a thread-pool task; the loops inside stay sequential.
      {"loops", "scf loops, outer ones parallel",
       "func.func(kiln-memref-copy-to-linalg,convert-linalg-to-parallel-loops,"
       "kiln-serialize-nested-parallel-loops),canonicalize"},
      // The canonicalizer inlines the alloca scopes that scf-to-openmp wraps
      // loop bodies in, which scf-to-cf cannot lower. math ops with an LLVM
      // intrinsic go first; the rest (erf) call libm.
      {"llvm", "the llvm dialect",
       "convert-scf-to-openmp,canonicalize,convert-scf-to-cf,"
       "convert-openmp-to-llvm,lower-affine,expand-strided-metadata,"
       "finalize-memref-to-llvm,convert-math-to-llvm,convert-math-to-libm,"
       "convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm,"
       "convert-cf-to-llvm,reconcile-unrealized-casts"},
  };
}

FailureOr<func::FuncOp> findEntryFunction(ModuleOp module, StringRef name) {
  SmallVector<func::FuncOp> candidates;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    if (name.empty() ? func.isPublic() : func.getSymName() == name)
      candidates.push_back(func);
  }
  if (candidates.size() == 1)
    return candidates.front();
  if (!name.empty())
    return module.emitError() << "no function named '" << name << "'";
  return module.emitError()
         << "expected exactly one public function to compile, found "
         << candidates.size() << " (choose one with --entry)";
}

static FailureOr<std::string> dtypeName(Location loc, Type type) {
  if (type.isF32())
    return std::string("f32");
  if (type.isF64())
    return std::string("f64");
  if (type.isF16())
    return std::string("f16");
  if (type.isBF16())
    return std::string("bf16");
  if (type.isInteger(64))
    return std::string("i64");
  if (type.isInteger(32))
    return std::string("i32");
  if (type.isInteger(1))
    return std::string("i1");
  return emitError(loc) << "the runtime has no dtype for " << type;
}

FailureOr<std::string> buildSignatureJson(func::FuncOp entry) {
  nlohmann::json args = nlohmann::json::array();
  auto add = [&](Type type, std::string name, const char *role,
                 Location loc) -> LogicalResult {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return emitError(loc)
             << role << " '" << name
             << "' must be a statically shaped tensor, got " << type;
    FailureOr<std::string> dtype = dtypeName(loc, tensor.getElementType());
    if (failed(dtype))
      return failure();
    args.push_back({{"name", name},
                    {"role", role},
                    {"dtype", *dtype},
                    {"shape", std::vector<int64_t>(tensor.getShape().begin(),
                                                   tensor.getShape().end())}});
    return success();
  };
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    Location loc = entry.getArgument(i).getLoc();
    if (auto weight = entry.getArgAttrOfType<StringAttr>(i, "tfm.weight")) {
      if (failed(
              add(entry.getArgument(i).getType(), weight.str(), "weight", loc)))
        return failure();
      continue;
    }
    auto name = entry.getArgAttrOfType<StringAttr>(i, "tfm.name");
    std::string text = name ? name.str() : "arg" + std::to_string(i);
    if (failed(add(entry.getArgument(i).getType(), text, "input", loc)))
      return failure();
  }
  for (unsigned i = 0; i < entry.getNumResults(); ++i) {
    auto name = entry.getResultAttrOfType<StringAttr>(i, "tfm.name");
    std::string text = name ? name.str() : "result" + std::to_string(i);
    if (failed(add(entry.getResultTypes()[i], text, "output", entry.getLoc())))
      return failure();
  }
  nlohmann::json signature = {{"entry", entry.getSymName().str()},
                              {"args", args}};
  return signature.dump();
}

void stripSignatureAttributes(func::FuncOp entry) {
  for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
    entry.removeArgAttr(i, "tfm.name");
    entry.removeArgAttr(i, "tfm.weight");
  }
  for (unsigned i = 0; i < entry.getNumResults(); ++i)
    entry.removeResultAttr(i, StringAttr::get(entry.getContext(), "tfm.name"));
}

} // namespace kiln
