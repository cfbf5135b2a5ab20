//===- KernelSpec.h - What the Halide generator is asked to build -*- C++
//-*-===//
//
// A kernel spec is the whole contract between the compiler (which finds a
// kernel-able op and calls the generated function) and `kiln-halide` (which
// builds a Halide pipeline for it in its own process, since libHalide links
// an LLVM of its own). It is plain data, read and written as JSON, with no
// MLIR or Halide types, so both sides link it.
//
// Every kernel is specialized to one call site: the arguments' shapes and
// dtypes are static. The generated function is
//
//   int <name>(halide_buffer_t *arg0, ..., halide_buffer_t *argN);
//
// with one buffer per spec argument, in the spec's order (inputs first, then
// the one output). Shapes are written outermost first, as MLIR and numpy
// write them; the Halide buffer has them reversed (Halide's dimension 0 is
// the innermost). Every buffer's innermost stride is 1; the other strides
// are whatever the caller's view has.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_HALIDE_KERNELSPEC_H
#define KILN_CODEGEN_HALIDE_KERNELSPEC_H

#include "runtime/support/Error.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kiln::halide {

/// Kernel families and their arguments (row-major shapes; `?` = optional,
/// present when the named attribute says so). Attributes not listed are
/// errors.
///
/// linear       out = act(x · B + bias)
///   args: x [M, K], weight, bias [N]?, out [M, N]
///   weight: "panels" [P, K, W] (B[k, p·W + j] = weight[p, k, j], zero
///           padded past N), "in_out" [K, N], "out_in" [N, K]
///   attrs: weight_layout, has_bias (bool), activation (kActivations)
/// matmul       out[b] = A[b] · B[b]
///   args: lhs [Bl, M, K] ([Bl, K, M] with transpose_lhs), rhs [Br, K, N]
///         ([Br, N, K] with transpose_rhs), out [B, M, N]; Bl and Br are B
///         or 1 (broadcast)
///   attrs: transpose_lhs, transpose_rhs (bool)
/// attention    out = softmax(scale · Q·Kᵀ + mask) · V, per (b, h)
///   args: query [B, H, Sq, D], key [B, H, Sk, D], value [B, H, Sk, Dv],
///         lengths [B] (i64, mask "padding")?, out [B, H, Sq, Dv]
///   attrs: mask ("none", "causal": query i is key Sk - Sq + i and sees
///          keys up to it, "padding": keys >= lengths[b] are hidden;
///          lengths above Sk act as Sk), scale (number)
///   Hidden keys get exactly zero weight. With lengths[b] <= 0 no key is
///   visible; as in the reference (which adds the lowest float to every
///   score) the rows are then the mean of V over all Sk keys.
/// layer_norm   out = (y - mean) / sqrt(var + eps) · weight + bias,
///              y = x (+ residual), over the last axis
///   args: x [M, D], residual [M, D]?, weight [D], bias [D], out [M, D]
///   attrs: has_residual (bool), epsilon (number)
/// rms_norm     out = x / sqrt(mean(x²) + eps) · weight
///   args: x [M, D], weight [D], out [M, D]
///   attrs: epsilon (number)
/// softmax      over the last axis
///   args: x [M, N], out [M, N]
/// patch_embed  a Conv2d with kernel = stride = patch and no padding, as
///              one GEMM over patches (no im2col copy)
///   args: image [B, C, H, W], weight [E, C, P, P], bias [E]?,
///         out [B, (H/P)·(W/P), E] (patches row-major)
///   attrs: patch (P), has_bias (bool)
/// elementwise  a chain of elementwise ops on broadcast inputs
///   args: inputs (each of the output's rank, dimensions equal to the
///         output's or 1), out
///   attrs: program: a list of steps, each [op, operand...]; an operand is
///          an integer: i < #inputs names input i, #inputs + j the result
///          of step j; the last step is the output. ops: add, sub, mul,
///          div, max, min (2 operands); neg, exp, tanh, erf, sqrt, rsqrt,
///          gelu, gelu_tanh, quick_gelu, silu, relu (1 operand);
///          ["const", number] (0 operands).
inline constexpr const char *kOps[] = {"linear",      "matmul",     "attention",
                                       "layer_norm",  "rms_norm",   "softmax",
                                       "patch_embed", "elementwise"};

/// The activations a linear kernel applies (tfm's names).
inline constexpr const char *kActivations[] = {
    "none", "gelu", "gelu_tanh", "quick_gelu", "silu", "relu", "tanh"};

enum class DType { F32, I64 };

/// Halide addresses buffers with 32-bit offsets (without its large_buffers
/// feature, which costs 64-bit index arithmetic everywhere).
inline constexpr int64_t kMaxBufferElements = (int64_t(1) << 31) - 1;

struct KernelArg {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
};

/// What the kernel runs on: a CPU with these x86 features (avx2, fma,
/// avx512, avx512_bf16, avx512_vnni), for now the only kind.
struct KernelTarget {
  std::string arch = "x86-64";
  std::vector<std::string> features;
};

struct KernelSpec {
  std::string op;
  std::vector<KernelArg> args; ///< inputs, then the output
  nlohmann::json attrs = nlohmann::json::object();
  KernelTarget target;
  /// The schedule family: "cpu" is the hand-written CPU schedule.
  std::string schedule = "cpu";

  const KernelArg &output() const { return args.back(); }
  /// `attrs[key]` if present, else `fallback`.
  template <typename T> T attr(const char *key, T fallback) const {
    auto it = attrs.find(key);
    return it == attrs.end() ? fallback : it->get<T>();
  }

  /// Canonical JSON: equal specs give equal text (the cache key's base).
  std::string toJson() const;
  /// Parses and checks the spec (known op and dtypes, positive dimensions,
  /// the argument count and shapes the op needs); errors name the field.
  static Expected<KernelSpec> fromJson(const std::string &text);
  /// The generated function's symbol: `kiln_hl_<op>_<16 hex digits of the
  /// spec's hash>`, the same for equal specs.
  std::string functionName() const;
};

const char *dtypeName(DType dtype);

/// 16 hex digits of the 64-bit FNV-1a hash of `bytes`: stable across runs,
/// machines and compilers (function names and the generator's build id).
std::string hashHex(const std::string &bytes);

/// Checks that the args and attrs fit `spec.op` (the table above).
Error checkKernelSpec(const KernelSpec &spec);

} // namespace kiln::halide

#endif // KILN_CODEGEN_HALIDE_KERNELSPEC_H
