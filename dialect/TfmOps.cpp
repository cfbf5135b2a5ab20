//===- TfmOps.cpp - Verifiers and folders of the tfm ops ------------------===//

#include "dialect/TfmOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace kiln::tfm;

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

std::string kiln::tfm::formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleave(shape, os, ",");
  os << "]";
  return text;
}

std::optional<SmallVector<int64_t>>
kiln::tfm::broadcastShapes(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align at the trailing axis; missing leading axes act as size 1.
    int64_t l = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t r = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (l != r && l != 1 && r != 1)
      return std::nullopt;
    result[i] = l == 1 ? r : l;
  }
  return result;
}

static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

static Type elementTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getElementType();
}

/// Checks that every value has the element type of the first one.
static LogicalResult verifySameElementType(Operation *op,
                                           ArrayRef<Value> values,
                                           ArrayRef<StringRef> names) {
  Type expected = elementTypeOf(values.front());
  for (auto [value, name] : llvm::zip(values, names)) {
    if (elementTypeOf(value) != expected)
      return op->emitOpError()
             << "'" << name << "' has element type " << elementTypeOf(value)
             << " but '" << names.front() << "' has " << expected;
  }
  return success();
}

static LogicalResult verifyResultShape(Operation *op,
                                       ArrayRef<int64_t> expected) {
  ArrayRef<int64_t> actual = shapeOf(op->getResult(0));
  if (actual != expected)
    return op->emitOpError()
           << "result has shape " << formatShape(actual)
           << " but the operands give " << formatShape(expected);
  return success();
}

/// Axis in [-rank, rank) as a non-negative index, or failure.
static FailureOr<int64_t> normalizeAxis(Operation *op, int64_t axis,
                                        int64_t rank) {
  if (axis < -rank || axis >= rank)
    return op->emitOpError()
           << "axis " << axis << " is out of range for rank " << rank;
  return axis < 0 ? axis + rank : axis;
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty checkpoint tensor name");
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  ArrayRef<int64_t> weight = shapeOf(getWeight());
  if (input.empty())
    return emitOpError("'input' must have rank >= 1");
  if (getWeightInOut() && getWeightPanels())
    return emitOpError("'weight_in_out' and 'weight_panels' exclude each "
                       "other");
  StringRef layout = getWeightPanels()  ? "[panels, in, width]"
                     : getWeightInOut() ? "[in, out]"
                                        : "[out, in]";
  if (weight.size() != (getWeightPanels() ? 3u : 2u))
    return emitOpError() << "'weight' must be " << layout << ", got "
                         << formatShape(weight);
  if (getWeightPanels()) {
    ArrayRef<int64_t> result = shapeOf(getResult());
    if (result.empty() || weight[2] < 1 ||
        weight[0] != llvm::divideCeil(result.back(), weight[2]))
      return emitOpError() << "'weight' panels " << formatShape(weight)
                           << " do not cover the " << formatShape(result)
                           << " result: expected ceil(N / width) panels";
  }
  if (getInFeatures() != input.back())
    return emitOpError() << "'weight' " << layout << " has shape "
                         << formatShape(weight) << " but 'input' has shape "
                         << formatShape(input) << ": the input features must "
                         << "agree";
  int64_t outFeatures = getOutFeatures();
  SmallVector<Value> values = {getInput(), getWeight()};
  SmallVector<StringRef> names = {"input", "weight"};
  if (getBias()) {
    ArrayRef<int64_t> bias = shapeOf(getBias());
    if (bias.size() != 1 || bias[0] != outFeatures)
      return emitOpError() << "'bias' has shape " << formatShape(bias)
                           << " but 'weight' has shape " << formatShape(weight)
                           << ": expected [" << outFeatures << "]";
    values.push_back(getBias());
    names.push_back("bias");
  }
  values.push_back(getResult());
  names.push_back("result");
  if (failed(verifySameElementType(*this, values, names)))
    return failure();
  SmallVector<int64_t> expected(input.drop_back());
  expected.push_back(outFeatures);
  return verifyResultShape(*this, expected);
}

/// The checks conv2d and patch_embed share: an NCHW image, an OIHW weight
/// on the image's channels, an [O] bias and one element type.
static LogicalResult verifyImageFilter(Operation *op, Value input, Value weight,
                                       Value bias) {
  ArrayRef<int64_t> image = shapeOf(input), filter = shapeOf(weight);
  if (image.size() != 4)
    return op->emitOpError() << "'input' must be [batch, channels, height, "
                                "width], got "
                             << formatShape(image);
  if (filter.size() != 4)
    return op->emitOpError() << "'weight' must be [out, channels, height, "
                                "width], got "
                             << formatShape(filter);
  if (filter[1] != image[1])
    return op->emitOpError() << "'weight' " << formatShape(filter) << " has "
                             << filter[1] << " input channels but 'input' "
                             << formatShape(image) << " has " << image[1];
  SmallVector<Value> values = {input, weight};
  SmallVector<StringRef> names = {"input", "weight"};
  if (bias) {
    ArrayRef<int64_t> biasShape = shapeOf(bias);
    if (biasShape.size() != 1 || biasShape[0] != filter[0])
      return op->emitOpError() << "'bias' has shape " << formatShape(biasShape)
                               << " but 'weight' " << formatShape(filter)
                               << " has " << filter[0] << " outputs";
    values.push_back(bias);
    names.push_back("bias");
  }
  values.push_back(op->getResult(0));
  names.push_back("result");
  return verifySameElementType(op, values, names);
}

LogicalResult Conv2dOp::verify() {
  if (failed(verifyImageFilter(*this, getInput(), getWeight(), getBias())))
    return failure();
  auto pairOf = [&](ArrayRef<int64_t> values, StringRef name,
                    int64_t least) -> LogicalResult {
    if (values.size() != 2 || values[0] < least || values[1] < least)
      return emitOpError() << "'" << name
                           << "' must be two integers >= " << least << ", got "
                           << formatShape(values);
    return success();
  };
  if (failed(pairOf(getStrides(), "strides", 1)) ||
      failed(pairOf(getPadding(), "padding", 0)) ||
      failed(pairOf(getDilation(), "dilation", 1)))
    return failure();
  ArrayRef<int64_t> image = shapeOf(getInput()), filter = shapeOf(getWeight());
  SmallVector<int64_t> expected = {image[0], filter[0]};
  for (int axis = 0; axis < 2; ++axis) {
    int64_t padded = image[2 + axis] + 2 * getPadding()[axis];
    int64_t span = getDilation()[axis] * (filter[2 + axis] - 1) + 1;
    if (span > padded)
      return emitOpError() << "the kernel spans " << span
                           << " pixels but the padded image has " << padded
                           << " along axis " << 2 + axis;
    expected.push_back((padded - span) / getStrides()[axis] + 1);
  }
  return verifyResultShape(*this, expected);
}

LogicalResult PatchEmbedOp::verify() {
  if (failed(verifyImageFilter(*this, getInput(), getWeight(), getBias())))
    return failure();
  ArrayRef<int64_t> image = shapeOf(getInput()), filter = shapeOf(getWeight());
  if (filter[2] < 1 || filter[3] < 1 || image[2] % filter[2] ||
      image[3] % filter[3])
    return emitOpError() << "the " << image[2] << "x" << image[3]
                         << " image is not a whole number of " << filter[2]
                         << "x" << filter[3] << " patches";
  int64_t patches = (image[2] / filter[2]) * (image[3] / filter[3]);
  return verifyResultShape(*this, {image[0], patches, filter[0]});
}

LogicalResult PackPanelsOp::verify() {
  ArrayRef<int64_t> weight = shapeOf(getWeight());
  ArrayRef<int64_t> result = shapeOf(getResult());
  if (weight.size() != 2 || result.size() != 3)
    return emitOpError() << "packs an [out, in] (or with 'in_out' [in, out]) "
                         << "weight into [panels, in, width], got "
                         << formatShape(weight) << " -> "
                         << formatShape(result);
  int64_t k = weight[getInOut() ? 0 : 1], n = weight[getInOut() ? 1 : 0];
  if (result[1] != k || result[2] < 1 ||
      result[0] != llvm::divideCeil(n, result[2]))
    return emitOpError() << "result " << formatShape(result)
                         << " is not the panels of a weight with " << n
                         << " outputs and " << k << " inputs: expected [ceil("
                         << n << " / width), " << k << ", width]";
  return verifySameElementType(*this, {getWeight(), getResult()},
                               {"weight", "result"});
}

LogicalResult MatmulOp::verify() {
  ArrayRef<int64_t> lhs = shapeOf(getLhs());
  ArrayRef<int64_t> rhs = shapeOf(getRhs());
  if (lhs.size() < 2 || lhs.size() != rhs.size())
    return emitOpError() << "operands must have the same rank >= 2, got "
                         << formatShape(lhs) << " and " << formatShape(rhs);
  if (failed(verifySameElementType(*this, {getLhs(), getRhs(), getResult()},
                                   {"lhs", "rhs", "result"})))
    return failure();
  size_t rank = lhs.size();
  int64_t m = getTransposeLhs() ? lhs[rank - 1] : lhs[rank - 2];
  int64_t lhsK = getTransposeLhs() ? lhs[rank - 2] : lhs[rank - 1];
  int64_t rhsK = getTransposeRhs() ? rhs[rank - 1] : rhs[rank - 2];
  int64_t n = getTransposeRhs() ? rhs[rank - 2] : rhs[rank - 1];
  if (lhsK != rhsK)
    return emitOpError() << "contraction dimensions differ: 'lhs' "
                         << formatShape(lhs) << " gives " << lhsK << ", 'rhs' "
                         << formatShape(rhs) << " gives " << rhsK;
  std::optional<SmallVector<int64_t>> batch =
      broadcastShapes(lhs.drop_back(2), rhs.drop_back(2));
  if (!batch)
    return emitOpError() << "batch dimensions of 'lhs' " << formatShape(lhs)
                         << " and 'rhs' " << formatShape(rhs)
                         << " do not broadcast";
  SmallVector<int64_t> expected = *batch;
  expected.append({m, n});
  return verifyResultShape(*this, expected);
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

static LogicalResult verifyNormParameter(Operation *op, Value input,
                                         Value parameter, StringRef name) {
  ArrayRef<int64_t> inputShape = shapeOf(input);
  ArrayRef<int64_t> shape = shapeOf(parameter);
  if (inputShape.empty())
    return op->emitOpError("'input' must have rank >= 1");
  if (shape.size() != 1 || shape[0] != inputShape.back())
    return op->emitOpError()
           << "'" << name << "' has shape " << formatShape(shape)
           << " but 'input' has shape " << formatShape(inputShape)
           << ": expected [" << inputShape.back() << "]";
  if (elementTypeOf(parameter) != elementTypeOf(input))
    return op->emitOpError()
           << "'" << name << "' has element type " << elementTypeOf(parameter)
           << " but 'input' has " << elementTypeOf(input);
  return success();
}

LogicalResult LayerNormOp::verify() {
  if (failed(verifyNormParameter(*this, getInput(), getWeight(), "weight")))
    return failure();
  return verifyNormParameter(*this, getInput(), getBias(), "bias");
}

LogicalResult AddLayerNormOp::verify() {
  if (failed(verifyNormParameter(*this, getInput(), getWeight(), "weight")))
    return failure();
  return verifyNormParameter(*this, getInput(), getBias(), "bias");
}

LogicalResult RmsNormOp::verify() {
  return verifyNormParameter(*this, getInput(), getWeight(), "weight");
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

OpFoldResult ScaleOp::fold(FoldAdaptor) {
  if (getFactor().convertToFloat() == 1.0f)
    return getInput();
  return {};
}

LogicalResult SoftmaxOp::verify() {
  return normalizeAxis(*this, getSignedAxis(), getInput().getType().getRank());
}

//===----------------------------------------------------------------------===//
// Elementwise binary ops
//===----------------------------------------------------------------------===//

static LogicalResult verifyBroadcastingBinaryOp(Operation *op) {
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  if (failed(verifySameElementType(op, {lhs, rhs, op->getResult(0)},
                                   {"lhs", "rhs", "result"})))
    return failure();
  std::optional<SmallVector<int64_t>> shape =
      broadcastShapes(shapeOf(lhs), shapeOf(rhs));
  if (!shape)
    return op->emitOpError()
           << "shapes of 'lhs' " << formatShape(shapeOf(lhs)) << " and 'rhs' "
           << formatShape(shapeOf(rhs)) << " do not broadcast";
  return verifyResultShape(op, *shape);
}

LogicalResult AddOp::verify() { return verifyBroadcastingBinaryOp(*this); }
LogicalResult SubOp::verify() { return verifyBroadcastingBinaryOp(*this); }
LogicalResult MulOp::verify() { return verifyBroadcastingBinaryOp(*this); }
LogicalResult DivOp::verify() { return verifyBroadcastingBinaryOp(*this); }

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType result = getResult().getType();
  if (input.getElementType() != result.getElementType())
    return emitOpError() << "result element type " << result.getElementType()
                         << " differs from the input's "
                         << input.getElementType();
  if (input.getNumElements() != result.getNumElements())
    return emitOpError() << "cannot reshape " << formatShape(input.getShape())
                         << " (" << input.getNumElements() << " elements) to "
                         << formatShape(result.getShape()) << " ("
                         << result.getNumElements() << " elements)";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  // reshape(reshape(x)) reads the same row-major elements as reshape(x).
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  return {};
}

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  ArrayRef<int64_t> permutation = getPermutation();
  if (permutation.size() != input.size())
    return emitOpError() << "permutation has " << permutation.size()
                         << " entries but 'input' has rank " << input.size();
  SmallVector<bool> seen(input.size(), false);
  SmallVector<int64_t> expected;
  for (int64_t axis : permutation) {
    if (axis < 0 || axis >= static_cast<int64_t>(input.size()) || seen[axis])
      return emitOpError() << "permutation " << formatShape(permutation)
                           << " is not a permutation of the input's axes";
    seen[axis] = true;
    expected.push_back(input[axis]);
  }
  if (failed(verifySameElementType(*this, {getInput(), getResult()},
                                   {"input", "result"})))
    return failure();
  return verifyResultShape(*this, expected);
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  if (llvm::equal(getPermutation(),
                  llvm::seq<int64_t>(0, getPermutation().size())))
    return getInput();
  return {};
}

LogicalResult SliceOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  ArrayRef<int64_t> result = shapeOf(getResult());
  ArrayRef<int64_t> offsets = getOffsets(), strides = getStrides();
  if (result.size() != input.size() || offsets.size() != input.size() ||
      strides.size() != input.size())
    return emitOpError() << "'input' " << formatShape(input) << ", result "
                         << formatShape(result) << ", offsets "
                         << formatShape(offsets) << " and strides "
                         << formatShape(strides) << " must have equal rank";
  if (failed(verifySameElementType(*this, {getInput(), getResult()},
                                   {"input", "result"})))
    return failure();
  for (size_t d = 0; d < input.size(); ++d) {
    if (strides[d] < 1 || offsets[d] < 0)
      return emitOpError() << "axis " << d
                           << ": offsets must be >= 0 and strides >= 1";
    // Also for an empty result: tensor.extract_slice, which this lowers to,
    // rejects an offset past the end.
    if (offsets[d] >= input[d])
      return emitOpError() << "axis " << d << ": offset " << offsets[d]
                           << " is outside 'input' " << formatShape(input);
    int64_t last = offsets[d] + (result[d] - 1) * strides[d];
    if (result[d] > 0 && last >= input[d])
      return emitOpError() << "axis " << d << ": reads index " << last
                           << " of 'input' " << formatShape(input);
  }
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  ArrayRef<int64_t> first = shapeOf(getInputs().front());
  FailureOr<int64_t> axis = normalizeAxis(*this, getSignedAxis(), first.size());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> expected(first);
  expected[*axis] = 0;
  for (auto [index, input] : llvm::enumerate(getInputs())) {
    ArrayRef<int64_t> shape = shapeOf(input);
    if (elementTypeOf(input) != elementTypeOf(getResult()))
      return emitOpError() << "input #" << index
                           << " has a different element type than the result";
    bool compatible = shape.size() == first.size();
    for (size_t d = 0; compatible && d < shape.size(); ++d)
      compatible = d == static_cast<size_t>(*axis) || shape[d] == first[d];
    if (!compatible)
      return emitOpError() << "input #" << index << " has shape "
                           << formatShape(shape) << " but input #0 has "
                           << formatShape(first) << ": only axis " << *axis
                           << " may differ";
    expected[*axis] += shape[*axis];
  }
  return verifyResultShape(*this, expected);
}

LogicalResult GatherOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  FailureOr<int64_t> axis = normalizeAxis(*this, getSignedAxis(), input.size());
  if (failed(axis))
    return failure();
  if (failed(verifySameElementType(*this, {getInput(), getResult()},
                                   {"input", "result"})))
    return failure();
  SmallVector<int64_t> expected(input.take_front(*axis));
  llvm::append_range(expected, shapeOf(getIndices()));
  llvm::append_range(expected, input.drop_front(*axis + 1));
  return verifyResultShape(*this, expected);
}

LogicalResult EmbeddingOp::verify() {
  ArrayRef<int64_t> table = shapeOf(getTable());
  if (table.size() != 2)
    return emitOpError() << "'table' must be [vocab, dim], got "
                         << formatShape(table);
  if (failed(verifySameElementType(*this, {getTable(), getResult()},
                                   {"table", "result"})))
    return failure();
  SmallVector<int64_t> expected(shapeOf(getIds()));
  expected.push_back(table[1]);
  return verifyResultShape(*this, expected);
}

//===----------------------------------------------------------------------===//
// Attention parts
//===----------------------------------------------------------------------===//

LogicalResult CausalMaskOp::verify() {
  ArrayRef<int64_t> shape = shapeOf(getResult());
  if (shape.size() != 2)
    return emitOpError() << "result must be [queries, keys], got "
                         << formatShape(shape);
  if (shape[0] > shape[1])
    return emitOpError() << "result " << formatShape(shape)
                         << " has more queries than keys";
  return success();
}

LogicalResult PaddingMaskOp::verify() {
  ArrayRef<int64_t> lengths = shapeOf(getLengths());
  ArrayRef<int64_t> shape = shapeOf(getResult());
  if (lengths.size() != 1)
    return emitOpError() << "'lengths' must be [batch], got "
                         << formatShape(lengths);
  bool unitMiddle =
      shape.size() >= 2 && llvm::all_of(shape.drop_front().drop_back(),
                                        [](int64_t d) { return d == 1; });
  if (!unitMiddle || shape.front() != lengths[0])
    return emitOpError() << "result must be [" << lengths[0]
                         << ", 1, ..., 1, keys] for 'lengths' "
                         << formatShape(lengths) << ", got "
                         << formatShape(shape);
  return success();
}

LogicalResult AttentionOp::verify() {
  ArrayRef<int64_t> q = shapeOf(getQuery()), k = shapeOf(getKey()),
                    v = shapeOf(getValue());
  if (q.size() != 4 || k.size() != 4 || v.size() != 4)
    return emitOpError() << "'query' " << formatShape(q) << ", 'key' "
                         << formatShape(k) << " and 'value' " << formatShape(v)
                         << " must all be [batch, heads, seq, dim]";
  if (failed(verifySameElementType(
          *this, {getQuery(), getKey(), getValue(), getResult()},
          {"query", "key", "value", "result"})))
    return failure();
  if (k[0] != q[0] || k[1] != q[1] || k[3] != q[3])
    return emitOpError() << "'key' has shape " << formatShape(k)
                         << " but 'query' has shape " << formatShape(q)
                         << ": batch, heads and head dim must agree";
  if (v[0] != q[0] || v[1] != q[1] || v[2] != k[2])
    return emitOpError() << "'value' has shape " << formatShape(v)
                         << " but 'key' has shape " << formatShape(k)
                         << ": batch, heads and key count must agree";
  if ((getMask() == MaskKind::padding) != static_cast<bool>(getLengths()))
    return emitOpError("'lengths' is required by mask = padding and "
                       "allowed only there");
  if (getLengths() && shapeOf(getLengths()) != ArrayRef<int64_t>{q[0]})
    return emitOpError() << "'lengths' has shape "
                         << formatShape(shapeOf(getLengths()))
                         << " but the batch is " << q[0];
  if (getMask() == MaskKind::causal && q[2] > k[2])
    return emitOpError() << "causal mask with more queries (" << q[2]
                         << ") than keys (" << k[2] << ")";
  SmallVector<int64_t> scores = {q[0], q[1], q[2], k[2]};
  if (getBias()) {
    std::optional<SmallVector<int64_t>> shape =
        broadcastShapes(scores, shapeOf(getBias()));
    if (!shape || *shape != scores)
      return emitOpError() << "'bias' has shape "
                           << formatShape(shapeOf(getBias()))
                           << " which does not broadcast to the scores "
                           << formatShape(scores);
    if (failed(verifySameElementType(*this, {getQuery(), getBias()},
                                     {"query", "bias"})))
      return failure();
  }
  return verifyResultShape(*this, {q[0], q[1], q[2], v[3]});
}

//===----------------------------------------------------------------------===//
// Generation state
//===----------------------------------------------------------------------===//

LogicalResult KvCacheWriteOp::verify() {
  ArrayRef<int64_t> cache = shapeOf(getCache());
  ArrayRef<int64_t> update = shapeOf(getUpdate());
  FailureOr<int64_t> axis = normalizeAxis(*this, getSignedAxis(), cache.size());
  if (failed(axis))
    return failure();
  if (getPosition().getType().getNumElements() != 1)
    return emitOpError() << "'position' must hold one element, got "
                         << formatShape(shapeOf(getPosition()));
  if (failed(verifySameElementType(*this, {getCache(), getUpdate()},
                                   {"cache", "update"})))
    return failure();
  bool compatible = update.size() == cache.size();
  for (size_t d = 0; compatible && d < cache.size(); ++d)
    compatible = d == static_cast<size_t>(*axis) ? update[d] <= cache[d]
                                                 : update[d] == cache[d];
  if (!compatible)
    return emitOpError() << "'update' has shape " << formatShape(update)
                         << " but 'cache' has shape " << formatShape(cache)
                         << ": only axis " << *axis
                         << " may differ, and not exceed the cache";
  return success();
}

#define GET_OP_CLASSES
#include "dialect/TfmOps.cpp.inc"
