//===- AssignBackends.cpp - Choose each kernel's code generator -----------===//
//
// The one place that decides which ops Halide computes: the conversion
// (kiln-convert-to-halide-calls) only follows the marks, and every op left
// unmarked takes the LLVM path.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/halide/HalideKernelOps.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"
#include <nlohmann/json.hpp>

namespace kiln {
#define GEN_PASS_DEF_KILNASSIGNBACKENDS
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// Reads `path`: a JSON object from kernel function name to "halide" or
/// "llvm", as `kiln compile --tune` writes it.
FailureOr<llvm::StringMap<std::string>> readTuning(ModuleOp module,
                                                   StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return module.emitError() << "kiln-assign-backends: cannot read '" << path
                              << "': " << buffer.getError().message();
  nlohmann::json root = nlohmann::json::parse((*buffer)->getBuffer(), nullptr,
                                              /*allow_exceptions=*/false);
  if (!root.is_object())
    return module.emitError()
           << "kiln-assign-backends: " << path << ": not a JSON object";
  llvm::StringMap<std::string> choices;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!it->is_string() || (*it != "halide" && *it != "llvm"))
      return module.emitError() << "kiln-assign-backends: " << path << ": "
                                << it.key() << ": expected halide or llvm";
    choices[it.key()] = it->get<std::string>();
  }
  return choices;
}

struct AssignBackendsPass
    : kiln::impl::KilnAssignBackendsBase<AssignBackendsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (backend != "llvm" && backend != "halide" && backend != "auto") {
      module.emitError()
          << "kiln-assign-backends: backend must be llvm, halide or auto, "
             "got '"
          << backend << "'";
      return signalPassFailure();
    }
    if (backend == "llvm")
      return;
    llvm::StringMap<std::string> tuned;
    if (!tuningFile.empty()) {
      FailureOr<llvm::StringMap<std::string>> read =
          readTuning(module, tuningFile);
      if (failed(read))
        return signalPassFailure();
      tuned = std::move(*read);
    }
    kiln::halide::KernelTarget target;
    for (StringRef feature : llvm::split(targetFeatures, '+'))
      if (!feature.empty())
        target.features.push_back(feature.str());
    Builder b(&getContext());
    module.walk([&](Operation *op) {
      std::optional<kiln::halide::KernelSpec> spec =
          kiln::getHalideKernelSpec(op, target);
      if (!spec)
        return;
      bool halide = true;
      if (backend == "auto") {
        auto measured = tuned.find(spec->functionName());
        halide = measured != tuned.end() ? measured->second == "halide"
                                         : kiln::prefersHalide(*spec);
      }
      if (halide)
        op->setAttr(kiln::kBackendAttr, b.getStringAttr("halide"));
    });
  }
};

} // namespace
