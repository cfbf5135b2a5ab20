//===- TfmBuilder.h - Building blocks shared by the model builders -*- C++ -*-//
//
// Thin helpers over OpBuilder that create tfm ops with the shapes the
// transformer layers need, every op located at its module path.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_MODELS_TFMBUILDER_H
#define KILN_MODELS_TFMBUILDER_H

#include "dialect/TfmOps.h"

#include "mlir/IR/Builders.h"

#include <string>

namespace kiln {

class TfmBuilder {
public:
  /// `prefix` is prepended to every weight name ("transformer.", "bert.").
  TfmBuilder(mlir::MLIRContext &ctx, std::string prefix = "")
      : b(&ctx), f32(b.getF32Type()), i64(b.getI64Type()),
        prefix(std::move(prefix)) {}

  mlir::OpBuilder b;
  mlir::Type f32, i64;
  std::string prefix;

  /// The location of what the module at `path` ("h.3.attn") computes.
  mlir::Location at(const std::string &path) {
    return mlir::NameLoc::get(b.getStringAttr(path));
  }
  mlir::RankedTensorType tensor(llvm::ArrayRef<int64_t> shape,
                                mlir::Type type = {}) {
    return mlir::RankedTensorType::get(shape, type ? type : f32);
  }
  static llvm::ArrayRef<int64_t> shapeOf(mlir::Value value) {
    return llvm::cast<mlir::RankedTensorType>(value.getType()).getShape();
  }

  /// The checkpoint tensor `prefix + name`, as f32.
  mlir::Value weight(const std::string &name, llvm::ArrayRef<int64_t> shape);
  mlir::Value i64Constant(llvm::ArrayRef<int64_t> shape,
                          llvm::ArrayRef<int64_t> values);

  /// nn.Linear at `path` (weight [out, in], optional bias); with
  /// `weightInOut` the weight is stored [in, out] (GPT-2's Conv1D).
  mlir::Value linear(const std::string &path, mlir::Value x, int64_t in,
                     int64_t out, bool bias = true, bool weightInOut = false);
  mlir::Value layerNorm(const std::string &path, mlir::Value x, double epsilon);
  /// A Hugging Face activation by its config name (gelu, gelu_new, relu,
  /// silu/swish, quick_gelu, gelu_pytorch_tanh, tanh).
  mlir::Value activation(mlir::Location loc, const std::string &name,
                         mlir::Value x);
  mlir::Value add(mlir::Location loc, mlir::Value lhs, mlir::Value rhs);
  /// `size` elements of the last axis from `offset`.
  mlir::Value sliceLast(mlir::Location loc, mlir::Value x, int64_t offset,
                        int64_t size);
  mlir::Value reshape(mlir::Location loc, mlir::Value x,
                      llvm::ArrayRef<int64_t> shape);
  /// [B, S, H*hd] -> [B, H, S, hd] and back.
  mlir::Value splitHeads(mlir::Location loc, mlir::Value x, int64_t heads);
  mlir::Value mergeHeads(mlir::Location loc, mlir::Value x);
  /// Unfused attention as the reference writes it: softmax(scale · Q·Kᵀ +
  /// mask) · V, with `mask` broadcasting onto the scores (or null).
  mlir::Value attention(mlir::Location loc, mlir::Value query, mlir::Value key,
                        mlir::Value value, mlir::Value mask, double scale);

  /// The patch embedding as vision models compute it, at `path`
  /// (`path.weight` [E, C, PH, PW], optional `path.bias`): a convolution
  /// with stride = kernel, its grid flattened and the channels moved last,
  /// [B, C, H, W] -> [B, (H / PH)·(W / PW), E] (`conv(x).flatten(2)
  /// .transpose(1, 2)`), left for tfm-fuse-patch-embed.
  mlir::Value patchEmbedding(const std::string &path, mlir::Value pixels,
                             int64_t embed, int64_t patchHeight,
                             int64_t patchWidth, bool bias);
  /// `token` ([1, 1, D] or [D]) before each sequence of x [B, N, D]:
  /// [B, N + 1, D].
  mlir::Value prependToken(mlir::Location loc, mlir::Value token,
                           mlir::Value x);
  /// Row `row` of every sequence: [B, S, D] -> [B, D].
  mlir::Value takeRow(mlir::Location loc, mlir::Value x, int64_t row);

  /// The module names of a pre-LN transformer block, relative to the block.
  struct PreLnNames {
    const char *norm1, *query, *key, *value, *attention, *output, *norm2, *fc1,
        *mlp, *fc2;
  };
  /// x + attn(norm1(x)), then h + fc2(act(fc1(norm2(h)))), at `path` (ViT's
  /// and CLIP's encoder layers). `mask` (or null) is added to the scores.
  mlir::Value preLnBlock(const std::string &path, const PreLnNames &names,
                         mlir::Value x, int64_t heads, int64_t inner,
                         const std::string &act, double epsilon, bool qkvBias,
                         mlir::Value mask);
};

} // namespace kiln

#endif // KILN_MODELS_TFMBUILDER_H
