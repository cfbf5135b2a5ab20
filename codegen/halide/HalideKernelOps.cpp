//===- HalideKernelOps.cpp - tfm ops as Halide kernel specs ---------------===//

#include "codegen/halide/HalideKernelOps.h"

#include "dialect/TfmOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;
namespace tfm = kiln::tfm;
using kiln::halide::DType;
using kiln::halide::KernelArg;
using kiln::halide::KernelSpec;

namespace kiln {

namespace {

/// A static f32 tensor a Halide buffer can hold.
bool isStaticF32(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() && tensor.getElementType().isF32() &&
         tensor.getNumElements() <= halide::kMaxBufferElements;
}

bool allStaticF32(Operation *op) {
  return llvm::all_of(op->getOperandTypes(), isStaticF32) &&
         llvm::all_of(op->getResultTypes(), isStaticF32);
}

/// `shape` with its leading dimensions merged down to `rank` (as
/// bufferForKernel collapses tensors).
std::vector<int64_t> collapsed(ArrayRef<int64_t> shape, size_t rank) {
  if (shape.size() <= rank)
    return std::vector<int64_t>(shape.begin(), shape.end());
  int64_t leading = 1;
  for (size_t d = 0; d + rank - 1 < shape.size(); ++d)
    leading *= shape[d];
  std::vector<int64_t> result = {leading};
  result.insert(result.end(), shape.end() - (rank - 1), shape.end());
  return result;
}

KernelArg arg(const char *name, Value value, size_t rank) {
  auto type = cast<RankedTensorType>(value.getType());
  return {name, type.getElementType().isInteger(64) ? DType::I64 : DType::F32,
          collapsed(type.getShape(), rank)};
}

/// Both operands' batch dimensions merge into one: each side's are all
/// equal to the result's, or all 1.
bool hasMergeableBatch(tfm::MatmulOp op) {
  ArrayRef<int64_t> out = op.getType().getShape();
  for (Value side : {op.getLhs(), op.getRhs()}) {
    ArrayRef<int64_t> shape = cast<RankedTensorType>(side.getType()).getShape();
    bool equal = true, ones = true;
    for (size_t d = 0; d + 2 < shape.size(); ++d) {
      equal &= shape[d] == out[d];
      ones &= shape[d] == 1;
    }
    if (!equal && !ones)
      return false;
  }
  return true;
}

std::optional<KernelSpec> linearSpec(tfm::LinearOp op) {
  if (!allStaticF32(op) || op.getInput().getType().getRank() < 2)
    return std::nullopt;
  KernelSpec spec;
  spec.op = "linear";
  spec.args.push_back(arg("x", op.getInput(), 2));
  spec.args.push_back(
      arg("weight", op.getWeight(), op.getWeight().getType().getRank()));
  if (op.getBias())
    spec.args.push_back(arg("bias", op.getBias(), 1));
  spec.args.push_back(arg("out", op.getResult(), 2));
  spec.attrs["weight_layout"] = op.getWeightPanels()  ? "panels"
                                : op.getWeightInOut() ? "in_out"
                                                      : "out_in";
  spec.attrs["has_bias"] = static_cast<bool>(op.getBias());
  spec.attrs["activation"] = tfm::stringifyActivation(op.getActivation()).str();
  return spec;
}

std::optional<KernelSpec> matmulSpec(tfm::MatmulOp op) {
  if (!allStaticF32(op) || op.getType().getRank() < 3 || !hasMergeableBatch(op))
    return std::nullopt;
  KernelSpec spec;
  spec.op = "matmul";
  spec.args = {arg("lhs", op.getLhs(), 3), arg("rhs", op.getRhs(), 3),
               arg("out", op.getResult(), 3)};
  spec.attrs["transpose_lhs"] = static_cast<bool>(op.getTransposeLhs());
  spec.attrs["transpose_rhs"] = static_cast<bool>(op.getTransposeRhs());
  return spec;
}

std::optional<KernelSpec> attentionSpec(tfm::AttentionOp op) {
  // Additive biases need the score tile, which the family does not take.
  if (op.getBias())
    return std::nullopt;
  for (Value v : {op.getQuery(), op.getKey(), op.getValue(), op.getResult()})
    if (!isStaticF32(v.getType()))
      return std::nullopt;
  KernelSpec spec;
  spec.op = "attention";
  spec.args = {arg("query", op.getQuery(), 4), arg("key", op.getKey(), 4),
               arg("value", op.getValue(), 4)};
  if (Value lengths = op.getLengths()) {
    auto type = cast<RankedTensorType>(lengths.getType());
    if (!type.hasStaticShape() || !type.getElementType().isInteger(64))
      return std::nullopt;
    spec.args.push_back(arg("lengths", lengths, 1));
  }
  spec.args.push_back(arg("out", op.getResult(), 4));
  spec.attrs["mask"] = tfm::stringifyMaskKind(op.getMask()).str();
  spec.attrs["scale"] = op.getScale().convertToFloat();
  return spec;
}

std::optional<KernelSpec> normSpec(Operation *op) {
  if (!allStaticF32(op) ||
      cast<RankedTensorType>(op->getResultTypes()[0]).getRank() < 2)
    return std::nullopt;
  KernelSpec spec;
  spec.args.push_back(arg("x", op->getOperand(0), 2));
  if (auto norm = dyn_cast<tfm::LayerNormOp>(op)) {
    spec.op = "layer_norm";
    spec.args.push_back(arg("weight", norm.getWeight(), 1));
    spec.args.push_back(arg("bias", norm.getBias(), 1));
    spec.attrs["has_residual"] = false;
    spec.attrs["epsilon"] = norm.getEpsilon().convertToFloat();
  } else if (auto norm = dyn_cast<tfm::AddLayerNormOp>(op)) {
    spec.op = "layer_norm";
    spec.args.push_back(arg("residual", norm.getResidual(), 2));
    spec.args.push_back(arg("weight", norm.getWeight(), 1));
    spec.args.push_back(arg("bias", norm.getBias(), 1));
    spec.attrs["has_residual"] = true;
    spec.attrs["epsilon"] = norm.getEpsilon().convertToFloat();
  } else {
    auto rms = cast<tfm::RmsNormOp>(op);
    spec.op = "rms_norm";
    spec.args.push_back(arg("weight", rms.getWeight(), 1));
    spec.attrs["epsilon"] = rms.getEpsilon().convertToFloat();
  }
  spec.args.push_back(arg("out", op->getResult(0), 2));
  return spec;
}

/// Square patches only: the family's kernel takes one patch size.
std::optional<KernelSpec> patchEmbedSpec(tfm::PatchEmbedOp op) {
  ArrayRef<int64_t> filter = op.getWeight().getType().getShape();
  if (!allStaticF32(op) || filter[2] != filter[3])
    return std::nullopt;
  KernelSpec spec;
  spec.op = "patch_embed";
  spec.args = {arg("image", op.getInput(), 4),
               arg("weight", op.getWeight(), 4)};
  if (op.getBias())
    spec.args.push_back(arg("bias", op.getBias(), 1));
  spec.args.push_back(arg("out", op.getResult(), 3));
  spec.attrs["patch"] = filter[2];
  spec.attrs["has_bias"] = static_cast<bool>(op.getBias());
  return spec;
}

std::optional<KernelSpec> softmaxSpec(tfm::SoftmaxOp op) {
  if (!allStaticF32(op) || op.getType().getRank() < 2 ||
      op.getNormalizedAxis() != op.getType().getRank() - 1)
    return std::nullopt;
  KernelSpec spec;
  spec.op = "softmax";
  spec.args = {arg("x", op.getInput(), 2), arg("out", op.getResult(), 2)};
  return spec;
}

/// The kernel program's name for an elementwise tfm op, "" for others.
std::string elementwiseStep(Operation *op) {
  if (isa<tfm::AddOp>(op))
    return "add";
  if (isa<tfm::SubOp>(op))
    return "sub";
  if (isa<tfm::MulOp>(op))
    return "mul";
  if (isa<tfm::DivOp>(op))
    return "div";
  if (auto gelu = dyn_cast<tfm::GeluOp>(op))
    return gelu.getApproximation() == tfm::GeluApproximation::tanh ? "gelu_tanh"
                                                                   : "gelu";
  if (isa<tfm::QuickGeluOp>(op))
    return "quick_gelu";
  if (isa<tfm::SiluOp>(op))
    return "silu";
  if (isa<tfm::ReluOp>(op))
    return "relu";
  if (isa<tfm::TanhOp>(op))
    return "tanh";
  if (isa<tfm::ScaleOp>(op))
    return "scale";
  return "";
}

bool isElementwise(Operation *op) {
  return op && !elementwiseStep(op).empty() && allStaticF32(op) &&
         cast<RankedTensorType>(op->getResult(0).getType()).getRank() >= 1;
}

/// Collects the chain below `op` in program order.
void collectChain(Operation *op, ElementwiseChain &chain) {
  for (Value operand : op->getOperands()) {
    Operation *producer = operand.getDefiningOp();
    if (isElementwise(producer) && producer->hasOneUse()) {
      collectChain(producer, chain);
    } else if (!llvm::is_contained(chain.leaves, operand)) {
      chain.leaves.push_back(operand);
    }
  }
  chain.ops.push_back(op);
}

std::optional<KernelSpec> elementwiseSpec(Operation *root) {
  std::optional<ElementwiseChain> chain = getElementwiseChain(root);
  if (!chain)
    return std::nullopt;
  auto outType = cast<RankedTensorType>(root->getResult(0).getType());
  size_t rank = outType.getRank();
  KernelSpec spec;
  spec.op = "elementwise";
  for (auto [index, leaf] : llvm::enumerate(chain->leaves)) {
    ArrayRef<int64_t> shape = cast<RankedTensorType>(leaf.getType()).getShape();
    std::vector<int64_t> padded(rank - shape.size(), 1);
    padded.insert(padded.end(), shape.begin(), shape.end());
    spec.args.push_back({"in" + std::to_string(index), DType::F32, padded});
  }
  spec.args.push_back({"out", DType::F32,
                       std::vector<int64_t>(outType.getShape().begin(),
                                            outType.getShape().end())});
  // Operand numbering: leaves first, then the steps' results.
  size_t inputs = chain->leaves.size();
  llvm::DenseMap<Operation *, size_t> stepOf;
  nlohmann::json program = nlohmann::json::array();
  auto ref = [&](Value value) -> size_t {
    if (Operation *producer = value.getDefiningOp())
      if (auto it = stepOf.find(producer); it != stepOf.end())
        return inputs + it->second;
    return llvm::find(chain->leaves, value) - chain->leaves.begin();
  };
  for (Operation *op : chain->ops) {
    std::string step = elementwiseStep(op);
    if (auto scale = dyn_cast<tfm::ScaleOp>(op)) {
      using nlohmann::json;
      program.push_back(
          json::array({"const", scale.getFactor().convertToFloat()}));
      size_t factor = inputs + program.size() - 1;
      program.push_back(json::array({"mul", ref(op->getOperand(0)), factor}));
    } else if (op->getNumOperands() == 2) {
      program.push_back(nlohmann::json::array(
          {step, ref(op->getOperand(0)), ref(op->getOperand(1))}));
    } else {
      program.push_back(nlohmann::json::array({step, ref(op->getOperand(0))}));
    }
    stepOf[op] = program.size() - 1;
  }
  spec.attrs["program"] = program;
  return spec;
}

} // namespace

std::optional<ElementwiseChain> getElementwiseChain(Operation *op) {
  if (!isElementwise(op))
    return std::nullopt;
  // Not a root when its only user continues the chain.
  if (op->hasOneUse() && isElementwise(*op->getUsers().begin()))
    return std::nullopt;
  ElementwiseChain chain;
  collectChain(op, chain);
  return chain;
}

std::optional<KernelSpec>
getHalideKernelSpec(Operation *op, const halide::KernelTarget &target) {
  std::optional<KernelSpec> spec;
  if (auto linear = dyn_cast<tfm::LinearOp>(op))
    spec = linearSpec(linear);
  else if (auto matmul = dyn_cast<tfm::MatmulOp>(op))
    spec = matmulSpec(matmul);
  else if (auto attention = dyn_cast<tfm::AttentionOp>(op))
    spec = attentionSpec(attention);
  else if (isa<tfm::LayerNormOp, tfm::AddLayerNormOp, tfm::RmsNormOp>(op))
    spec = normSpec(op);
  else if (auto softmax = dyn_cast<tfm::SoftmaxOp>(op))
    spec = softmaxSpec(softmax);
  else if (auto patchEmbed = dyn_cast<tfm::PatchEmbedOp>(op))
    spec = patchEmbedSpec(patchEmbed);
  else
    spec = elementwiseSpec(op);
  // A form the family's checks refuse (a panel layout of another width,
  // say) stays on the LLVM path.
  if (!spec || halide::checkKernelSpec(*spec))
    return std::nullopt;
  spec->target = target;
  return spec;
}

bool prefersHalide(const KernelSpec &spec) {
  // Normalizations beat the hand-written kernels; softmax and elementwise
  // chains beat the generated loops by an order of magnitude; the patch
  // embedding reads the image in place where the LLVM path first rearranges
  // it into rows.
  if (spec.op == "layer_norm" || spec.op == "rms_norm" ||
      spec.op == "softmax" || spec.op == "elementwise" ||
      spec.op == "patch_embed")
    return true;
  // Linear layers of a few rows (decoding, the LM head on the last
  // position) stream their weights faster and split them over threads;
  // larger products tie with the hand-written GEMM at the models' shapes,
  // and attention is a few percent slower in Halide.
  constexpr int64_t kMaxStreamingRows = 8;
  return spec.op == "linear" && spec.args[0].shape[0] <= kMaxStreamingRows;
}

} // namespace kiln
