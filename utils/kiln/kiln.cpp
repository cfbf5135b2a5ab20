//===- kiln.cpp - The Kiln compiler driver --------------------------------===//
//
// kiln compile FILE.mlir -o OUT: tfm → linalg → loops → llvm dialect →
// LLVM IR → object → executable, every step in process except the final
// link, which uses the system C++ driver.
//
//===----------------------------------------------------------------------===//

#include "codegen/Registration.h"
#include "codegen/link/Link.h"
#include "codegen/llvm/EmitObject.h"
#include "codegen/llvm/Pipeline.h"
#include "frontend/MlirSource.h"
#include "runtime/Safetensors.h"
#include "runtime/Signature.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include <nlohmann/json.hpp>

using namespace llvm;

namespace {

cl::SubCommand compileCommand("compile",
                              "Compile a model to an executable or an "
                              "intermediate form");

cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.mlir>"),
                               cl::Required, cl::sub(compileCommand));
cl::opt<std::string> outputPath("o",
                                cl::desc("Output file ('-' = stdout "
                                         "for mlir and llvm)"),
                                cl::value_desc("path"), cl::Required,
                                cl::sub(compileCommand));

enum class EmitKind { Mlir, Llvm, Obj, Exe };
cl::opt<EmitKind> emitKind(
    "emit", cl::desc("Where to stop"), cl::init(EmitKind::Exe),
    cl::values(clEnumValN(EmitKind::Mlir, "mlir",
                          "MLIR after --stop-after (default: llvm dialect)"),
               clEnumValN(EmitKind::Llvm, "llvm", "optimized LLVM IR"),
               clEnumValN(EmitKind::Obj, "obj", "an object file"),
               clEnumValN(EmitKind::Exe, "exe", "a linked executable")),
    cl::sub(compileCommand));
cl::opt<std::string>
    stopAfter("stop-after",
              cl::desc("With --emit mlir: the stage to print (tfm, linalg, "
                       "bufferized, loops, llvm)"),
              cl::init("llvm"), cl::sub(compileCommand));
cl::opt<std::string> dumpDir("dump-ir",
                             cl::desc("Write the IR after every stage to "
                                      "numbered files in this folder"),
                             cl::value_desc("dir"), cl::sub(compileCommand));
cl::opt<std::string> entryName("entry",
                               cl::desc("Function to compile (default: the "
                                        "only public one)"),
                               cl::sub(compileCommand));
cl::opt<std::string> targetName("target", cl::desc("cpu (the only one yet)"),
                                cl::init("cpu"), cl::sub(compileCommand));
cl::opt<std::string> cpuName("cpu",
                             cl::desc("CPU to tune for: host, or an LLVM CPU "
                                      "name such as x86-64-v3"),
                             cl::init("host"), cl::sub(compileCommand));
cl::opt<std::string> weightsPath("weights",
                                 cl::desc("safetensors file with the tensors "
                                          "that tfm.weight ops name"),
                                 cl::value_desc("file"),
                                 cl::sub(compileCommand));
cl::opt<std::string> weightsMode(
    "weights-mode",
    cl::desc("embed: copy the file into the executable; external: mmap it "
             "from its path at start"),
    cl::init("embed"), cl::sub(compileCommand));
cl::list<std::string>
    disabledPasses("disable-pass",
                   cl::desc("Skip an optional tfm pass (repeatable)"),
                   cl::sub(compileCommand));

/// Numbered IR files, one per stage, like Halide's lowering log.
class IrDumper {
public:
  explicit IrDumper(StringRef dir) : dir(dir.str()) {}

  bool enabled() const { return !dir.empty(); }

  bool write(StringRef stage, StringRef extension,
             function_ref<void(raw_ostream &)> print) {
    if (!enabled())
      return true;
    if (std::error_code ec = sys::fs::create_directories(dir)) {
      errs() << "error: cannot create '" << dir << "': " << ec.message()
             << "\n";
      return false;
    }
    SmallString<256> path(dir);
    char prefix[8];
    snprintf(prefix, sizeof(prefix), "%02u-", counter++);
    sys::path::append(path, prefix + stage.str() + "." + extension.str());
    std::error_code ec;
    raw_fd_ostream os(path, ec);
    if (ec) {
      errs() << "error: cannot write '" << path << "': " << ec.message()
             << "\n";
      return false;
    }
    print(os);
    return true;
  }

private:
  std::string dir;
  unsigned counter = 0;
};

bool writeOutput(StringRef path, function_ref<void(raw_ostream &)> print) {
  std::error_code ec;
  ToolOutputFile output(path, ec, sys::fs::OF_Text);
  if (ec) {
    errs() << "error: cannot write '" << path << "': " << ec.message() << "\n";
    return false;
  }
  print(output.os());
  output.keep();
  return true;
}

/// Checks every weight of the signature against the checkpoint, so a
/// missing or misshapen tensor is reported at compile time, by name.
bool checkWeights(StringRef signatureJson, StringRef path) {
  kiln::Expected<kiln::SafetensorsFile> file =
      kiln::SafetensorsFile::open(path.str());
  kiln::Expected<kiln::Signature> signature =
      kiln::parseSignature(signatureJson.str());
  if (!file || !signature) {
    errs() << "error: " << (file ? signature.message() : file.message())
           << "\n";
    return false;
  }
  for (const kiln::SignatureArg &arg : signature->args) {
    if (arg.role != kiln::ArgRole::Weight)
      continue;
    kiln::Expected<const kiln::SafetensorsTensor *> tensor =
        file->lookup(arg.name);
    if (!tensor) {
      errs() << "error: " << tensor.message() << " (the model needs it as "
             << kiln::formatType(arg.dtype, arg.shape) << ")\n";
      return false;
    }
    if ((*tensor)->shape != arg.shape) {
      errs() << "error: " << path << ": tensor '" << arg.name << "' has shape "
             << kiln::formatShape((*tensor)->shape) << " but the model needs "
             << kiln::formatShape(arg.shape) << "\n";
      return false;
    }
  }
  return true;
}

int compile(const char *argv0) {
  if (targetName != "cpu") {
    errs() << "error: --target " << targetName
           << " is not supported yet (only cpu)\n";
    return 1;
  }
  if (weightsMode != "embed" && weightsMode != "external") {
    errs() << "error: --weights-mode must be embed or external, got '"
           << weightsMode << "'\n";
    return 1;
  }
  std::vector<kiln::LoweringStage> stages =
      kiln::getLoweringStages(disabledPasses);
  if (!llvm::any_of(stages, [](const kiln::LoweringStage &stage) {
        return stopAfter == stage.name;
      })) {
    errs() << "error: unknown --stop-after stage '" << stopAfter << "'\n";
    return 1;
  }
  for (const std::string &pass : disabledPasses) {
    if (!llvm::is_contained(kiln::getOptionalTfmPasses(), pass)) {
      errs() << "error: --disable-pass " << pass << ": not an optional pass (";
      llvm::interleaveComma(kiln::getOptionalTfmPasses(), errs());
      errs() << ")\n";
      return 1;
    }
  }

  mlir::DialectRegistry registry;
  kiln::registerKilnDialects(registry);
  kiln::registerKilnPasses();
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);

  mlir::OwningOpRef<mlir::ModuleOp> module =
      kiln::readMlirFile(inputPath, context, sourceMgr);
  if (!module)
    return 1;
  IrDumper dumper(dumpDir);
  auto dumpModule = [&](StringRef stage) {
    return dumper.write(stage, "mlir",
                        [&](raw_ostream &os) { module->print(os); });
  };
  if (!dumpModule("input"))
    return 1;

  FailureOr<mlir::func::FuncOp> entry =
      kiln::findEntryFunction(*module, entryName);
  if (failed(entry))
    return 1;
  std::string entrySymbol = entry->getSymName().str();

  std::string signature;
  for (const kiln::LoweringStage &stage : stages) {
    mlir::PassManager passes(&context);
    if (failed(mlir::parsePassPipeline(stage.pipeline, passes, errs()))) {
      errs() << "internal error: bad pipeline for stage " << stage.name << "\n";
      return 1;
    }
    if (StringRef(stage.name) == "bufferized") {
      // The signature is read while the entry still has tensor types and
      // named weight arguments.
      auto func = module->lookupSymbol<mlir::func::FuncOp>(entrySymbol);
      FailureOr<std::string> json = kiln::buildSignatureJson(func);
      if (failed(json))
        return 1;
      signature = *json;
      if (!weightsPath.empty() && !checkWeights(signature, weightsPath))
        return 1;
      kiln::stripSignatureAttributes(func);
      func->setAttr("llvm.emit_c_interface", mlir::UnitAttr::get(&context));
    }
    if (failed(passes.run(*module))) {
      errs() << "error: lowering failed in stage '" << stage.name << "'\n";
      return 1;
    }
    if (!dumpModule(stage.name))
      return 1;
    if (emitKind == EmitKind::Mlir && stopAfter == stage.name)
      return writeOutput(outputPath,
                         [&](raw_ostream &os) { module->print(os); })
                 ? 0
                 : 1;
  }

  std::string error;
  std::unique_ptr<TargetMachine> target =
      kiln::createTargetMachine(cpuName, error);
  if (!target) {
    errs() << "error: " << error << "\n";
    return 1;
  }
  kiln::WeightsBinding weights;
  if (!weightsPath.empty()) {
    SmallString<256> absolute(weightsPath);
    sys::fs::make_absolute(absolute);
    weights.path = std::string(absolute);
    weights.mode = weightsMode == "embed"
                       ? kiln::WeightsBinding::Mode::Embed
                       : kiln::WeightsBinding::Mode::External;
  }
  LLVMContext llvmContext;
  std::unique_ptr<Module> llvmModule = kiln::translateToLLVMIR(
      *module, llvmContext, entrySymbol, signature, weights, *target);
  if (!llvmModule)
    return 1;
  if (!dumper.write("llvm-ir", "ll",
                    [&](raw_ostream &os) { llvmModule->print(os, nullptr); }))
    return 1;
  kiln::optimizeLLVMModule(*llvmModule, *target);
  if (!dumper.write("llvm-ir-optimized", "ll",
                    [&](raw_ostream &os) { llvmModule->print(os, nullptr); }))
    return 1;
  if (emitKind == EmitKind::Llvm)
    return writeOutput(outputPath,
                       [&](raw_ostream &os) { llvmModule->print(os, nullptr); })
               ? 0
               : 1;

  std::string objectPath = outputPath;
  SmallString<256> temporary;
  if (emitKind == EmitKind::Exe) {
    if (std::error_code ec =
            sys::fs::createTemporaryFile("kiln-model", "o", temporary)) {
      errs() << "error: cannot create a temporary file: " << ec.message()
             << "\n";
      return 1;
    }
    objectPath = std::string(temporary);
  }
  if (!kiln::emitObjectFile(*llvmModule, *target, objectPath, error)) {
    errs() << "error: " << error << "\n";
    return 1;
  }
  if (emitKind == EmitKind::Obj)
    return 0;
  bool linked = kiln::linkExecutable(
      {objectPath}, kiln::findRuntimeLibraryDir(argv0), outputPath, error);
  sys::fs::remove(objectPath);
  if (!linked) {
    errs() << "error: " << error << "\n";
    return 1;
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Kiln: ahead-of-time compiler for transformer models\n\n"
      "  kiln compile MODEL.mlir -o OUT [--emit mlir|llvm|obj|exe] "
      "[--dump-ir DIR]\n");
  if (compileCommand)
    return compile(argv[0]);
  errs() << "error: no command given (try 'kiln compile --help')\n";
  return 1;
}
