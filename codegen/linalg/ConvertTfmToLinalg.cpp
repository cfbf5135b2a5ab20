//===- ConvertTfmToLinalg.cpp - tfm ops to linalg/tensor/arith/math -------===//
//
// One conversion pattern per tfm op. Pointwise and reduction ops become
// linalg.generic over the result's iteration space; broadcasting is expressed
// in the indexing maps (a size-1 operand axis reads index 0), never by
// materializing a broadcast copy.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "dialect/TfmOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include <limits>

namespace kiln {
#define GEN_PASS_DEF_CONVERTTFMTOLINALG
#include "codegen/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln::tfm;

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

namespace {

using BodyBuilder =
    function_ref<Value(OpBuilder &, Location, ValueRange /*inputs*/)>;

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type) {
  return tensor::EmptyOp::create(b, loc, type.getShape(),
                                 type.getElementType());
}

Value filledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                   TypedAttr value) {
  Value scalar = arith::ConstantOp::create(b, loc, value);
  return linalg::FillOp::create(b, loc, scalar, emptyTensor(b, loc, type))
      .getResult(0);
}

Value floatConstant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

/// Lowest finite value: the additive mask value the reference models use, so
/// that a fully masked row softmaxes to uniform weights instead of NaN.
Value lowestFinite(OpBuilder &b, Location loc, Type type) {
  auto floatType = cast<FloatType>(type);
  return arith::ConstantOp::create(
      b, loc,
      b.getFloatAttr(type, APFloat::getLargest(floatType.getFloatSemantics(),
                                               /*Negative=*/true)));
}

/// Map from a result iteration space of rank `resultRank` to an operand of
/// shape `operandShape`, aligned at the trailing axis, numpy style.
AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> operandShape,
                       ArrayRef<int64_t> resultShape) {
  unsigned resultRank = resultShape.size();
  unsigned lead = resultRank - operandShape.size();
  SmallVector<AffineExpr> exprs;
  for (auto [i, size] : llvm::enumerate(operandShape)) {
    bool stretched = size == 1 && resultShape[lead + i] != 1;
    exprs.push_back(stretched ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(lead + i, ctx));
  }
  return AffineMap::get(resultRank, 0, exprs, ctx);
}

/// A parallel linalg.generic that computes `resultType` from `inputs`, each
/// broadcast onto the result shape.
Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange inputs, BodyBuilder body) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = resultType.getShape();
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(broadcastMap(
        ctx, cast<RankedTensorType>(input.getType()).getShape(), shape));
  maps.push_back(b.getMultiDimIdentityMap(shape.size()));
  SmallVector<utils::IteratorType> iterators(shape.size(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, resultType, inputs, emptyTensor(b, loc, resultType), maps,
      iterators, [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

/// Reduces `input` along `axis` into a tensor without that axis, starting
/// from `init` and combining with `combine(element, accumulator)`. With a
/// `center` (a tensor without the axis), elements are `input - center`.
Value buildReduction(
    OpBuilder &b, Location loc, Value input, int64_t axis, TypedAttr init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine,
    Value center = {}) {
  MLIRContext *ctx = b.getContext();
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  SmallVector<int64_t> reducedShape(inputType.getShape());
  reducedShape.erase(reducedShape.begin() + axis);
  auto reducedType =
      RankedTensorType::get(reducedShape, inputType.getElementType());

  SmallVector<AffineExpr> reducedExprs;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis)
      reducedExprs.push_back(getAffineDimExpr(d, ctx));
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  AffineMap reduced = AffineMap::get(rank, 0, reducedExprs, ctx);

  SmallVector<Value> inputs = {input};
  SmallVector<AffineMap> maps = {identity};
  if (center) {
    inputs.push_back(center);
    maps.push_back(reduced);
  }
  maps.push_back(reduced);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators[axis] = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, reducedType, inputs, filledTensor(b, loc, reducedType, init),
      maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        // args: element, [center,] accumulator.
        Value element = args.front();
        if (center)
          element = arith::SubFOp::create(nested, nestedLoc, element, args[1]);
        linalg::YieldOp::create(
            nested, nestedLoc,
            combine(nested, nestedLoc, element, args.back()));
      });
  return generic.getResult(0);
}

/// Row-major reshape between static shapes.
Value buildReshape(OpBuilder &b, Location loc, Value input,
                   RankedTensorType resultType) {
  auto inputType = cast<RankedTensorType>(input.getType());
  if (inputType == resultType)
    return input;
  if (inputType.getRank() == 0 || resultType.getRank() == 0) {
    SmallVector<ReassociationIndices> none;
    if (inputType.getRank() == 0)
      return tensor::ExpandShapeOp::create(b, loc, resultType, input, none);
    return tensor::CollapseShapeOp::create(b, loc, resultType, input, none);
  }
  if (auto reassociation =
          getReassociationIndicesForReshape(inputType, resultType)) {
    if (inputType.getRank() > resultType.getRank())
      return tensor::CollapseShapeOp::create(b, loc, resultType, input,
                                             *reassociation);
    return tensor::ExpandShapeOp::create(b, loc, resultType, input,
                                         *reassociation);
  }
  // No direct reassociation: go through the flat vector.
  auto flatType = RankedTensorType::get({inputType.getNumElements()},
                                        inputType.getElementType());
  ReassociationIndices all =
      llvm::to_vector(llvm::seq<int64_t>(0, inputType.getRank()));
  Value flat = tensor::CollapseShapeOp::create(
      b, loc, flatType, input, ArrayRef<ReassociationIndices>{all});
  ReassociationIndices allOut =
      llvm::to_vector(llvm::seq<int64_t>(0, resultType.getRank()));
  return tensor::ExpandShapeOp::create(b, loc, resultType, flat,
                                       ArrayRef<ReassociationIndices>{allOut});
}

/// Reinserts the reduced `axis` of `fullType` as size 1, so a reduction
/// result broadcasts back onto the tensor it came from.
Value keepReducedAxis(OpBuilder &b, Location loc, Value reduced,
                      RankedTensorType fullType, int64_t axis) {
  SmallVector<int64_t> shape(fullType.getShape());
  shape[axis] = 1;
  return buildReshape(b, loc, reduced,
                      RankedTensorType::get(shape, fullType.getElementType()));
}

/// σ(x) = 1 / (1 + exp(-x)).
Value sigmoid(OpBuilder &b, Location loc, Value x) {
  Value one = floatConstant(b, loc, x.getType(), 1.0);
  Value negated = arith::NegFOp::create(b, loc, x);
  Value exp = math::ExpOp::create(b, loc, negated);
  return arith::DivFOp::create(b, loc, one,
                               arith::AddFOp::create(b, loc, one, exp));
}

Value applyActivation(OpBuilder &b, Location loc, Activation activation,
                      Value x) {
  Type type = x.getType();
  auto half = [&] { return floatConstant(b, loc, type, 0.5); };
  auto one = [&] { return floatConstant(b, loc, type, 1.0); };
  switch (activation) {
  case Activation::none:
    return x;
  case Activation::gelu: {
    Value scaled = arith::MulFOp::create(
        b, loc, x, floatConstant(b, loc, type, M_SQRT1_2));
    Value erf = math::ErfOp::create(b, loc, scaled);
    Value sum = arith::AddFOp::create(b, loc, one(), erf);
    return arith::MulFOp::create(b, loc,
                                 arith::MulFOp::create(b, loc, half(), x), sum);
  }
  case Activation::gelu_tanh: {
    Value cube =
        arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
    Value inner = arith::AddFOp::create(
        b, loc, x,
        arith::MulFOp::create(b, loc, floatConstant(b, loc, type, 0.044715),
                              cube));
    Value scaled = arith::MulFOp::create(
        b, loc, floatConstant(b, loc, type, std::sqrt(2.0 / M_PI)), inner);
    Value sum = arith::AddFOp::create(b, loc, one(),
                                      math::TanhOp::create(b, loc, scaled));
    return arith::MulFOp::create(b, loc,
                                 arith::MulFOp::create(b, loc, half(), x), sum);
  }
  case Activation::quick_gelu: {
    Value scaled =
        arith::MulFOp::create(b, loc, floatConstant(b, loc, type, 1.702), x);
    return arith::MulFOp::create(b, loc, x, sigmoid(b, loc, scaled));
  }
  case Activation::silu:
    return arith::MulFOp::create(b, loc, x, sigmoid(b, loc, x));
  case Activation::relu:
    return arith::MaximumFOp::create(b, loc, x,
                                     floatConstant(b, loc, type, 0.0));
  case Activation::tanh:
    return math::TanhOp::create(b, loc, x);
  }
  llvm_unreachable("unknown activation");
}

Value applyUnary(OpBuilder &b, Location loc, Value input,
                 Activation activation) {
  auto type = cast<RankedTensorType>(input.getType());
  return buildElementwise(b, loc, type, input,
                          [&](OpBuilder &nb, Location nl, ValueRange args) {
                            return applyActivation(nb, nl, activation, args[0]);
                          });
}

AffineMap contractionMap(MLIRContext *ctx, ArrayRef<unsigned> dims,
                         unsigned numDims) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : dims)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(numDims, 0, exprs, ctx);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, op.getValue());
    return success();
  }
};

/// acc[m, n] + sum_k lhs[m, k] · panels[n floordiv W, k, n mod W]: a linear
/// layer on a weight laid out by tfm.pack_panels. kiln-matmul-to-ukernel
/// recognizes this generic by its indexing maps.
Value buildPanelsContraction(OpBuilder &b, Location loc, Value lhs,
                             Value panels, Value acc) {
  MLIRContext *ctx = b.getContext();
  int64_t width = cast<RankedTensorType>(panels.getType()).getShape()[2];
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> maps = {
      AffineMap::get(3, 0, {m, k}, ctx),
      AffineMap::get(3, 0, {n.floorDiv(width), k, n % width}, ctx),
      AffineMap::get(3, 0, {m, n}, ctx)};
  SmallVector<utils::IteratorType> iterators = {utils::IteratorType::parallel,
                                                utils::IteratorType::parallel,
                                                utils::IteratorType::reduction};
  auto generic = linalg::GenericOp::create(
      b, loc, acc.getType(), ValueRange{lhs, panels}, ValueRange{acc}, maps,
      iterators, [](OpBuilder &nb, Location l, ValueRange args) {
        Value product = arith::MulFOp::create(nb, l, args[0], args[1]);
        linalg::YieldOp::create(
            nb, l, arith::AddFOp::create(nb, l, args[2], product).getResult());
      });
  return generic.getResult(0);
}

/// The bias broadcast along `broadcastDims` of `type`, or zeros: the
/// accumulator a product adds onto.
Value biasOrZeros(OpBuilder &b, Location loc, Value bias, RankedTensorType type,
                  ArrayRef<int64_t> broadcastDims) {
  if (!bias)
    return filledTensor(b, loc, type,
                        b.getFloatAttr(type.getElementType(), 0.0));
  return linalg::BroadcastOp::create(b, loc, bias, emptyTensor(b, loc, type),
                                     broadcastDims)
      .getResult()[0];
}

/// lhs [M, K] · Wᵀ + bias for a weight [N, K] (or lhs · W for a weight
/// [K, N] with `weightInOut`): a linalg.matmul onto the bias, which
/// kiln-matmul-to-ukernel turns into a GEMM call.
Value buildLinearProduct(OpBuilder &b, Location loc, Value lhs, Value weight,
                         Value bias, bool weightInOut) {
  MLIRContext *ctx = b.getContext();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  ArrayRef<int64_t> weightShape =
      cast<RankedTensorType>(weight.getType()).getShape();
  auto accType = RankedTensorType::get(
      {lhsType.getShape()[0], weightShape[weightInOut ? 1 : 0]},
      lhsType.getElementType());
  Value init = biasOrZeros(b, loc, bias, accType, {0});
  auto matmul = linalg::MatmulOp::create(
      b, loc, TypeRange{accType}, ValueRange{lhs, weight}, ValueRange{init});
  // (m, n, k): x[m, k] · W[n, k] (W read transposed), or x[m, k] · W[k, n]
  // for a weight stored [in, out].
  SmallVector<unsigned> weightDims =
      weightInOut ? SmallVector<unsigned>{2, 1} : SmallVector<unsigned>{1, 2};
  matmul.setIndexingMapsAttr(b.getAffineMapArrayAttr(
      {contractionMap(ctx, {0, 2}, 3), contractionMap(ctx, weightDims, 3),
       contractionMap(ctx, {0, 1}, 3)}));
  return matmul.getResult(0);
}

struct LinearLowering : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType inputType = op.getInput().getType();
    Type elementType = inputType.getElementType();
    int64_t k = op.getInFeatures();
    int64_t n = op.getOutFeatures();
    int64_t m = inputType.getNumElements() / std::max<int64_t>(k, 1);
    auto lhsType = RankedTensorType::get({m, k}, elementType);
    auto accType = RankedTensorType::get({m, n}, elementType);

    Value lhs = buildReshape(rewriter, loc, adaptor.getInput(), lhsType);
    Value result;
    if (op.getWeightPanels()) {
      Value init = biasOrZeros(rewriter, loc, adaptor.getBias(), accType, {0});
      result =
          buildPanelsContraction(rewriter, loc, lhs, adaptor.getWeight(), init);
    } else {
      result = buildLinearProduct(rewriter, loc, lhs, adaptor.getWeight(),
                                  adaptor.getBias(), op.getWeightInOut());
    }
    if (op.getActivation() != Activation::none)
      result = applyUnary(rewriter, loc, result, op.getActivation());
    rewriter.replaceOp(op, buildReshape(rewriter, loc, result, op.getType()));
    return success();
  }
};

/// linalg.conv_2d_nchw_fchw onto the broadcast bias, on the image padded
/// with zeros where the op pads.
struct Conv2dLowering : OpConversionPattern<Conv2dOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Conv2dOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    Value input = adaptor.getInput();
    ArrayRef<int64_t> padding = op.getPadding();
    if (padding[0] || padding[1]) {
      auto inputType = cast<RankedTensorType>(input.getType());
      SmallVector<int64_t> shape(inputType.getShape());
      shape[2] += 2 * padding[0];
      shape[3] += 2 * padding[1];
      SmallVector<OpFoldResult> pads = {
          rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
          rewriter.getIndexAttr(padding[0]), rewriter.getIndexAttr(padding[1])};
      Value zero = floatConstant(rewriter, loc, type.getElementType(), 0.0);
      input = tensor::PadOp::create(
          rewriter, loc, RankedTensorType::get(shape, type.getElementType()),
          input, pads, pads, zero);
    }
    Value init = biasOrZeros(rewriter, loc, adaptor.getBias(), type, {0, 2, 3});
    auto conv = linalg::Conv2DNchwFchwOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{input, adaptor.getWeight()},
        ValueRange{init}, rewriter.getI64VectorAttr(op.getStrides()),
        rewriter.getI64VectorAttr(op.getDilation()));
    rewriter.replaceOp(op, conv.getResult(0));
    return success();
  }
};

/// The patches laid out as the rows of a matrix, [B·GH·GW, C·PH·PW], then one
/// product with the weight seen as [E, C·PH·PW]. Patches do not overlap, so
/// the rows are a permutation of the image: one copy of its size (the Halide
/// kernel reads them in place instead).
struct PatchEmbedLowering : OpConversionPattern<PatchEmbedOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PatchEmbedOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    Type elementType = type.getElementType();
    ArrayRef<int64_t> image = op.getInput().getType().getShape();
    ArrayRef<int64_t> filter = op.getWeight().getType().getShape();
    int64_t batch = image[0], channels = image[1], ph = filter[2],
            pw = filter[3], gh = image[2] / ph, gw = image[3] / pw;
    auto tiled =
        RankedTensorType::get({batch, channels, gh, ph, gw, pw}, elementType);
    Value grid = buildReshape(rewriter, loc, adaptor.getInput(), tiled);
    auto patchesType =
        RankedTensorType::get({batch, gh, gw, channels, ph, pw}, elementType);
    Value patches =
        linalg::TransposeOp::create(rewriter, loc, grid,
                                    emptyTensor(rewriter, loc, patchesType),
                                    ArrayRef<int64_t>{0, 2, 4, 1, 3, 5})
            .getResult()[0];
    int64_t k = channels * ph * pw;
    Value rows =
        buildReshape(rewriter, loc, patches,
                     RankedTensorType::get({batch * gh * gw, k}, elementType));
    Value weight =
        buildReshape(rewriter, loc, adaptor.getWeight(),
                     RankedTensorType::get({filter[0], k}, elementType));
    Value product = buildLinearProduct(rewriter, loc, rows, weight,
                                       adaptor.getBias(), false);
    rewriter.replaceOp(op, buildReshape(rewriter, loc, product, type));
    return success();
  }
};

struct MatmulLowering : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  /// Gives `operand` the full batch shape `batch` (stretching size-1 axes)
  /// and collapses the batch axes into one.
  static Value toBatchedMatrix(OpBuilder &b, Location loc, Value operand,
                               ArrayRef<int64_t> batch) {
    auto type = cast<RankedTensorType>(operand.getType());
    ArrayRef<int64_t> shape = type.getShape();
    SmallVector<int64_t> full(batch);
    full.append({shape[shape.size() - 2], shape.back()});
    auto fullType = RankedTensorType::get(full, type.getElementType());
    if (ArrayRef<int64_t>(full) != shape)
      operand = buildElementwise(
          b, loc, fullType, operand,
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    int64_t count = 1;
    for (int64_t d : batch)
      count *= d;
    auto collapsedType = RankedTensorType::get(
        {count, full[full.size() - 2], full.back()}, type.getElementType());
    return buildReshape(b, loc, operand, collapsedType);
  }

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    RankedTensorType resultType = op.getType();
    Type elementType = resultType.getElementType();
    ArrayRef<int64_t> resultShape = resultType.getShape();
    int64_t rank = resultType.getRank();
    int64_t m = resultShape[rank - 2], n = resultShape[rank - 1];

    // Operand maps over (m, n, k) with the transposes folded in.
    bool tl = op.getTransposeLhs(), tr = op.getTransposeRhs();
    SmallVector<unsigned> lhsDims =
        tl ? SmallVector<unsigned>{2, 0} : SmallVector<unsigned>{0, 2};
    SmallVector<unsigned> rhsDims =
        tr ? SmallVector<unsigned>{1, 2} : SmallVector<unsigned>{2, 1};
    Value zeroInit;
    if (rank == 2) {
      auto accType = RankedTensorType::get({m, n}, elementType);
      zeroInit = filledTensor(rewriter, loc, accType,
                              rewriter.getFloatAttr(elementType, 0.0));
      auto matmul = linalg::MatmulOp::create(
          rewriter, loc, TypeRange{accType},
          ValueRange{adaptor.getLhs(), adaptor.getRhs()}, ValueRange{zeroInit});
      matmul.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(
          {contractionMap(ctx, lhsDims, 3), contractionMap(ctx, rhsDims, 3),
           contractionMap(ctx, {0, 1}, 3)}));
      rewriter.replaceOp(op, matmul.getResult(0));
      return success();
    }

    ArrayRef<int64_t> batch = resultShape.drop_back(2);
    Value lhs = toBatchedMatrix(rewriter, loc, adaptor.getLhs(), batch);
    Value rhs = toBatchedMatrix(rewriter, loc, adaptor.getRhs(), batch);
    int64_t count = cast<RankedTensorType>(lhs.getType()).getShape()[0];
    auto accType = RankedTensorType::get({count, m, n}, elementType);
    zeroInit = filledTensor(rewriter, loc, accType,
                            rewriter.getFloatAttr(elementType, 0.0));
    auto shift = [](ArrayRef<unsigned> dims) {
      SmallVector<unsigned> shifted = {0};
      for (unsigned d : dims)
        shifted.push_back(d + 1);
      return shifted;
    };
    auto matmul = linalg::BatchMatmulOp::create(
        rewriter, loc, TypeRange{accType}, ValueRange{lhs, rhs},
        ValueRange{zeroInit});
    matmul.setIndexingMapsAttr(
        rewriter.getAffineMapArrayAttr({contractionMap(ctx, shift(lhsDims), 4),
                                        contractionMap(ctx, shift(rhsDims), 4),
                                        contractionMap(ctx, {0, 1, 2}, 4)}));
    rewriter.replaceOp(
        op, buildReshape(rewriter, loc, matmul.getResult(0), resultType));
    return success();
  }
};

/// Mean and variance style normalizations share this: reduce over the last
/// axis, then one pointwise pass.
/// torch.nn.LayerNorm over the last axis of `input`: a mean pass, a
/// two-pass variance, then the normalization.
Value buildLayerNorm(OpBuilder &b, Location loc, Value input, Value weight,
                     Value bias, float epsilon) {
  auto type = cast<RankedTensorType>(input.getType());
  Type elementType = type.getElementType();
  int64_t axis = type.getRank() - 1;
  double size = static_cast<double>(type.getShape().back());
  TypedAttr zero = b.getFloatAttr(elementType, 0.0);
  auto add = [](OpBuilder &nb, Location l, Value x, Value acc) -> Value {
    return arith::AddFOp::create(nb, l, x, acc);
  };

  Value sum = buildReduction(b, loc, input, axis, zero, add);
  Value mean = buildElementwise(
      b, loc, cast<RankedTensorType>(sum.getType()), sum,
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return arith::DivFOp::create(nb, l, args[0],
                                     floatConstant(nb, l, elementType, size));
      });
  // Two-pass variance: sum((x - mean)^2), as the reference computes it.
  Value squares = buildReduction(
      b, loc, input, axis, zero,
      [](OpBuilder &nb, Location l, Value centered, Value acc) -> Value {
        return arith::AddFOp::create(
            nb, l, arith::MulFOp::create(nb, l, centered, centered), acc);
      },
      mean);
  Value meanKeep = keepReducedAxis(b, loc, mean, type, axis);
  Value squaresKeep = keepReducedAxis(b, loc, squares, type, axis);
  return buildElementwise(
      b, loc, type, ValueRange{input, meanKeep, squaresKeep, weight, bias},
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value variance = arith::DivFOp::create(
            nb, l, args[2], floatConstant(nb, l, elementType, size));
        Value rstd = math::RsqrtOp::create(
            nb, l,
            arith::AddFOp::create(nb, l, variance,
                                  floatConstant(nb, l, elementType, epsilon)));
        Value centered = arith::SubFOp::create(nb, l, args[0], args[1]);
        Value normalized = arith::MulFOp::create(nb, l, centered, rstd);
        return arith::AddFOp::create(
            nb, l, arith::MulFOp::create(nb, l, normalized, args[3]), args[4]);
      });
}

struct LayerNormLowering : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op,
                       buildLayerNorm(rewriter, op.getLoc(), adaptor.getInput(),
                                      adaptor.getWeight(), adaptor.getBias(),
                                      op.getEpsilon().convertToFloat()));
    return success();
  }
};

/// The sum, then the normalization (the generic loop path; the runtime's
/// kernel fuses the two).
struct AddLayerNormLowering : OpConversionPattern<AddLayerNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AddLayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value sum = buildElementwise(
        rewriter, loc, op.getType(),
        ValueRange{adaptor.getInput(), adaptor.getResidual()},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::AddFOp::create(b, l, args[0], args[1]);
        });
    rewriter.replaceOp(op,
                       buildLayerNorm(rewriter, loc, sum, adaptor.getWeight(),
                                      adaptor.getBias(),
                                      op.getEpsilon().convertToFloat()));
    return success();
  }
};

struct RmsNormLowering : OpConversionPattern<RmsNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RmsNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    Type elementType = type.getElementType();
    double size = static_cast<double>(type.getShape().back());
    Value input = adaptor.getInput();
    Value squares = buildReduction(
        rewriter, loc, input, type.getRank() - 1,
        rewriter.getFloatAttr(elementType, 0.0),
        [](OpBuilder &b, Location l, Value x, Value acc) -> Value {
          return arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, x, x),
                                       acc);
        });
    Value squaresKeep =
        keepReducedAxis(rewriter, loc, squares, type, type.getRank() - 1);
    float epsilon = op.getEpsilon().convertToFloat();
    Value result = buildElementwise(
        rewriter, loc, type,
        ValueRange{input, squaresKeep, adaptor.getWeight()},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value meanSquare = arith::DivFOp::create(
              b, l, args[1], floatConstant(b, l, elementType, size));
          Value rms = math::RsqrtOp::create(
              b, l,
              arith::AddFOp::create(b, l, meanSquare,
                                    floatConstant(b, l, elementType, epsilon)));
          return arith::MulFOp::create(
              b, l, arith::MulFOp::create(b, l, args[0], rms), args[2]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

template <typename OpTy> struct ActivationLowering : OpConversionPattern<OpTy> {
  ActivationLowering(MLIRContext *ctx, Activation activation)
      : OpConversionPattern<OpTy>(ctx), activation(activation) {}
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, applyUnary(rewriter, op.getLoc(), adaptor.getInput(), activation));
    return success();
  }
  Activation activation;
};

struct GeluLowering : OpConversionPattern<GeluOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GeluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Activation activation = op.getApproximation() == GeluApproximation::tanh
                                ? Activation::gelu_tanh
                                : Activation::gelu;
    rewriter.replaceOp(
        op, applyUnary(rewriter, op.getLoc(), adaptor.getInput(), activation));
    return success();
  }
};

struct ScaleLowering : OpConversionPattern<ScaleOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScaleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type elementType = op.getType().getElementType();
    double factor = op.getFactor().convertToDouble();
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), op.getType(), adaptor.getInput(),
                [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                  return arith::MulFOp::create(
                      b, l, args[0], floatConstant(b, l, elementType, factor));
                }));
    return success();
  }
};

struct SoftmaxLowering : OpConversionPattern<SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    Type elementType = type.getElementType();
    int64_t axis = op.getNormalizedAxis();
    Value input = adaptor.getInput();
    auto floatType = cast<FloatType>(elementType);
    TypedAttr lowest = rewriter.getFloatAttr(
        elementType,
        APFloat::getInf(floatType.getFloatSemantics(), /*Negative=*/true));
    Value max = buildReduction(
        rewriter, loc, input, axis, lowest,
        [](OpBuilder &b, Location l, Value x, Value acc) -> Value {
          return arith::MaximumFOp::create(b, l, x, acc);
        });
    // exp(x - max) summed; the subtraction happens in buildReduction.
    Value sum = buildReduction(
        rewriter, loc, input, axis, rewriter.getFloatAttr(elementType, 0.0),
        [](OpBuilder &b, Location l, Value centered, Value acc) -> Value {
          return arith::AddFOp::create(
              b, l, math::ExpOp::create(b, l, centered), acc);
        },
        max);
    Value maxKeep = keepReducedAxis(rewriter, loc, max, type, axis);
    Value sumKeep = keepReducedAxis(rewriter, loc, sum, type, axis);
    Value result = buildElementwise(
        rewriter, loc, type, ValueRange{input, maxKeep, sumKeep},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value e = math::ExpOp::create(
              b, l, arith::SubFOp::create(b, l, args[0], args[1]));
          return arith::DivFOp::create(b, l, e, args[2]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

template <typename OpTy, typename FloatOp, typename IntOp>
struct BinaryLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type elementType = op.getType().getElementType();
    if (elementType.isInteger(1))
      return rewriter.notifyMatchFailure(op, "arithmetic on i1 tensors");
    bool isFloat = isa<FloatType>(elementType);
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), op.getType(),
                ValueRange{adaptor.getLhs(), adaptor.getRhs()},
                [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                  if (isFloat)
                    return FloatOp::create(b, l, args[0], args[1]);
                  return IntOp::create(b, l, args[0], args[1]);
                }));
    return success();
  }
};

struct ReshapeLowering : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, buildReshape(rewriter, op.getLoc(),
                                        adaptor.getInput(), op.getType()));
    return success();
  }
};

struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto transpose = linalg::TransposeOp::create(
        rewriter, op.getLoc(), adaptor.getInput(),
        emptyTensor(rewriter, op.getLoc(), op.getType()), op.getPermutation());
    rewriter.replaceOp(op, transpose.getResult()[0]);
    return success();
  }
};

/// B [K, N] padded with zero columns to P·W, split into [K, P, W] and
/// transposed to [P, K, W]. Runs once, at load, for weights.
struct PackPanelsLowering : OpConversionPattern<PackPanelsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackPanelsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    ArrayRef<int64_t> panels = type.getShape();
    Type elementType = type.getElementType();
    Value b = adaptor.getWeight();
    auto weightType = cast<RankedTensorType>(b.getType());
    if (!op.getInOut()) {
      ArrayRef<int64_t> w = weightType.getShape();
      b = linalg::TransposeOp::create(
              rewriter, loc, b,
              emptyTensor(rewriter, loc,
                          RankedTensorType::get({w[1], w[0]}, elementType)),
              ArrayRef<int64_t>{1, 0})
              .getResult()[0];
    }
    int64_t k = panels[1],
            n = cast<RankedTensorType>(b.getType()).getShape()[1];
    int64_t padded = panels[0] * panels[2];
    if (padded != n) {
      Value zero = floatConstant(rewriter, loc, elementType, 0.0);
      SmallVector<OpFoldResult> low = {rewriter.getIndexAttr(0),
                                       rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> high = {rewriter.getIndexAttr(0),
                                        rewriter.getIndexAttr(padded - n)};
      b = tensor::PadOp::create(rewriter, loc,
                                RankedTensorType::get({k, padded}, elementType),
                                b, low, high, zero);
    }
    Value split = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({k, panels[0], panels[2]}, elementType), b,
        ArrayRef<ReassociationIndices>{{0}, {1, 2}});
    rewriter.replaceOp(
        op, linalg::TransposeOp::create(rewriter, loc, split,
                                        emptyTensor(rewriter, loc, type),
                                        ArrayRef<int64_t>{1, 0, 2})
                .getResult()[0]);
    return success();
  }
};

struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, op.getType(), adaptor.getInput(), ValueRange{}, ValueRange{},
        ValueRange{}, op.getOffsets(), op.getType().getShape(),
        op.getStrides());
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    int64_t axis = op.getNormalizedAxis();
    Value result = emptyTensor(rewriter, loc, type);
    SmallVector<int64_t> offsets(type.getRank(), 0);
    SmallVector<int64_t> strides(type.getRank(), 1);
    for (Value input : adaptor.getInputs()) {
      ArrayRef<int64_t> shape =
          cast<RankedTensorType>(input.getType()).getShape();
      result = tensor::InsertSliceOp::create(
          rewriter, loc, input, result, ValueRange{}, ValueRange{},
          ValueRange{}, offsets, shape, strides);
      offsets[axis] += shape[axis];
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// result[a..., i..., b...] = input[a..., clamp(indices[i...]), b...].
Value buildGather(OpBuilder &b, Location loc, Value input, Value indices,
                  int64_t axis, RankedTensorType resultType) {
  MLIRContext *ctx = b.getContext();
  auto inputType = cast<RankedTensorType>(input.getType());
  auto indicesType = cast<RankedTensorType>(indices.getType());
  int64_t rank = resultType.getRank();
  int64_t indicesRank = indicesType.getRank();
  SmallVector<AffineExpr> indexExprs;
  for (int64_t d = 0; d < indicesRank; ++d)
    indexExprs.push_back(getAffineDimExpr(axis + d, ctx));
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, indexExprs, ctx),
                                 b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  int64_t limit = inputType.getShape()[axis] - 1;
  auto generic = linalg::GenericOp::create(
      b, loc, resultType, indices, emptyTensor(b, loc, resultType), maps,
      iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
        // Clamp so a bad id can never read outside the table.
        Value id =
            arith::IndexCastOp::create(nb, nl, nb.getIndexType(), args[0]);
        id = arith::MaxSIOp::create(nb, nl, id,
                                    arith::ConstantIndexOp::create(nb, nl, 0));
        id = arith::MinSIOp::create(
            nb, nl, id, arith::ConstantIndexOp::create(nb, nl, limit));
        SmallVector<Value> coordinates;
        for (int64_t d = 0; d < axis; ++d)
          coordinates.push_back(linalg::IndexOp::create(nb, nl, d));
        coordinates.push_back(id);
        for (int64_t d = axis + indicesRank; d < rank; ++d)
          coordinates.push_back(linalg::IndexOp::create(nb, nl, d));
        Value element = tensor::ExtractOp::create(nb, nl, input, coordinates);
        linalg::YieldOp::create(nb, nl, element);
      });
  return generic.getResult(0);
}

struct GatherLowering : OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    int64_t axis = op.getNormalizedAxis();
    rewriter.replaceOp(op,
                       buildGather(rewriter, op.getLoc(), adaptor.getInput(),
                                   adaptor.getIndices(), axis, op.getType()));
    return success();
  }
};

struct EmbeddingLowering : OpConversionPattern<EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op,
                       buildGather(rewriter, op.getLoc(), adaptor.getTable(),
                                   adaptor.getIds(), 0, op.getType()));
    return success();
  }
};

/// A generic that fills `type` from its iteration indices (and inputs).
Value buildFromIndices(
    OpBuilder &b, Location loc, RankedTensorType type, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(type.getRank()));
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, type, inputs, emptyTensor(b, loc, type), maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> indices;
        for (int64_t d = 0; d < type.getRank(); ++d)
          indices.push_back(linalg::IndexOp::create(nb, nl, d));
        linalg::YieldOp::create(nb, nl,
                                body(nb, nl, indices, args.drop_back()));
      });
  return generic.getResult(0);
}

struct CausalMaskLowering : OpConversionPattern<CausalMaskOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(CausalMaskOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType type = op.getType();
    int64_t offset = type.getShape()[1] - type.getShape()[0];
    Type elementType = type.getElementType();
    rewriter.replaceOp(
        op, buildFromIndices(
                rewriter, op.getLoc(), type, {}, {},
                [&](OpBuilder &b, Location l, ValueRange idx, ValueRange) {
                  // Key j is visible to query i when j <= i + (Sk - Sq).
                  Value limit = arith::AddIOp::create(
                      b, l, idx[0],
                      arith::ConstantIndexOp::create(b, l, offset));
                  Value visible = arith::CmpIOp::create(
                      b, l, arith::CmpIPredicate::sle, idx[1], limit);
                  return arith::SelectOp::create(
                      b, l, visible, floatConstant(b, l, elementType, 0.0),
                      lowestFinite(b, l, elementType));
                }));
    return success();
  }
};

struct PaddingMaskLowering : OpConversionPattern<PaddingMaskOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PaddingMaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType type = op.getType();
    Type elementType = type.getElementType();
    MLIRContext *ctx = rewriter.getContext();
    AffineMap lengthsMap =
        AffineMap::get(type.getRank(), 0, getAffineDimExpr(0, ctx));
    rewriter.replaceOp(
        op, buildFromIndices(
                rewriter, op.getLoc(), type, adaptor.getLengths(), lengthsMap,
                [&](OpBuilder &b, Location l, ValueRange idx, ValueRange args) {
                  Value key = arith::IndexCastOp::create(
                      b, l, args[0].getType(), idx.back());
                  Value visible = arith::CmpIOp::create(
                      b, l, arith::CmpIPredicate::slt, key, args[0]);
                  return arith::SelectOp::create(
                      b, l, visible, floatConstant(b, l, elementType, 0.0),
                      lowestFinite(b, l, elementType));
                }));
    return success();
  }
};

/// tensor.insert_slice at a position read at run time and clamped into the
/// cache, so the write can never leave the buffer.
struct KvCacheWriteLowering : OpConversionPattern<KvCacheWriteOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(KvCacheWriteOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType cacheType = op.getCache().getType();
    ArrayRef<int64_t> updateShape = op.getUpdate().getType().getShape();
    int64_t axis = op.getNormalizedAxis();
    if (updateShape == cacheType.getShape()) {
      // A whole-cache write would fold to the update itself and lose the
      // cache buffer; materializing into the cache keeps the write in place.
      rewriter.replaceOpWithNewOp<bufferization::MaterializeInDestinationOp>(
          op, cacheType, adaptor.getUpdate(), adaptor.getCache());
      return success();
    }
    int64_t positionRank = op.getPosition().getType().getRank();
    SmallVector<Value> zeros(positionRank,
                             arith::ConstantIndexOp::create(rewriter, loc, 0));
    Value position =
        tensor::ExtractOp::create(rewriter, loc, adaptor.getPosition(), zeros);
    position = arith::IndexCastOp::create(rewriter, loc,
                                          rewriter.getIndexType(), position);
    int64_t last = cacheType.getShape()[axis] - updateShape[axis];
    position = arith::MaxSIOp::create(
        rewriter, loc, position,
        arith::ConstantIndexOp::create(rewriter, loc, 0));
    position = arith::MinSIOp::create(
        rewriter, loc, position,
        arith::ConstantIndexOp::create(rewriter, loc, last));

    SmallVector<OpFoldResult> offsets(cacheType.getRank(),
                                      rewriter.getIndexAttr(0));
    offsets[axis] = position;
    SmallVector<OpFoldResult> sizes, strides;
    for (int64_t size : updateShape) {
      sizes.push_back(rewriter.getIndexAttr(size));
      strides.push_back(rewriter.getIndexAttr(1));
    }
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        op, adaptor.getUpdate(), adaptor.getCache(), offsets, sizes, strides);
    return success();
  }
};

} // namespace

void kiln::populateTfmToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns
      .add<ConstantLowering, LinearLowering, Conv2dLowering, PatchEmbedLowering,
           MatmulLowering, LayerNormLowering, AddLayerNormLowering,
           RmsNormLowering, GeluLowering, ScaleLowering, SoftmaxLowering,
           ReshapeLowering, TransposeLowering, PackPanelsLowering,
           SliceLowering, ConcatLowering, GatherLowering, EmbeddingLowering,
           CausalMaskLowering, PaddingMaskLowering, KvCacheWriteLowering,
           BinaryLowering<AddOp, arith::AddFOp, arith::AddIOp>,
           BinaryLowering<SubOp, arith::SubFOp, arith::SubIOp>,
           BinaryLowering<MulOp, arith::MulFOp, arith::MulIOp>,
           BinaryLowering<DivOp, arith::DivFOp, arith::DivSIOp>>(ctx);
  patterns.add<ActivationLowering<QuickGeluOp>>(ctx, Activation::quick_gelu);
  patterns.add<ActivationLowering<SiluOp>>(ctx, Activation::silu);
  patterns.add<ActivationLowering<ReluOp>>(ctx, Activation::relu);
  patterns.add<ActivationLowering<TanhOp>>(ctx, Activation::tanh);
}

namespace {
struct ConvertTfmToLinalgPass
    : kiln::impl::ConvertTfmToLinalgBase<ConvertTfmToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<TfmDialect>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, tensor::TensorDialect,
                           bufferization::BufferizationDialect,
                           func::FuncDialect>();
    RewritePatternSet patterns(ctx);
    kiln::populateTfmToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
