//===- EmitObject.cpp - llvm dialect to an object file --------------------===//

#include "codegen/llvm/EmitObject.h"

#include "runtime/Contract.h"

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

/// `void kiln_entry_<name>(void **args)`: passes args[i] as the i-th memref
/// descriptor pointer of the entry's C interface, so the runtime can call an
/// entry of any signature.
static Function *addEntryWrapper(Module &module, StringRef entryName) {
  Function *entry = module.getFunction(
      (Twine(contract::kCInterfacePrefix) + entryName).str());
  if (!entry)
    return nullptr;
  LLVMContext &ctx = module.getContext();
  Type *ptrType = PointerType::getUnqual(ctx);
  auto *wrapperType =
      FunctionType::get(Type::getVoidTy(ctx), {ptrType}, /*isVarArg=*/false);
  Function *wrapper =
      Function::Create(wrapperType, Function::InternalLinkage,
                       ("kiln_entry_" + entryName).str(), module);
  IRBuilder<> builder(BasicBlock::Create(ctx, "entry", wrapper));
  SmallVector<Value *> arguments;
  for (unsigned i = 0; i < entry->arg_size(); ++i) {
    Value *slot = builder.CreateConstGEP1_64(ptrType, wrapper->getArg(0), i);
    arguments.push_back(builder.CreateLoad(ptrType, slot));
  }
  builder.CreateCall(entry, arguments);
  builder.CreateRetVoid();
  return wrapper;
}

static GlobalVariable *addConstantGlobal(Module &module, StringRef name,
                                         Constant *value) {
  return new GlobalVariable(module, value->getType(), /*isConstant=*/true,
                            GlobalValue::ExternalLinkage, value, name);
}

static Constant *stringConstant(Module &module, StringRef text) {
  Constant *data = ConstantDataArray::getString(module.getContext(), text,
                                                /*AddNull=*/true);
  auto *global = new GlobalVariable(module, data->getType(), true,
                                    GlobalValue::PrivateLinkage, data);
  return global;
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

/// `kiln_embedded_files[]` = {name, data, size} per file (a
/// contract::EmbeddedFile each). The bytes come in through `.incbin`: the
/// assembler streams each file into a read-only section, so they never pass
/// through IR.
static bool addEmbeddedFiles(Module &module, ArrayRef<EmbeddedFile> files,
                             std::string &error) {
  LLVMContext &ctx = module.getContext();
  Type *ptrType = PointerType::getUnqual(ctx);
  Type *sizeType = Type::getInt64Ty(ctx);
  // contract::EmbeddedFile: {name, data, size}.
  StructType *entryType = StructType::get(ctx, {ptrType, ptrType, sizeType});
  std::vector<Constant *> entries;
  std::string assembly;
  for (auto [index, file] : llvm::enumerate(files)) {
    uint64_t size = 0;
    if (sys::fs::file_size(file.path, size)) {
      error = "cannot read '" + file.path + "'";
      return false;
    }
    std::string label = "kiln_file_" + std::to_string(index);
    assembly += "\t.section .rodata.kiln_files,\"a\",@progbits\n"
                "\t.p2align 6\n" +
                label + ":\n\t.incbin \"" + escapeForAssembler(file.path) +
                "\"\n";
    // Declared here, defined by the assembly above.
    auto *data = new GlobalVariable(module, ArrayType::get(Type::getInt8Ty(ctx), 0),
                                    true, GlobalValue::ExternalLinkage,
                                    nullptr, label);
    entries.push_back(ConstantStruct::get(
        entryType, {stringConstant(module, file.name), data,
                    ConstantInt::get(sizeType, size)}));
  }
  if (!assembly.empty())
    module.appendModuleInlineAsm(assembly + "\t.text\n");
  addConstantGlobal(
      module, contract::kEmbeddedFilesSymbol,
      ConstantArray::get(ArrayType::get(entryType, entries.size()), entries));
  addConstantGlobal(module, contract::kEmbeddedFileCountSymbol,
                    ConstantInt::get(sizeType, entries.size()));
  return true;
}

std::unique_ptr<Module>
translateToLLVMIR(mlir::ModuleOp module, LLVMContext &context,
                  ArrayRef<std::string> entryNames,
                  const ObjectContents &contents, TargetMachine &target) {
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

  Type *ptrType = PointerType::getUnqual(context);
  std::vector<Constant *> wrappers;
  for (const std::string &name : entryNames) {
    Function *wrapper = addEntryWrapper(*llvmModule, name);
    if (!wrapper) {
      module.emitError() << "entry function '" << name
                         << "' has no C interface after lowering";
      return nullptr;
    }
    wrappers.push_back(wrapper);
  }
  addConstantGlobal(
      *llvmModule, contract::kModelEntriesSymbol,
      ConstantArray::get(ArrayType::get(ptrType, wrappers.size()), wrappers));
  addConstantGlobal(
      *llvmModule, contract::kModelEntryCountSymbol,
      ConstantInt::get(Type::getInt64Ty(context), wrappers.size()));
  addConstantGlobal(
      *llvmModule, contract::kModelSignatureSymbol,
      ConstantDataArray::getString(context, contents.signatureJson, true));
  std::string error;
  if (!addEmbeddedFiles(*llvmModule, contents.embeddedFiles, error)) {
    module.emitError() << error;
    return nullptr;
  }
  if (contents.payloadFileCount)
    addConstantGlobal(
        *llvmModule, contract::kPayloadFileCountSymbol,
        ConstantInt::get(Type::getInt64Ty(context), contents.payloadFileCount));
  if (!contents.externalWeights.empty())
    addConstantGlobal(
        *llvmModule, contract::kDefaultWeightsPathSymbol,
        ConstantDataArray::getString(
            context, llvm::join(contents.externalWeights, "\n"), true));
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
