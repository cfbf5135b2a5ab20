//===- TfmBuilder.cpp - Building blocks shared by the model builders ------===//

#include "models/TfmBuilder.h"

#include <cmath>

using namespace mlir;
using namespace kiln::tfm;

namespace kiln {

Value TfmBuilder::weight(const std::string &name, ArrayRef<int64_t> shape) {
  return WeightOp::create(b, at(name), tensor(shape), prefix + name);
}

Value TfmBuilder::i64Constant(ArrayRef<int64_t> shape,
                              ArrayRef<int64_t> values) {
  auto type = tensor(shape, i64);
  return ConstantOp::create(b, b.getUnknownLoc(),
                            DenseElementsAttr::get(type, values));
}

Value TfmBuilder::linear(const std::string &path, Value x, int64_t in,
                         int64_t out, bool bias, bool weightInOut) {
  SmallVector<int64_t> shape(shapeOf(x));
  shape.back() = out;
  Value w = weightInOut ? weight(path + ".weight", {in, out})
                        : weight(path + ".weight", {out, in});
  Value biasValue = bias ? weight(path + ".bias", {out}) : Value();
  return LinearOp::create(b, at(path), tensor(shape), x, w, biasValue,
                          Activation::none, weightInOut);
}

Value TfmBuilder::layerNorm(const std::string &path, Value x,
                            double epsilon) {
  int64_t d = shapeOf(x).back();
  return LayerNormOp::create(b, at(path), x, weight(path + ".weight", {d}),
                             weight(path + ".bias", {d}),
                             b.getF32FloatAttr(epsilon));
}

Value TfmBuilder::activation(Location loc, const std::string &name, Value x) {
  if (name == "gelu_new" || name == "gelu_pytorch_tanh")
    return GeluOp::create(b, loc, x, GeluApproximation::tanh);
  if (name == "gelu")
    return GeluOp::create(b, loc, x, GeluApproximation::none);
  if (name == "relu")
    return ReluOp::create(b, loc, x);
  if (name == "quick_gelu")
    return QuickGeluOp::create(b, loc, x);
  if (name == "tanh")
    return TanhOp::create(b, loc, x);
  return SiluOp::create(b, loc, x); // "silu", "swish"
}

Value TfmBuilder::add(Location loc, Value lhs, Value rhs) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto shape = broadcastShapes(lhsType.getShape(), shapeOf(rhs));
  return AddOp::create(b, loc,
                       RankedTensorType::get(*shape, lhsType.getElementType()),
                       lhs, rhs);
}

Value TfmBuilder::sliceLast(Location loc, Value x, int64_t offset,
                            int64_t size) {
  SmallVector<int64_t> shape(shapeOf(x));
  shape.back() = size;
  SmallVector<int64_t> offsets(shape.size(), 0), strides(shape.size(), 1);
  offsets.back() = offset;
  auto type = RankedTensorType::get(
      shape, cast<RankedTensorType>(x.getType()).getElementType());
  return SliceOp::create(b, loc, type, x, b.getDenseI64ArrayAttr(offsets),
                         b.getDenseI64ArrayAttr(strides));
}

Value TfmBuilder::reshape(Location loc, Value x, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(
      shape, cast<RankedTensorType>(x.getType()).getElementType());
  return ReshapeOp::create(b, loc, type, x);
}

Value TfmBuilder::splitHeads(Location loc, Value x, int64_t heads) {
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t batch = shape[0], seq = shape[1], headDim = shape[2] / heads;
  Value split = reshape(loc, x, {batch, seq, heads, headDim});
  return TransposeOp::create(b, loc, tensor({batch, heads, seq, headDim}),
                             split, b.getDenseI64ArrayAttr({0, 2, 1, 3}));
}

Value TfmBuilder::mergeHeads(Location loc, Value x) {
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t batch = shape[0], heads = shape[1], seq = shape[2],
          headDim = shape[3];
  Value merged =
      TransposeOp::create(b, loc, tensor({batch, seq, heads, headDim}), x,
                          b.getDenseI64ArrayAttr({0, 2, 1, 3}));
  return reshape(loc, merged, {batch, seq, heads * headDim});
}

Value TfmBuilder::attention(Location loc, Value query, Value key, Value value,
                            Value mask, double scale) {
  ArrayRef<int64_t> q = shapeOf(query);
  int64_t keys = shapeOf(key)[2];
  auto scoresType = tensor({q[0], q[1], q[2], keys});
  Value scores = MatmulOp::create(b, loc, scoresType, query, key,
                                  /*transpose_lhs=*/false,
                                  /*transpose_rhs=*/true);
  if (scale != 1.0)
    scores = ScaleOp::create(b, loc, scores, b.getF32FloatAttr(scale));
  if (mask)
    scores = add(loc, scores, mask);
  Value probabilities = SoftmaxOp::create(b, loc, scores, -1);
  return MatmulOp::create(b, loc, tensor({q[0], q[1], q[2], shapeOf(value)[3]}),
                          probabilities, value);
}

Value TfmBuilder::patchEmbedding(const std::string &path, Value pixels,
                                 int64_t embed, int64_t patchHeight,
                                 int64_t patchWidth, bool bias) {
  ArrayRef<int64_t> image = shapeOf(pixels);
  int64_t batch = image[0], channels = image[1];
  int64_t gridHeight = image[2] / patchHeight, gridWidth = image[3] / patchWidth;
  Location loc = at(path);
  Value w = weight(path + ".weight", {embed, channels, patchHeight, patchWidth});
  Value biasValue = bias ? weight(path + ".bias", {embed}) : Value();
  Value grid = Conv2dOp::create(
      b, loc, tensor({batch, embed, gridHeight, gridWidth}), pixels, w,
      biasValue, b.getDenseI64ArrayAttr({patchHeight, patchWidth}),
      b.getDenseI64ArrayAttr({0, 0}), b.getDenseI64ArrayAttr({1, 1}));
  Value flat = reshape(loc, grid, {batch, embed, gridHeight * gridWidth});
  return TransposeOp::create(b, loc,
                             tensor({batch, gridHeight * gridWidth, embed}),
                             flat, b.getDenseI64ArrayAttr({0, 2, 1}));
}

Value TfmBuilder::prependToken(Location loc, Value token, Value x) {
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t batch = shape[0], length = shape[1], d = shape[2];
  Value one = reshape(loc, token, {1, 1, d});
  Value tokens = one;
  if (batch > 1) {
    SmallVector<Value> copies(batch, one);
    tokens = ConcatOp::create(b, loc, tensor({batch, 1, d}), copies,
                              b.getI64IntegerAttr(0));
  }
  return ConcatOp::create(b, loc, tensor({batch, length + 1, d}),
                          ValueRange{tokens, x}, b.getI64IntegerAttr(1));
}

Value TfmBuilder::takeRow(Location loc, Value x, int64_t row) {
  ArrayRef<int64_t> shape = shapeOf(x);
  SmallVector<int64_t> offsets = {0, row, 0}, strides(3, 1);
  Value slice = SliceOp::create(b, loc, tensor({shape[0], 1, shape[2]}), x,
                                b.getDenseI64ArrayAttr(offsets),
                                b.getDenseI64ArrayAttr(strides));
  return reshape(loc, slice, {shape[0], shape[2]});
}

Value TfmBuilder::preLnBlock(const std::string &path, const PreLnNames &names,
                             Value x, int64_t heads, int64_t inner,
                             const std::string &act, double epsilon,
                             bool qkvBias, Value mask) {
  auto sub = [&](const char *name) { return path + "." + name; };
  int64_t d = shapeOf(x).back();
  Location attn = at(sub(names.attention));
  Value normed = layerNorm(sub(names.norm1), x, epsilon);
  Value query =
      splitHeads(attn, linear(sub(names.query), normed, d, d, qkvBias), heads);
  Value key =
      splitHeads(attn, linear(sub(names.key), normed, d, d, qkvBias), heads);
  Value value =
      splitHeads(attn, linear(sub(names.value), normed, d, d, qkvBias), heads);
  double scale = 1.0 / std::sqrt(static_cast<double>(d / heads));
  Value context =
      mergeHeads(attn, attention(attn, query, key, value, mask, scale));
  Value hidden = add(at(path), linear(sub(names.output), context, d, d), x);
  Value mlpIn = layerNorm(sub(names.norm2), hidden, epsilon);
  Value up = activation(at(sub(names.mlp)), act,
                        linear(sub(names.fc1), mlpIn, d, inner));
  return add(at(path), linear(sub(names.fc2), up, inner, d), hidden);
}

} // namespace kiln
