//===- Kernels.h - Halide algorithms and schedules per kernel family -*- C++
//-*-===//
//
// One algorithm per kernel family (KernelSpec.h lists them), each in its own
// file under kernels/, with a hand-written CPU schedule for AVX2 and
// AVX-512. A builder returns the pipeline with its inputs in the spec's
// order; every input and the output have the spec's static shapes as
// constraints, so Halide specializes the code to the call site.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_HALIDE_GENERATOR_KERNELS_H
#define KILN_CODEGEN_HALIDE_GENERATOR_KERNELS_H

#include "codegen/halide/KernelSpec.h"

#include "Halide.h"

namespace kiln::halide {

struct BuiltKernel {
  /// The spec's inputs in order (buffers with static bounds).
  std::vector<Halide::ImageParam> inputs;
  /// The output; its output buffer has the static bounds.
  Halide::Func output;
  /// A one-line summary of the schedule, written next to the kernel.
  std::string scheduleSummary;

  Halide::Pipeline pipeline() const { return Halide::Pipeline(output); }
  /// The arguments of the generated function, in the spec's order (the
  /// output last).
  std::vector<Halide::Argument> arguments() const;
};

/// Builds the kernel of `spec` (already checked by checkKernelSpec) for
/// `target`.
Expected<BuiltKernel> buildKernel(const KernelSpec &spec,
                                  const Halide::Target &target);

// The families (kernels/<Family>.cpp).
BuiltKernel buildLinear(const KernelSpec &spec, const Halide::Target &target);
BuiltKernel buildMatmul(const KernelSpec &spec, const Halide::Target &target);
BuiltKernel buildAttention(const KernelSpec &spec,
                           const Halide::Target &target);
BuiltKernel buildLayerNorm(const KernelSpec &spec,
                           const Halide::Target &target);
BuiltKernel buildRmsNorm(const KernelSpec &spec, const Halide::Target &target);
BuiltKernel buildSoftmax(const KernelSpec &spec, const Halide::Target &target);
BuiltKernel buildPatchEmbed(const KernelSpec &spec,
                            const Halide::Target &target);
BuiltKernel buildElementwise(const KernelSpec &spec,
                             const Halide::Target &target);

// Shared helpers (Kernels.cpp).

/// An input of `arg`'s dtype and rank, named after it, with the static
/// bounds of its shape (reversed: Halide's dimension 0 is innermost).
Halide::ImageParam makeInput(const KernelArg &arg);
/// Puts `arg`'s static bounds on `output`'s buffer.
void constrainOutput(Halide::Func output, const KernelArg &arg);
/// The natural vector width of f32 on `target` (16 with AVX-512, else 8).
int vectorWidthF32(const Halide::Target &target);

// Accurate f32 math (Kernels.cpp). Halide's own exp is accurate to the last
// bit and vectorizes; it has no accurate erf or tanh (its tanh cancels near
// 0), so those are polynomials here, with the coefficients of the runtime's
// vector math (runtime/kernels/VectorMath.h): both paths round alike.

/// exp(x), 0 below the smallest normal result.
Halide::Expr accurateExp(const Halide::Expr &x);
/// erf(x) to about 1.5 ulp.
Halide::Expr accurateErf(const Halide::Expr &x);
/// tanh(x) to about 1.5 ulp.
Halide::Expr accurateTanh(const Halide::Expr &x);
/// An activation of kActivations (or an elementwise unary op of the same
/// name: gelu, gelu_tanh, quick_gelu, silu, relu, tanh) applied to `x`.
Halide::Expr applyActivation(const std::string &name, const Halide::Expr &x);

// The register-blocked product shared by linear, matmul and patch_embed.
//
// The product is computed as acc(j, p, m, batch...) over column panels:
// column n = p * panelWidth + j. A register tile is `rows` x panelWidth
// (panelWidth / vector vectors per row), or for few rows (decode) several
// panels wide, enough accumulators to hide the FMA latency; the K loop runs
// innermost over the tile with the accumulators in registers.
struct GemmTiling {
  int vector = 8;      ///< f32 lanes of one vector
  int panelWidth = 16; ///< columns of a register tile (a panel)
  int rows = 6;        ///< rows of a register tile
};

/// The tiling for `target` with panels `panelWidth` wide (0: the natural
/// width, two vectors) and `m` rows.
GemmTiling chooseGemmTiling(const Halide::Target &target, int panelWidth,
                            int64_t m);

/// Schedules `out(n, m, outer...)` = f(acc(n % W, n / W, m, outer...)):
/// `acc` (pure init, one update over the reduction) is computed per register
/// tile of `out`. `n` columns, `m` rows; `outerExtent` is the product of the
/// outer dimensions' extents (batch), all parallel with the row tiles. Few
/// row tiles (decode) run groups of panels in parallel instead, from N K of
/// about 1M.
/// Returns the one-line summary.
std::string scheduleGemm(Halide::Func out, Halide::Func acc,
                         const GemmTiling &tiling, int64_t n, int64_t m,
                         int64_t k, int64_t outerExtent);

/// The depth of the K blocks of an m x k by k x n product, or 0 to leave K
/// whole: K is blocked when a register tile's A rows (rows x k) outgrow L1
/// and there are several row tiles to share B; the depth is the largest
/// divisor of k in [256, 512] (no blocking without one).
int64_t chooseKBlock(const GemmTiling &tiling, int64_t m, int64_t k);

/// Schedules the K-blocked product of linear: `block(j, p, m, kb)` (pure
/// init, one update over the block's k) is one block's rows x W register
/// tile, computed per tile of the update of `acc(j, p, m)` (pure zero init,
/// one update summing the blocks in order), which is computed at root over
/// whole panels and whole row tiles (`block` must clamp the rows it reads),
/// the blocks outermost; `out(n, m)` = f(acc(n % W, n / W, m)) is a
/// vectorized pass over acc. The order depends only on the shape. Returns the
/// one-line summary.
std::string scheduleBlockedGemm(Halide::Func out, Halide::Func acc,
                                Halide::Func block, const GemmTiling &tiling,
                                int64_t n, int64_t m, int64_t k, int64_t kc);

/// A reduction over the rows of f(d, m): partial(l, m) folds columns
/// l, l + L, ... of the whole L-lane chunks (vectorizable over l), total(m)
/// folds the lanes in order and then the columns of the partial last chunk.
/// The order depends only on the shape.
struct RowReduction {
  Halide::Func partial; ///< undefined without whole chunks
  Halide::Func total;
};
enum class ReduceOp { Sum, Max };
RowReduction reduceRows(Halide::Func f, int64_t columns, int lanes, ReduceOp op,
                        Halide::Type type, const std::string &name);
/// Schedules `reduction` per row of `out` (at `rowVar`), partial vectorized.
void scheduleRowReduction(RowReduction reduction, Halide::Func out,
                          const Halide::Var &rowVar, int lanes);
/// The lanes of a row reduction over `columns`: `chains` vectors when the
/// row has that many (independent accumulators, so that a row's adds
/// overlap instead of waiting on one another), else one vector.
int reductionLanes(int64_t columns, int vector, int chains = 4);
/// Folds `reduction`'s lanes into its total as a shuffle tree (an order fixed
/// by the lane count) rather than a serial chain; schedule it first.
void foldLanesAsTree(RowReduction reduction);
/// Schedules a row-wise `out(d, m)`: d vectorized (masked tail), rows split
/// into parallel tasks of at least ~32K elements when there are enough.
/// Returns the loop over rows (for compute_at) and fills `summary`.
Halide::Var scheduleRows(Halide::Func out, int64_t rows, int64_t columns,
                         int vector, std::string &summary);

} // namespace kiln::halide

#endif // KILN_CODEGEN_HALIDE_GENERATOR_KERNELS_H
