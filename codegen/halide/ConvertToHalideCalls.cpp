//===- ConvertToHalideCalls.cpp - Ops marked for Halide as kernel calls ---===//
//
// For each op kiln-assign-backends marked, this pass takes the op's kernel
// spec (codegen/halide/HalideKernelOps.h) and replaces the op by a call.
// Three functions take part:
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
#include "codegen/linalg/Ukernels.h"
#include "dialect/TfmOps.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCONVERTTOHALIDECALLS
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;
namespace tfm = kiln::tfm;
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

/// `value` reshaped to `shape`, which adds leading dimensions of size 1.
Value expandLeadingOnes(OpBuilder &b, Location loc, Value value,
                        ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() == static_cast<int64_t>(shape.size()))
    return value;
  // The new leading dimensions and the first original one form one group
  // (a scalar has no groups).
  SmallVector<ReassociationIndices> groups;
  if (type.getRank() == 0)
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(shape, type.getElementType()), value,
        groups);
  int64_t extra = shape.size() - type.getRank();
  ReassociationIndices first;
  for (int64_t d = 0; d <= extra; ++d)
    first.push_back(d);
  groups.push_back(first);
  for (int64_t d = extra + 1; d < static_cast<int64_t>(shape.size()); ++d)
    groups.push_back({d});
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), value,
      groups);
}

/// Replaces `op` by a call of `spec`'s kernel. The spec's inputs are the
/// op's operands in order (HalideKernelOps.h), each passed as a read-only
/// buffer collapsed to the spec's rank; attention reads head-transposed
/// projections through views and, when its heads are merged right after,
/// writes the merged layout through a view too.
void convertToCall(RewriterBase &rewriter, ModuleOp module, Operation *op,
                   const KernelSpec &spec) {
  rewriter.setInsertionPoint(op);
  Location loc = op->getLoc();
  bool attention = isa<tfm::AttentionOp>(op);
  // An elementwise chain reads its leaves, of the result's rank.
  std::optional<kiln::ElementwiseChain> chain;
  if (spec.op == "elementwise")
    chain = kiln::getElementwiseChain(op);
  SmallVector<Value> inputs =
      chain ? chain->leaves : SmallVector<Value>(op->getOperands());
  SmallVector<Value> operands;
  for (auto [index, input] : llvm::enumerate(inputs)) {
    ArrayRef<int64_t> shape = spec.args[index].shape;
    if (chain)
      input = expandLeadingOnes(rewriter, loc, input, shape);
    operands.push_back(
        attention && index < 3
            ? kiln::headsOperand(rewriter, loc, input)
            : kiln::bufferForKernel(rewriter, loc, input, shape.size()));
  }
  assert(operands.size() + 1 == spec.args.size() &&
         "the spec's inputs are the op's operands");

  const std::vector<int64_t> &outShape = spec.output().shape;
  tfm::TransposeOp merge = attention ? kiln::headMergeOf(op) : nullptr;
  SmallVector<int64_t> bufferShape =
      merge ? SmallVector<int64_t>(merge.getType().getShape())
            : SmallVector<int64_t>(outShape.begin(), outShape.end());
  kiln::KernelResult output = kiln::allocateKernelResult(
      rewriter, loc, bufferShape, rewriter.getF32Type());
  operands.push_back(merge ? kiln::headSwapView(rewriter, loc, output.operand)
                           : output.operand);

  func::FuncOp wrapper =
      getOrCreateWrapper(module, spec, ValueRange(operands).getTypes());
  func::CallOp::create(rewriter, loc, wrapper, operands);
  Value result = kiln::kernelResultTensor(rewriter, loc, output);
  if (merge) {
    rewriter.replaceOp(merge, result);
    rewriter.eraseOp(op);
    return;
  }
  rewriter.replaceOp(op,
                     kiln::expandFromKernel(
                         rewriter, loc, result,
                         cast<RankedTensorType>(op->getResult(0).getType())));
  // The rest of the chain fed only the root: it is dead now.
  if (chain)
    for (Operation *dead : llvm::reverse(ArrayRef(chain->ops).drop_back()))
      rewriter.eraseOp(dead);
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
      std::optional<KernelSpec> spec = kiln::getHalideKernelSpec(op, target);
      if (!backend || backend.getValue() != "halide" || !spec) {
        op->emitError() << "cannot be computed by a Halide kernel (marked "
                        << op->getAttr(kiln::kBackendAttr) << ")";
        return signalPassFailure();
      }
      convertToCall(rewriter, module, op, *spec);
    }
  }
};

} // namespace
