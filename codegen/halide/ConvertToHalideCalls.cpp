//===- ConvertToHalideCalls.cpp - Ops marked for Halide as kernel calls ---===//
//
// For each op kiln-assign-backends marked, this pass writes the op's kernel
// spec (codegen/halide/KernelSpec.h) and replaces the op by a call. Three
// functions take part:
//
//   @<name>(!llvm.ptr, ...) -> i32      the kernel kiln-halide generates,
//                                       declared with its spec attached
//   @<name>_call(memref, ...)           a private wrapper that builds one
//                                       halide_buffer_t per memref on its
//                                       stack and calls the kernel
//   the entry                           calls the wrapper with buffers of
//                                       its tensors, as the ukernel passes
//                                       call the runtime's kernels
//
// Keeping memrefs at the call site keeps bufferization, deallocation and
// memory planning seeing every buffer the kernel reads and writes.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/halide/HalideKernelOps.h"
#include "codegen/halide/KernelSpec.h"
#include "codegen/linalg/Ukernels.h"
#include "dialect/TfmOps.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/ADT/StringExtras.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCONVERTTOHALIDECALLS
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;
namespace tfm = kiln::tfm;
using kiln::halide::DType;
using kiln::halide::KernelArg;
using kiln::halide::KernelSpec;

namespace {

//===----------------------------------------------------------------------===//
// halide_buffer_t from a memref
//===----------------------------------------------------------------------===//

/// halide_dimension_t: min, extent, stride, flags.
LLVM::LLVMStructType getHalideDimensionType(MLIRContext *ctx) {
  Type i32 = IntegerType::get(ctx, 32);
  return LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, i32, i32});
}

/// halide_buffer_t: device, device_interface, host, flags, type (code, bits,
/// lanes), dimensions, dim, padding. HalideRuntime.h's layout, stable ABI.
LLVM::LLVMStructType getHalideBufferType(MLIRContext *ctx) {
  Type i8 = IntegerType::get(ctx, 8), i16 = IntegerType::get(ctx, 16),
       i32 = IntegerType::get(ctx, 32), i64 = IntegerType::get(ctx, 64);
  Type ptr = LLVM::LLVMPointerType::get(ctx);
  return LLVM::LLVMStructType::getLiteral(
      ctx, {i64, ptr, ptr, i64, i8, i8, i16, i32, ptr, ptr});
}

/// Halide's type code: halide_type_int = 0, halide_type_float = 2.
int halideTypeCode(Type element) { return isa<FloatType>(element) ? 2 : 0; }

/// Stores `value` into field `field` of element `index` of the struct array
/// at `base`.
void storeField(OpBuilder &b, Location loc, Value base, Type structType,
                int32_t index, int32_t field, Value value) {
  Type ptr = LLVM::LLVMPointerType::get(b.getContext());
  Value address = LLVM::GEPOp::create(b, loc, ptr, structType, base,
                                      ArrayRef<LLVM::GEPArg>{index, field});
  LLVM::StoreOp::create(b, loc, value, address);
}

/// A halide_buffer_t on the stack describing `memref` (innermost dimension
/// first, as Halide counts them), and a pointer to it.
Value buildHalideBuffer(OpBuilder &b, Location loc, Value memref) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<MemRefType>(memref.getType());
  int64_t rank = type.getRank();
  Type i8 = b.getI8Type(), i16 = b.getI16Type(), i32 = b.getI32Type(),
       i64 = b.getI64Type();
  Type ptr = LLVM::LLVMPointerType::get(ctx);
  auto constant = [&](Type t, int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, t, v);
  };
  auto cast = [&](Type t, Value index) -> Value {
    return arith::IndexCastOp::create(b, loc, t, index);
  };

  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  Value aligned =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  int64_t elementBytes = type.getElementTypeBitWidth() / 8;
  Value offsetBytes = arith::MulIOp::create(
      b, loc, cast(i64, metadata.getOffset()), constant(i64, elementBytes));
  Value address =
      arith::AddIOp::create(b, loc, cast(i64, aligned), offsetBytes);
  Value host = LLVM::IntToPtrOp::create(b, loc, ptr, address);

  Type dimType = getHalideDimensionType(ctx);
  Value dims = LLVM::AllocaOp::create(b, loc, ptr, dimType,
                                      constant(i64, std::max<int64_t>(rank, 1)),
                                      /*alignment=*/8);
  Value zero32 = constant(i32, 0);
  for (int64_t d = 0; d < rank; ++d) {
    int64_t source = rank - 1 - d;
    storeField(b, loc, dims, dimType, d, 0, zero32);
    storeField(b, loc, dims, dimType, d, 1,
               cast(i32, metadata.getSizes()[source]));
    storeField(b, loc, dims, dimType, d, 2,
               cast(i32, metadata.getStrides()[source]));
    storeField(b, loc, dims, dimType, d, 3, zero32);
  }

  Type bufferType = getHalideBufferType(ctx);
  Value buffer = LLVM::AllocaOp::create(b, loc, ptr, bufferType,
                                        constant(i64, 1), /*alignment=*/8);
  Value null = LLVM::ZeroOp::create(b, loc, ptr);
  Value fields[] = {constant(i64, 0),
                    null,
                    host,
                    constant(i64, 0),
                    constant(i8, halideTypeCode(type.getElementType())),
                    constant(i8, type.getElementTypeBitWidth()),
                    constant(i16, 1),
                    constant(i32, rank),
                    dims,
                    null};
  for (auto [field, value] : llvm::enumerate(fields))
    storeField(b, loc, buffer, bufferType, 0, field, value);
  return buffer;
}

//===----------------------------------------------------------------------===//
// Kernel declarations and wrappers
//===----------------------------------------------------------------------===//

/// The wrapper of `spec`'s kernel taking `operandTypes`, created with the
/// kernel's declaration on first use.
func::FuncOp getOrCreateWrapper(ModuleOp module, const KernelSpec &spec,
                                TypeRange operandTypes) {
  std::string name = spec.functionName();
  std::string wrapperName = name + "_call";
  if (auto existing = module.lookupSymbol<func::FuncOp>(wrapperName))
    return existing;
  MLIRContext *ctx = module.getContext();
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();

  Type ptr = LLVM::LLVMPointerType::get(ctx);
  SmallVector<Type> pointers(operandTypes.size(), ptr);
  auto kernel = func::FuncOp::create(
      b, loc, name,
      FunctionType::get(ctx, pointers, {IntegerType::get(ctx, 32)}));
  kernel.setPrivate();
  kernel->setAttr(kiln::kHalideSpecAttr, b.getStringAttr(spec.toJson()));

  auto wrapper = func::FuncOp::create(b, loc, wrapperName,
                                      FunctionType::get(ctx, operandTypes, {}));
  wrapper.setPrivate();
  Block *body = wrapper.addEntryBlock();
  b.setInsertionPointToStart(body);
  SmallVector<Value> buffers;
  for (Value argument : body->getArguments())
    buffers.push_back(buildHalideBuffer(b, loc, argument));
  // A failing kernel has already reported through halide_error, which the
  // runtime ends the program in (runtime/halide/HalideGlue.cpp).
  func::CallOp::create(b, loc, kernel, buffers);
  func::ReturnOp::create(b, loc);
  return wrapper;
}

//===----------------------------------------------------------------------===//
// Ops to specs and calls
//===----------------------------------------------------------------------===//

/// Collects a kernel call's operands and the spec's matching arguments.
class KernelCallBuilder {
public:
  KernelCallBuilder(RewriterBase &rewriter, Operation *op, StringRef kind,
                    const kiln::halide::KernelTarget &target)
      : rewriter(rewriter), loc(op->getLoc()) {
    rewriter.setInsertionPoint(op);
    spec.op = kind.str();
    spec.target = target;
  }

  /// `tensor` collapsed to `rank` (leading dimensions merged), read-only.
  void addInput(StringRef name, Value tensor, unsigned rank) {
    addOperand(name, kiln::bufferForKernel(rewriter, loc, tensor, rank),
               collapsedShape(tensor, rank),
               cast<RankedTensorType>(tensor.getType()).getElementType());
  }
  /// A memref view already prepared (e.g. a head-transposed view) whose
  /// logical shape is `shape`.
  void addOperand(StringRef name, Value memref, ArrayRef<int64_t> shape,
                  Type element) {
    operands.push_back(memref);
    spec.args.push_back({name.str(),
                         element.isInteger(64) ? DType::I64 : DType::F32,
                         std::vector<int64_t>(shape.begin(), shape.end())});
  }
  void setAttr(const char *key, nlohmann::json value) {
    spec.attrs[key] = std::move(value);
  }

  /// Allocates the output of `shape`, calls the kernel and returns the
  /// result as a tensor. `view`, if given, turns the output buffer into the
  /// view the kernel writes through (its logical shape is `shape` after the
  /// view).
  Value call(ModuleOp module, ArrayRef<int64_t> bufferShape,
             ArrayRef<int64_t> kernelShape,
             function_ref<Value(Value)> view = nullptr) {
    kiln::KernelResult output = kiln::allocateKernelResult(
        rewriter, loc, bufferShape, rewriter.getF32Type());
    Value operand = view ? view(output.operand) : output.operand;
    addOperand("out", operand, kernelShape, rewriter.getF32Type());
    func::FuncOp wrapper =
        getOrCreateWrapper(module, spec, ValueRange(operands).getTypes());
    func::CallOp::create(rewriter, loc, wrapper, operands);
    return kiln::kernelResultTensor(rewriter, loc, output);
  }

  Location getLoc() const { return loc; }

  static SmallVector<int64_t> collapsedShape(Value tensor, unsigned rank) {
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(tensor.getType()).getShape();
    if (shape.size() <= rank)
      return SmallVector<int64_t>(shape);
    int64_t leading = 1;
    for (size_t d = 0; d + rank - 1 < shape.size(); ++d)
      leading *= shape[d];
    SmallVector<int64_t> result = {leading};
    result.append(shape.end() - (rank - 1), shape.end());
    return result;
  }

private:
  RewriterBase &rewriter;
  Location loc;
  KernelSpec spec;
  SmallVector<Value> operands;
};

/// [M, N] rows of `type`: the leading dimensions merged.
SmallVector<int64_t> rowsShape(RankedTensorType type) {
  int64_t n = type.getShape().back();
  return {type.getNumElements() / std::max<int64_t>(n, 1), n};
}

void replaceWithRows(RewriterBase &rewriter, Operation *op, Location loc,
                     Value rows) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  rewriter.replaceOp(op, kiln::expandFromKernel(rewriter, loc, rows, type));
}

void convertLinear(RewriterBase &rewriter, ModuleOp module, tfm::LinearOp op,
                   const kiln::halide::KernelTarget &target) {
  KernelCallBuilder call(rewriter, op, "linear", target);
  call.addInput("x", op.getInput(), 2);
  const char *layout = op.getWeightPanels()  ? "panels"
                       : op.getWeightInOut() ? "in_out"
                                             : "out_in";
  call.addInput("weight", op.getWeight(), op.getWeight().getType().getRank());
  if (op.getBias())
    call.addInput("bias", op.getBias(), 1);
  call.setAttr("weight_layout", layout);
  call.setAttr("has_bias", static_cast<bool>(op.getBias()));
  call.setAttr("activation",
               tfm::stringifyActivation(op.getActivation()).str());
  SmallVector<int64_t> rows = rowsShape(op.getType());
  replaceWithRows(rewriter, op, call.getLoc(), call.call(module, rows, rows));
}

void convertMatmul(RewriterBase &rewriter, ModuleOp module, tfm::MatmulOp op,
                   const kiln::halide::KernelTarget &target) {
  KernelCallBuilder call(rewriter, op, "matmul", target);
  call.addInput("lhs", op.getLhs(), 3);
  call.addInput("rhs", op.getRhs(), 3);
  call.setAttr("transpose_lhs", static_cast<bool>(op.getTransposeLhs()));
  call.setAttr("transpose_rhs", static_cast<bool>(op.getTransposeRhs()));
  SmallVector<int64_t> shape =
      KernelCallBuilder::collapsedShape(op.getResult(), 3);
  if (op.getType().getRank() == 2)
    shape.insert(shape.begin(), 1);
  Value result = call.call(module, shape, shape);
  rewriter.replaceOp(op, kiln::expandFromKernel(rewriter, call.getLoc(), result,
                                                op.getType()));
}

void convertAttention(RewriterBase &rewriter, ModuleOp module,
                      tfm::AttentionOp op,
                      const kiln::halide::KernelTarget &target) {
  KernelCallBuilder call(rewriter, op, "attention", target);
  Location loc = call.getLoc();
  Type f32 = rewriter.getF32Type();
  const char *names[] = {"query", "key", "value"};
  Value inputs[] = {op.getQuery(), op.getKey(), op.getValue()};
  for (int i = 0; i < 3; ++i)
    call.addOperand(names[i], kiln::headsOperand(rewriter, loc, inputs[i]),
                    cast<RankedTensorType>(inputs[i].getType()).getShape(),
                    f32);
  if (Value lengths = op.getLengths())
    call.addInput("lengths", lengths, 1);
  call.setAttr("mask", tfm::stringifyMaskKind(op.getMask()).str());
  call.setAttr("scale", op.getScale().convertToFloat());
  ArrayRef<int64_t> shape = op.getType().getShape();
  if (tfm::TransposeOp merge = kiln::headMergeOf(op)) {
    Value result =
        call.call(module, merge.getType().getShape(), shape, [&](Value buffer) {
          return kiln::headSwapView(rewriter, loc, buffer);
        });
    rewriter.replaceOp(merge, result);
    rewriter.eraseOp(op);
    return;
  }
  rewriter.replaceOp(op, call.call(module, shape, shape));
}

void convertNorm(RewriterBase &rewriter, ModuleOp module, Operation *op,
                 const kiln::halide::KernelTarget &target) {
  bool rms = isa<tfm::RmsNormOp>(op);
  KernelCallBuilder call(rewriter, op, rms ? "rms_norm" : "layer_norm", target);
  call.addInput("x", op->getOperand(0), 2);
  float epsilon;
  if (auto norm = dyn_cast<tfm::LayerNormOp>(op)) {
    call.addInput("weight", norm.getWeight(), 1);
    call.addInput("bias", norm.getBias(), 1);
    call.setAttr("has_residual", false);
    epsilon = norm.getEpsilon().convertToFloat();
  } else if (auto norm = dyn_cast<tfm::AddLayerNormOp>(op)) {
    call.addInput("residual", norm.getResidual(), 2);
    call.addInput("weight", norm.getWeight(), 1);
    call.addInput("bias", norm.getBias(), 1);
    call.setAttr("has_residual", true);
    epsilon = norm.getEpsilon().convertToFloat();
  } else {
    auto rmsNorm = cast<tfm::RmsNormOp>(op);
    call.addInput("weight", rmsNorm.getWeight(), 1);
    epsilon = rmsNorm.getEpsilon().convertToFloat();
  }
  call.setAttr("epsilon", epsilon);
  SmallVector<int64_t> rows =
      rowsShape(cast<RankedTensorType>(op->getResult(0).getType()));
  replaceWithRows(rewriter, op, call.getLoc(), call.call(module, rows, rows));
}

void convertSoftmax(RewriterBase &rewriter, ModuleOp module, tfm::SoftmaxOp op,
                    const kiln::halide::KernelTarget &target) {
  KernelCallBuilder call(rewriter, op, "softmax", target);
  call.addInput("x", op.getInput(), 2);
  SmallVector<int64_t> rows = rowsShape(op.getType());
  replaceWithRows(rewriter, op, call.getLoc(), call.call(module, rows, rows));
}

struct ConvertToHalideCallsPass
    : kiln::impl::KilnConvertToHalideCallsBase<ConvertToHalideCallsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    kiln::halide::KernelTarget target;
    for (StringRef feature : llvm::split(targetFeatures, '+'))
      if (!feature.empty())
        target.features.push_back(feature.str());

    SmallVector<Operation *> marked;
    module.walk([&](Operation *op) {
      if (op->hasAttr(kiln::kBackendAttr))
        marked.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : marked) {
      auto backend = op->getAttrOfType<StringAttr>(kiln::kBackendAttr);
      if (!backend || backend.getValue() != "halide" ||
          !kiln::isHalideKernelOp(op)) {
        op->emitError() << "cannot be computed by a Halide kernel (marked "
                        << op->getAttr(kiln::kBackendAttr) << ")";
        return signalPassFailure();
      }
      if (auto linear = dyn_cast<tfm::LinearOp>(op))
        convertLinear(rewriter, module, linear, target);
      else if (auto matmul = dyn_cast<tfm::MatmulOp>(op))
        convertMatmul(rewriter, module, matmul, target);
      else if (auto attention = dyn_cast<tfm::AttentionOp>(op))
        convertAttention(rewriter, module, attention, target);
      else if (auto softmax = dyn_cast<tfm::SoftmaxOp>(op))
        convertSoftmax(rewriter, module, softmax, target);
      else
        convertNorm(rewriter, module, op, target);
    }
  }
};

} // namespace
