//===- kiln.cpp - The Kiln compiler driver --------------------------------===//
//
// kiln compile FILE.mlir -o OUT: tfm → linalg → loops → llvm dialect →
// LLVM IR → object → executable, every step in process except the final
// link, which uses the system C++ driver.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/Pipeline.h"
#include "codegen/Registration.h"
#include "codegen/halide/HalideKernelOps.h"
#include "codegen/halide/KernelGenerator.h"
#include "codegen/link/Link.h"
#include "codegen/link/Payload.h"
#include "codegen/llvm/EmitObject.h"
#include "frontend/MlirSource.h"
#include "models/Models.h"
#include "passes/Passes.h"
#include "runtime/Contract.h"
#include "runtime/support/Safetensors.h"
#include "runtime/tokenizer/TokenizerCheck.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

using namespace llvm;

namespace {

/// What an object's assembled section holds at most: 32-bit PC-relative
/// references must reach past it.
constexpr uint64_t kMaxObjectEmbeddedBytes = uint64_t(1) << 31;

cl::SubCommand compileCommand("compile",
                              "Compile a model to an executable or an "
                              "intermediate form");

cl::opt<std::string> inputPath(cl::Positional,
                               cl::desc("<model.mlir or checkpoint folder>"),
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
cl::list<std::string> weightsPaths(
    "weights",
    cl::desc("safetensors file with tensors that tfm.weight ops name "
             "(repeatable for shards)"),
    cl::value_desc("file"), cl::sub(compileCommand));
cl::opt<int64_t> contextLength(
    "context",
    cl::desc("Checkpoints: tokens a generated program can hold (default: the "
             "model's maximum)"),
    cl::init(0), cl::sub(compileCommand));
cl::opt<std::string> headName(
    "head",
    cl::desc("Encoders: the task head (base, masked-lm, next-sentence, "
             "pretraining, sequence-classification, token-classification; "
             "ViT and Swin: base, image-classification); default: from "
             "config.json's architectures"),
    cl::sub(compileCommand));
cl::opt<int64_t> batchSize("batch",
                           cl::desc("Encoders: texts per call; vision models: "
                                    "images per call, besides 1 (default 8)"),
                           cl::init(0), cl::sub(compileCommand));
cl::list<int64_t> sequenceLengths(
    "sequence-lengths",
    cl::desc("Encoders and CLIP's captions: token counts to specialize "
             "for; a batch runs with the smallest that holds its longest "
             "text"),
    cl::CommaSeparated, cl::sub(compileCommand));
cl::list<int64_t> prefillLengths(
    "prefill-lengths",
    cl::desc("Checkpoints: prompt lengths to specialize prefill for; a "
             "prompt runs with the smallest one that holds it"),
    cl::CommaSeparated, cl::sub(compileCommand));
cl::opt<std::string> weightsMode(
    "weights-mode",
    cl::desc("embed: copy the file into the executable; external: mmap it "
             "from its path at start"),
    cl::init("embed"), cl::sub(compileCommand));
cl::opt<std::string> backendName(
    "backend",
    cl::desc("Kernels' code generator: llvm (hand-written kernels and "
             "generated loops), halide (kernels kiln-halide generates for "
             "each call site) or auto (per kernel kind, whichever measured "
             "faster)"),
    cl::init("llvm"), cl::sub(compileCommand));
cl::opt<bool> tuneKernels(
    "tune",
    cl::desc("With --backend auto: time each kernel's Halide and hand-written "
             "candidates on this CPU at their real shapes and keep the faster "
             "(results cached with the kernels)"),
    cl::init(false), cl::sub(compileCommand));
cl::opt<std::string>
    halideCacheDir("halide-cache",
                   cl::desc("Folder of generated Halide kernels (default: "
                            "$KILN_HALIDE_CACHE or ~/.cache/kiln/halide)"),
                   cl::value_desc("dir"), cl::sub(compileCommand));
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

/// Checks every weight an entry names against the checkpoint files, so a
/// missing or misshapen tensor is reported at compile time, by name.
bool checkWeights(ArrayRef<mlir::func::FuncOp> entries,
                  ArrayRef<std::string> paths) {
  std::vector<kiln::SafetensorsFile> files;
  for (const std::string &path : paths) {
    kiln::Expected<kiln::SafetensorsFile> file =
        kiln::SafetensorsFile::open(path);
    if (!file) {
      errs() << "error: " << file.message() << "\n";
      return false;
    }
    files.push_back(std::move(*file));
  }
  // Derived weights are computed at load by prepare_weights.
  llvm::StringSet<> derived;
  for (mlir::func::FuncOp entry : entries)
    if (entry.getSymName() == kiln::tfm::kPrepareWeightsEntry)
      for (unsigned i = 0; i < entry.getNumResults(); ++i)
        if (auto name =
                entry.getResultAttrOfType<mlir::StringAttr>(i, kiln::kNameAttr))
          derived.insert(name.getValue());
  for (mlir::func::FuncOp entry : entries) {
    for (unsigned i = 0; i < entry.getNumArguments(); ++i) {
      auto name =
          entry.getArgAttrOfType<mlir::StringAttr>(i, kiln::kWeightAttr);
      if (!name || derived.contains(name.getValue()))
        continue;
      auto type = cast<mlir::RankedTensorType>(entry.getArgument(i).getType());
      kiln::Shape shape(type.getShape().begin(), type.getShape().end());
      const kiln::SafetensorsTensor *tensor = nullptr;
      const kiln::SafetensorsFile *owner = nullptr;
      for (const kiln::SafetensorsFile &file : files)
        if ((tensor = file.find(name.getValue().str()))) {
          owner = &file;
          break;
        }
      if (!tensor) {
        errs() << "error: " << llvm::join(paths, ", ") << ": tensor '"
               << name.getValue() << "' not found (the model needs it as "
               << type.getElementType() << " " << kiln::formatShape(shape)
               << ")\n";
        return false;
      }
      if (tensor->shape != shape) {
        errs() << "error: " << owner->name() << ": tensor '" << name.getValue()
               << "' has shape " << kiln::formatShape(tensor->shape)
               << " but the model needs " << kiln::formatShape(shape) << "\n";
        return false;
      }
    }
  }
  return true;
}

/// Adds each entry's arena (kiln-plan-memory) to the signature: its size as
/// the entry's peak temporary memory, and the argument the runtime fills
/// with its scratch buffer.
void recordTemporaryBytes(mlir::ModuleOp module, std::string &signatureJson) {
  namespace contract = kiln::contract;
  nlohmann::json signature = nlohmann::json::parse(signatureJson);
  for (nlohmann::json &entry : signature[contract::kSignatureEntriesKey]) {
    auto func = module.lookupSymbol<mlir::func::FuncOp>(
        entry[contract::kEntryNameKey].get<std::string>());
    if (!func)
      continue;
    auto bytes = func->getAttrOfType<mlir::IntegerAttr>(kiln::kArenaBytesAttr);
    if (!bytes)
      continue;
    // kiln-plan-memory appended the arena as the entry's last argument.
    entry[contract::kEntryTemporaryBytesKey] = bytes.getInt();
    entry[contract::kEntryArgsKey].push_back(
        {{contract::kArgNameKey, contract::kArenaArgName},
         {contract::kArgRoleKey,
          contract::argRoleName(contract::ArgRole::Scratch)},
         {contract::kArgDTypeKey, contract::kDTypeU8},
         {contract::kArgShapeKey, {bytes.getInt()}}});
  }
  signatureJson = signature.dump();
}

std::string absolutePath(StringRef path) {
  SmallString<256> absolute(path);
  sys::fs::make_absolute(absolute);
  return std::string(absolute);
}

/// Rejects option values before any work is done.
/// Texts per call an encoder may be specialized for: far above any useful
/// batch, and small enough that buffer sizes cannot overflow.
constexpr int64_t kMaxBatchSize = 4096;

bool validateOptions() {
  if (batchSize.getNumOccurrences() &&
      (batchSize < 1 || batchSize > kMaxBatchSize)) {
    errs() << "error: --batch must lie in [1, " << kMaxBatchSize << "], got "
           << batchSize << "\n";
    return false;
  }
  if (contextLength.getNumOccurrences() && contextLength < 1) {
    errs() << "error: --context must be a positive number of tokens, got "
           << contextLength << "\n";
    return false;
  }
  if (targetName != "cpu") {
    errs() << "error: --target " << targetName
           << " is not supported yet (only cpu)\n";
    return false;
  }
  if (backendName != "llvm" && backendName != "halide" &&
      backendName != "auto") {
    errs() << "error: --backend must be llvm, halide or auto, got '"
           << backendName << "'\n";
    return false;
  }
  if (tuneKernels && backendName != "auto") {
    errs() << "error: --tune chooses each kernel's backend: use it with "
              "--backend auto\n";
    return false;
  }
  if (weightsMode != "embed" && weightsMode != "external") {
    errs() << "error: --weights-mode must be embed or external, got '"
           << weightsMode << "'\n";
    return false;
  }
  std::vector<kiln::LoweringStage> stages =
      kiln::getLoweringStages(disabledPasses);
  if (!llvm::any_of(stages, [](const kiln::LoweringStage &stage) {
        return stopAfter == stage.name;
      })) {
    errs() << "error: unknown --stop-after stage '" << stopAfter << "'\n";
    return false;
  }
  for (const std::string &pass : disabledPasses) {
    if (!llvm::is_contained(kiln::getOptionalPasses(), pass)) {
      errs() << "error: --disable-pass " << pass << ": not an optional pass (";
      llvm::interleaveComma(kiln::getOptionalPasses(), errs());
      errs() << ")\n";
      return false;
    }
  }
  return true;
}

int compile(const char *argv0) {
  if (!validateOptions())
    return 1;
  std::string error;
  std::unique_ptr<TargetMachine> target =
      kiln::createTargetMachine(cpuName, error);
  if (!target) {
    errs() << "error: " << error << "\n";
    return 1;
  }
  // Weights are packed for the GEMM tile of the target: 32 columns (two zmm)
  // with AVX-512, else 16 (two ymm). The kernels accept any width.
  const MCSubtargetInfo &subtarget = *target->getMCSubtargetInfo();
  int panelWidth = subtarget.checkFeatures("+avx512f") ? 32 : 16;
  // Halide kernels are generated for the same CPU features.
  std::vector<std::string> features;
  for (auto [llvmName, kilnName] : {std::pair{"+avx2", "avx2"},
                                    {"+fma", "fma"},
                                    {"+avx512f", "avx512"},
                                    {"+avx512bf16", "avx512_bf16"},
                                    {"+avx512vnni", "avx512_vnni"}})
    if (subtarget.checkFeatures(llvmName))
      features.push_back(kilnName);
  std::string halideFeatures = llvm::join(features, "+");
  std::vector<kiln::LoweringStage> stages = kiln::getLoweringStages(
      disabledPasses, panelWidth, entryName, backendName, halideFeatures);

  mlir::DialectRegistry registry;
  kiln::registerKilnDialects(registry);
  kiln::registerKilnPasses();
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // A diagnostic names the op and its location; the whole op (a function,
  // for some errors) would bury the message.
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);

  // A folder is a checkpoint to build IR for; anything else a .mlir program.
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::vector<std::string> weightFiles;
  // Files the output carries: tokenizer files, and the weights unless they
  // stay external.
  std::vector<kiln::PayloadFile> embeddedFiles;
  kiln::ObjectContents contents;
  if (inputPath != "-" && !sys::fs::exists(inputPath)) {
    errs() << "error: " << inputPath << ": no such file or checkpoint folder\n";
    return 1;
  }
  // Model builders check the checkpoint's tensors as they read them; a
  // hand-written program's weights are checked below.
  bool fromCheckpoint = sys::fs::is_directory(inputPath);
  if (fromCheckpoint) {
    kiln::ModelBuildOptions options;
    options.contextLength = contextLength;
    options.prefillLengths.assign(prefillLengths.begin(), prefillLengths.end());
    options.head = headName;
    options.batchSize = batchSize;
    options.sequenceLengths.assign(sequenceLengths.begin(),
                                   sequenceLengths.end());
    kiln::Expected<kiln::BuiltModel> built =
        kiln::buildModelFromFolder(inputPath, context, options);
    if (!built) {
      errs() << "error: " << built.message() << "\n";
      return 1;
    }
    module = std::move(built->module);
    // The executable loads its tokenizer when it starts: load it now, with
    // the same code, so that a broken file fails here.
    std::vector<kiln::TokenizerFile> tokenizerFiles;
    for (const kiln::ModelFile &file : built->embeddedFiles)
      tokenizerFiles.push_back({file.name, file.path});
    if (auto metadata =
            (*module)->getAttrOfType<mlir::StringAttr>(kiln::kMetadataAttr))
      if (kiln::Error error = kiln::checkModelTokenizer(
              metadata.getValue().str(), tokenizerFiles)) {
        errs() << "error: " << error.message() << "\n";
        return 1;
      }
    for (const std::string &file : built->weightFiles)
      weightFiles.push_back(absolutePath(file));
    for (const kiln::ModelFile &file : built->embeddedFiles)
      embeddedFiles.push_back({file.name, absolutePath(file.path)});
  } else {
    module = kiln::readMlirFile(inputPath, context, sourceMgr);
    if (!module)
      return 1;
  }
  for (const std::string &file : weightsPaths)
    weightFiles.push_back(absolutePath(file));

  IrDumper dumper(dumpDir);
  auto dumpModule = [&](StringRef stage) {
    return dumper.write(stage, "mlir",
                        [&](raw_ostream &os) { module->print(os); });
  };
  if (!dumpModule("input"))
    return 1;

  FailureOr<SmallVector<mlir::func::FuncOp>> entries =
      kiln::findEntryFunctions(*module, entryName);
  if (failed(entries))
    return 1;
  std::vector<std::string> entryNames;
  for (mlir::func::FuncOp entry : *entries)
    entryNames.push_back(entry.getSymName().str());
  // Lowering turns gathers into clamped loads: the bounds are read now.
  kiln::markIndexInputs(*entries);
  auto lookupEntries = [&] {
    SmallVector<mlir::func::FuncOp> funcs;
    for (const std::string &name : entryNames)
      funcs.push_back(module->lookupSymbol<mlir::func::FuncOp>(name));
    return funcs;
  };

  auto halideOptions = [&] {
    kiln::HalideGeneratorOptions options;
    options.generator = kiln::findHalideGenerator(argv0);
    options.cacheDir = halideCacheDir.empty() ? kiln::defaultHalideCacheDir()
                                              : halideCacheDir.getValue();
    options.runtimeFeatures = halideFeatures;
    options.jobs = std::max(1u, std::thread::hardware_concurrency());
    return options;
  };
  // Halide kernels are generated in the background, in other processes,
  // while the host code is lowered.
  std::future<kiln::Expected<std::vector<std::string>>> halideObjects;
  bool hasHalideKernels = false;
  auto startHalideKernels = [&] {
    std::vector<std::string> specs = kiln::collectHalideSpecs(*module);
    hasHalideKernels = !specs.empty();
    if (!hasHalideKernels || emitKind != EmitKind::Exe)
      return;
    kiln::HalideGeneratorOptions options = halideOptions();
    options.dumpDir = dumpDir;
    halideObjects = std::async(std::launch::async, [specs, options] {
      return kiln::generateHalideKernels(specs, options);
    });
  };
  // (An early return waits for them: std::async's future joins.)
  auto waitForHalide = [&]() -> kiln::Expected<std::vector<std::string>> {
    if (!halideObjects.valid())
      return std::vector<std::string>();
    return halideObjects.get();
  };

  // --tune: after the tfm stage, every kernel-able op's spec is timed both
  // ways; the choices reach kiln-assign-backends as a file.
  SmallString<256> tuningFile;
  auto tune = [&]() -> bool {
    kiln::halide::KernelTarget kernelTarget;
    kernelTarget.features = features;
    std::vector<std::string> specs;
    module->walk([&](mlir::Operation *op) {
      if (auto spec = kiln::getHalideKernelSpec(op, kernelTarget))
        specs.push_back(spec->toJson());
    });
    kiln::Expected<std::map<std::string, std::string>> choices =
        kiln::tuneHalideKernels(specs, halideOptions(), errs());
    if (!choices) {
      errs() << "error: " << choices.message() << "\n";
      return false;
    }
    nlohmann::json table(*choices);
    if (sys::fs::createTemporaryFile("kiln-tuning", "json", tuningFile) ||
        !writeOutput(tuningFile,
                     [&](raw_ostream &os) { os << table.dump(); })) {
      errs() << "error: cannot write the tuning choices\n";
      return false;
    }
    stages = kiln::getLoweringStages(disabledPasses, panelWidth, entryName,
                                     backendName, halideFeatures, tuningFile);
    return true;
  };
  auto removeTuningFile = llvm::make_scope_exit([&] {
    if (!tuningFile.empty())
      sys::fs::remove(tuningFile);
  });

  for (size_t stageIndex = 0; stageIndex < stages.size(); ++stageIndex) {
    const kiln::LoweringStage stage = stages[stageIndex];
    mlir::PassManager passes(&context);
    if (failed(mlir::parsePassPipeline(stage.pipeline, passes, errs()))) {
      errs() << "internal error: bad pipeline for stage " << stage.name << "\n";
      return 1;
    }
    if (StringRef(stage.name) == "bufferized") {
      // The signature is read while the entries still have tensor types and
      // named weight and state arguments: the stage's kiln-prepare-entries
      // removes the names.
      SmallVector<mlir::func::FuncOp> funcs = lookupEntries();
      FailureOr<std::string> json = kiln::buildModelSignature(*module, funcs);
      if (failed(json))
        return 1;
      contents.signatureJson = *json;
      if (!fromCheckpoint && !weightFiles.empty() &&
          !checkWeights(funcs, weightFiles))
        return 1;
    }
    if (failed(passes.run(*module))) {
      errs() << "error: lowering failed in stage '" << stage.name << "'\n";
      return 1;
    }
    if (StringRef(stage.name) == "tfm" && tuneKernels && !tune())
      return 1;
    if (StringRef(stage.name) == "linalg")
      startHalideKernels();
    if (StringRef(stage.name) == "bufferized")
      recordTemporaryBytes(*module, contents.signatureJson);
    if (StringRef(stage.name) == "loops")
      kiln::recordKernelScratch(*module, contents.signatureJson);
    // tfm-hoist-weight-expressions adds the load-time entry.
    if (module->lookupSymbol(kiln::tfm::kPrepareWeightsEntry) &&
        !llvm::is_contained(entryNames, kiln::tfm::kPrepareWeightsEntry))
      entryNames.push_back(kiln::tfm::kPrepareWeightsEntry.str());
    if (!dumpModule(stage.name))
      return 1;
    if (emitKind == EmitKind::Mlir && stopAfter == stage.name)
      return writeOutput(outputPath,
                         [&](raw_ostream &os) { module->print(os); })
                 ? 0
                 : 1;
  }

  if (weightsMode == "embed") {
    for (const std::string &file : weightFiles)
      embeddedFiles.push_back({sys::path::filename(file).str(), file});
  } else {
    contents.externalWeights = weightFiles;
  }
  // An executable gets the files appended after linking, streamed from disk
  // (codegen/link/Payload.h), whatever their size. An object can only carry
  // them in a section the assembler fills, which holds less than 2 GiB.
  if (emitKind == EmitKind::Exe) {
    contents.payloadFileCount = embeddedFiles.size();
  } else {
    uint64_t total = 0;
    for (const kiln::PayloadFile &file : embeddedFiles) {
      uint64_t size = 0;
      if (sys::fs::file_size(file.path, size)) {
        errs() << "error: cannot read '" << file.path << "'\n";
        return 1;
      }
      total += size;
      contents.embeddedFiles.push_back({file.name, file.path});
    }
    if (total >= kMaxObjectEmbeddedBytes) {
      errs() << "error: the embedded files take " << total
             << " bytes, more than an object file can hold (2 GiB); use "
                "--weights-mode external, or --emit exe, which appends them "
                "to the executable\n";
      return 1;
    }
  }
  LLVMContext llvmContext;
  std::unique_ptr<Module> llvmModule = kiln::translateToLLVMIR(
      *module, llvmContext, entryNames, contents, *target);
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

  if (hasHalideKernels && emitKind == EmitKind::Obj) {
    errs() << "error: --emit obj: the model's Halide kernels are objects of "
              "their own; use --emit exe, or --backend llvm\n";
    return 1;
  }
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
  kiln::Expected<std::vector<std::string>> kernelObjects = waitForHalide();
  if (!kernelObjects) {
    sys::fs::remove(objectPath);
    errs() << "error: " << kernelObjects.message() << "\n";
    return 1;
  }
  std::vector<std::string> objects = {objectPath};
  objects.insert(objects.end(), kernelObjects->begin(), kernelObjects->end());
  bool linked = kiln::linkExecutable(
      objects, kiln::findRuntimeLibraryDir(argv0), outputPath, error);
  sys::fs::remove(objectPath);
  if (linked && !embeddedFiles.empty())
    linked = kiln::appendPayload(outputPath, embeddedFiles, error);
  if (!linked) {
    sys::fs::remove(outputPath);
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
      "  kiln compile MODEL.mlir|CHECKPOINT_DIR -o OUT "
      "[--emit mlir|llvm|obj|exe] "
      "[--dump-ir DIR]\n");
  if (compileCommand) {
    // Every reader reports bad input as a kiln::Error naming the file and
    // the field; this is the safety net for what a reader missed, so that
    // the user still gets one line and exit code 1.
    try {
      return compile(argv[0]);
    } catch (const std::bad_alloc &) {
      errs() << "error: out of memory\n";
    } catch (const std::exception &error) {
      errs() << "error: internal error: " << error.what() << "\n";
    }
    return 1;
  }
  errs() << "error: no command given (try 'kiln compile --help')\n";
  return 1;
}
