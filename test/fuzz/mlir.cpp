//===- mlir.cpp - Fuzzes parsing and verifying .mlir programs -------------===//
//
// Input: a .mlir program, parsed and verified as `kiln compile` reads one
// (readMlirFile: parse, then verify), into a context with the tfm dialect and
// the upstream dialects kiln's input programs use (func, arith, tensor). No
// passes run. A module that verifies must print and parse back to a module
// that verifies and prints the same (the tfm parsers and printers agree).
//
// MLIR itself comes as Debian's uninstrumented shared library: coverage
// guides the fuzzer through the tfm dialect (its parsers, printers and
// verifiers) only, and crashes inside upstream code are upstream's.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "dialect/TfmOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>

using namespace mlir;

namespace {

/// One context for all inputs: making one per input would cost more than
/// the parse.
MLIRContext &context() {
  static MLIRContext *context = [] {
    DialectRegistry registry;
    registry.insert<kiln::tfm::TfmDialect, func::FuncDialect,
                    arith::ArithDialect, tensor::TensorDialect>();
    auto *ctx = new MLIRContext(registry, MLIRContext::Threading::DISABLED);
    ctx->loadAllAvailableDialects();
    // Diagnostics are expected; keep them off stderr.
    ctx->getDiagEngine().registerHandler(
        [](Diagnostic &) { return success(); });
    return ctx;
  }();
  return *context;
}

/// Parses and verifies as readMlirFile does: from a MemoryBuffer, which
/// ends in a NUL as the MLIR lexer expects (parseSourceString on bytes that
/// do not reads past them, in MLIR 22).
OwningOpRef<ModuleOp> parse(llvm::StringRef text, llvm::StringRef name) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, name),
                               llvm::SMLoc());
  ParserConfig config(&context(), /*verifyAfterParse=*/true);
  return parseSourceFile<ModuleOp>(sourceMgr, config);
}

std::string print(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os, OpPrintingFlags().enableDebugInfo(false));
  return text;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  context();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module = parse(text, "fuzz.mlir");
  if (!module)
    return 0;
  FUZZ_CHECK(succeeded(verify(*module)), "verifies once, not twice");
  std::string printed = print(*module);
  OwningOpRef<ModuleOp> again = parse(printed, "printed.mlir");
  FUZZ_CHECK(again, "the printed module does not parse back:\n" + printed);
  std::string reprinted = print(*again);
  FUZZ_CHECK(printed == reprinted,
             "printing is not stable:\n" + printed + "\n---\n" + reprinted);
  return 0;
}
