//===- EmitObject.cpp - llvm dialect to an object file --------------------===//

#include "codegen/llvm/EmitObject.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace llvm;

namespace kiln {

std::unique_ptr<TargetMachine> createTargetMachine(StringRef cpu,
                                                   std::string &error) {
  InitializeNativeTarget();
  InitializeNativeTargetAsmPrinter();
  // The weights are embedded through module-level assembly.
  InitializeNativeTargetAsmParser();

  Triple triple(sys::getDefaultTargetTriple());
  const Target *target = TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpuName = cpu.str();
  std::string features;
  if (cpu == "host") {
    cpuName = sys::getHostCPUName().str();
    SubtargetFeatures featureList;
    for (const auto &feature : sys::getHostCPUFeatures())
      featureList.AddFeature(feature.first(), feature.second);
    features = featureList.getString();
  }
  TargetOptions options;
  std::unique_ptr<TargetMachine> machine(target->createTargetMachine(
      triple, cpuName, features, options, Reloc::PIC_, std::nullopt,
      CodeGenOptLevel::Aggressive));
  if (!machine) {
    error = "cannot create a target machine for CPU '" + cpuName + "'";
    return nullptr;
  }
  if (!machine->getMCSubtargetInfo()->isCPUStringValid(cpuName)) {
    error = "unknown CPU '" + cpuName + "' for target " + triple.str();
    return nullptr;
  }
  return machine;
}

/// `void kiln_model_entry(void **args)`: passes args[i] as the i-th memref
/// descriptor pointer of the entry's C interface, so the runtime can call a
/// model of any signature.
static bool addEntryWrapper(Module &module, StringRef entryName) {
  Function *entry = module.getFunction(("_mlir_ciface_" + entryName).str());
  if (!entry)
    return false;
  LLVMContext &ctx = module.getContext();
  Type *ptrType = PointerType::getUnqual(ctx);
  auto *wrapperType =
      FunctionType::get(Type::getVoidTy(ctx), {ptrType}, /*isVarArg=*/false);
  Function *wrapper = Function::Create(wrapperType, Function::ExternalLinkage,
                                       "kiln_model_entry", module);
  IRBuilder<> builder(BasicBlock::Create(ctx, "entry", wrapper));
  SmallVector<Value *> arguments;
  for (unsigned i = 0; i < entry->arg_size(); ++i) {
    Value *slot = builder.CreateConstGEP1_64(ptrType, wrapper->getArg(0), i);
    arguments.push_back(builder.CreateLoad(ptrType, slot));
  }
  builder.CreateCall(entry, arguments);
  builder.CreateRetVoid();
  return true;
}

static void addStringGlobal(Module &module, StringRef name, StringRef text) {
  Constant *data = ConstantDataArray::getString(module.getContext(), text,
                                                /*AddNull=*/true);
  new GlobalVariable(module, data->getType(), /*isConstant=*/true,
                     GlobalValue::ExternalLinkage, data, name);
}

static std::string escapeForAssembler(StringRef path) {
  std::string escaped;
  for (char c : path) {
    if (c == '"' || c == '\\')
      escaped += '\\';
    escaped += c;
  }
  return escaped;
}

/// Embeds the checkpoint with `.incbin`: the assembler streams the file into
/// a read-only section, so the bytes never pass through IR.
static void addEmbeddedWeights(Module &module, StringRef path, uint64_t size) {
  std::string assembly = "\t.section .rodata.kiln_weights,\"a\",@progbits\n"
                         "\t.globl kiln_embedded_weights\n"
                         "\t.p2align 6\n"
                         "kiln_embedded_weights:\n"
                         "\t.incbin \"" +
                         escapeForAssembler(path) +
                         "\"\n"
                         "\t.globl kiln_embedded_weights_size\n"
                         "\t.p2align 3\n"
                         "kiln_embedded_weights_size:\n"
                         "\t.quad " +
                         std::to_string(size) +
                         "\n"
                         "\t.text\n";
  module.appendModuleInlineAsm(assembly);
}

std::unique_ptr<Module>
translateToLLVMIR(mlir::ModuleOp module, LLVMContext &context,
                  StringRef entryName, StringRef signatureJson,
                  const WeightsBinding &weights, TargetMachine &target) {
  mlir::DialectRegistry registry;
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerOpenMPDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);

  std::unique_ptr<Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context, "kiln_model");
  if (!llvmModule)
    return nullptr;
  llvmModule->setDataLayout(target.createDataLayout());
  llvmModule->setTargetTriple(target.getTargetTriple());
  if (!addEntryWrapper(*llvmModule, entryName)) {
    module.emitError() << "entry function '" << entryName
                       << "' has no C interface after lowering";
    return nullptr;
  }
  addStringGlobal(*llvmModule, "kiln_model_signature", signatureJson);
  switch (weights.mode) {
  case WeightsBinding::Mode::None:
    break;
  case WeightsBinding::Mode::Embed: {
    uint64_t size = 0;
    if (sys::fs::file_size(weights.path, size)) {
      module.emitError() << "cannot read weights file '" << weights.path << "'";
      return nullptr;
    }
    addEmbeddedWeights(*llvmModule, weights.path, size);
    break;
  }
  case WeightsBinding::Mode::External:
    addStringGlobal(*llvmModule, "kiln_default_weights_path", weights.path);
    break;
  }
  return llvmModule;
}

void optimizeLLVMModule(Module &module, TargetMachine &target) {
  LoopAnalysisManager loopAnalyses;
  FunctionAnalysisManager functionAnalyses;
  CGSCCAnalysisManager cgsccAnalyses;
  ModuleAnalysisManager moduleAnalyses;
  PassBuilder passBuilder(&target);
  passBuilder.registerModuleAnalyses(moduleAnalyses);
  passBuilder.registerCGSCCAnalyses(cgsccAnalyses);
  passBuilder.registerFunctionAnalyses(functionAnalyses);
  passBuilder.registerLoopAnalyses(loopAnalyses);
  passBuilder.crossRegisterProxies(loopAnalyses, functionAnalyses,
                                   cgsccAnalyses, moduleAnalyses);
  ModulePassManager passes =
      passBuilder.buildPerModuleDefaultPipeline(OptimizationLevel::O3);
  passes.run(module, moduleAnalyses);
}

bool emitObjectFile(Module &module, TargetMachine &target, StringRef path,
                    std::string &error) {
  std::error_code ec;
  ToolOutputFile output(path, ec, sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return false;
  }
  legacy::PassManager passes;
  if (target.addPassesToEmitFile(passes, output.os(), nullptr,
                                 CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return false;
  }
  passes.run(module);
  output.keep();
  return true;
}

} // namespace kiln
