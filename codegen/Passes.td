//===- Passes.td - Conversions out of the tfm dialect ------*- tablegen -*-===//

#ifndef KILN_CODEGEN_PASSES_TD
#define KILN_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTfmToLinalg : Pass<"convert-tfm-to-linalg"> {
  let summary = "Lower tfm ops to linalg, tensor, arith and math";
  let description = [{
    One pattern per tfm op. Contractions become named linalg ops
    (`linalg.matmul`, `linalg.batch_matmul` with indexing maps for the
    transposes) so later tiling and vectorization apply; normalizations,
    softmax and pointwise ops become `linalg.generic` with explicit
    reductions; shape ops become `tensor` ops. `tfm.attention` and
    `tfm.weight` must have been removed first (`tfm-decompose-attention`,
    `tfm-outline-weights`); the pass fails on any tfm op it cannot convert
    and says which.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def KilnSerializeNestedParallelLoops
    : Pass<"kiln-serialize-nested-parallel-loops"> {
  let summary = "Keep only the outermost scf.parallel of each loop nest";
  let description = [{
    Rewrites every `scf.parallel` nested inside another `scf.parallel` into
    `scf.for` loops, so that only outer loops become thread-pool tasks when
    `convert-scf-to-openmp` runs; inner parallelism is left to
    vectorization.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def KilnMemrefCopyToLinalg : Pass<"kiln-memref-copy-to-linalg"> {
  let summary = "Rewrite memref.copy as linalg.copy";
  let description = [{
    Bufferization copies slices with `memref.copy`; between non-contiguous
    views the LLVM lowering turns that into a call to an external
    `memrefCopy` routine. As `linalg.copy` the copy becomes ordinary
    (parallel, vectorizable) loops instead. Copies of other element types
    than the memref's are left alone.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def KilnDropStateResults : Pass<"kiln-drop-state-results",
                                 "::mlir::ModuleOp"> {
  let summary = "Remove the results that return a state buffer updated in place";
  let description = [{
    After bufferization, a result marked `tfm.state` must be the argument
    buffer of the same state, returned unchanged: the entry updated the
    runtime's buffer in place. Such results are removed from the function
    and its returns, so the runtime passes each state once, as an argument.
    A state result that is any other buffer means bufferization had to copy
    the state; the pass reports it as an error naming the state.
  }];
}

def KilnMatmulToUkernel : Pass<"kiln-matmul-to-ukernel", "::mlir::ModuleOp"> {
  let summary = "Call the runtime's GEMM micro-kernels for f32 matmuls";
  let description = [{
    Rewrites `linalg.matmul` and `linalg.batch_matmul` on f32 memrefs into
    calls of `kiln_matmul_f32` / `kiln_batch_matmul_f32`, and the
    contraction with a weight in panels that a `weight_panels` linear lowers
    to (B indexed `(n floordiv W, k, n mod W)`) into `kiln_matmul_panels_f32`
    (runtime/kernels/Gemm.h): packed, register-blocked AVX2/FMA kernels that
    accumulate into the output, with the operand transposes (read from the
    indexing maps) passed as flags, as IREE calls its ukernels. Operands
    become fully dynamic strided memrefs, so views (slices, reshapes) pass
    without copies. Contractions with other element types or indexing maps
    are left to the generic loop lowering.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def KilnAttentionToUkernel : Pass<"kiln-attention-to-ukernel",
                                  "::mlir::ModuleOp"> {
  let summary = "Call the runtime's flash attention kernel for tfm.attention";
  let description = [{
    Rewrites f32 `tfm.attention` without a bias into a call of
    `kiln_attention_f32` (mask none or causal) or
    `kiln_attention_lengths_f32` (padding lengths), the runtime's
    flash-style kernel (runtime/kernels/Attention.h): key tiles with an
    online softmax, no score matrix, masked tiles skipped. Operands are
    read-only buffers of the input tensors; the output is a fresh buffer
    returned as a `restrict` tensor, so the rest of the function still
    bufferizes as usual. Attention with a bias or i32 lengths is left for
    `tfm-decompose-attention`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def KilnApproximateMath : Pass<"kiln-approximate-math"> {
  let summary = "Replace f32 erf, exp and tanh by inline polynomials";
  let description = [{
    Applies MLIR's polynomial approximations to `math.erf`, `math.exp` and
    `math.tanh` on f32 (scalars or vectors): arithmetic the loop vectorizer
    widens, where libm calls or `llvm.exp` stay one scalar call per
    element. The approximations are accurate to a few ulp of f32.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def KilnLinearToUkernel : Pass<"kiln-linear-to-ukernel", "::mlir::ModuleOp"> {
  let summary = "Call the runtime's fused linear kernel for layers on panels";
  let description = [{
    Rewrites f32 `tfm.linear` with `weight_panels` into one call of
    `kiln_linear_panels_f32` (runtime/kernels/Gemm.h): the product with the
    panels, the bias as the starting value of each output tile and the
    activation applied to the tile in cache. Inputs of higher rank are
    collapsed to [rows, in] views; the output is a fresh buffer expanded back
    to the result shape. Other linear layers are left to the linalg path.
    `tfm.pack_panels` on f32 becomes a call of `kiln_pack_panels_f32`, one
    pass over the weight instead of transpose, pad and transpose loops.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KilnNormToUkernel : Pass<"kiln-norm-to-ukernel", "::mlir::ModuleOp"> {
  let summary = "Call the runtime's row-wise normalization kernels";
  let description = [{
    Rewrites f32 `tfm.layer_norm`, `tfm.add_layer_norm` and `tfm.rms_norm`
    of rank >= 2 into calls of `kiln_layer_norm_f32` (with a flag for the
    residual) and `kiln_rms_norm_f32` (runtime/kernels/Norm.h), which
    normalize each row in one pass through cache with vector reductions.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KilnAssignBackends : Pass<"kiln-assign-backends", "::mlir::ModuleOp"> {
  let summary = "Choose the code generator of each kernel-able op";
  let description = [{
    Marks each op a Halide kernel can compute (`tfm.linear`, `tfm.matmul`,
    `tfm.attention` without a bias, `tfm.layer_norm`, `tfm.add_layer_norm`,
    `tfm.rms_norm`, `tfm.softmax`, and the root of each chain of elementwise
    ops; f32, static shapes; codegen/halide/HalideKernelOps.h) that should
    become one with `kiln.backend = "halide"`; unmarked ops stay on the LLVM
    path (hand-written kernels or linalg loops).

    - `backend=llvm`: nothing is marked.
    - `backend=halide`: every such op is marked.
    - `backend=auto`: per kernel, the choice `tuning-file` records for
      its spec (`kiln compile --tune` times both candidates at their real
      shapes); otherwise a rule per kernel kind, from the measurements of both
      backends on this machine (docs/performance.md, "Halide backend"):
      the kinds whose Halide kernel was faster than what the LLVM path
      runs (a hand-written kernel or generated loops) are marked
      (`prefersHalide`: norms, softmax, elementwise chains, and linear
      layers of at most 8 rows, which stream their weights).

    The file is keyed by the kernels' function names, which cover the
    target (`target-features`, as kiln-convert-to-halide-calls takes it).
  }];
  let options = [
    Option<"backend", "backend", "std::string", "\"llvm\"",
           "llvm, halide or auto">,
    Option<"tuningFile", "tuning-file", "std::string", "\"\"",
           "JSON object from kernel name to halide or llvm (kiln --tune)">,
    Option<"targetFeatures", "target-features", "std::string", "\"\"",
           "x86 features of the kernels' target, joined by '+'">,
  ];
}

def KilnConvertToHalideCalls : Pass<"kiln-convert-to-halide-calls",
                                    "::mlir::ModuleOp"> {
  let summary = "Replace ops marked for Halide by calls of generated kernels";
  let description = [{
    Each op marked `kiln.backend = "halide"` becomes a call of a kernel that
    `kiln-halide` generates for exactly that op's shapes: the op's kernel
    spec (codegen/halide/KernelSpec.h) is attached to the kernel's external
    declaration as `kiln.halide_spec`, where the driver collects it. Equal
    specs share one kernel. A marked elementwise op computes its whole
    chain (the elementwise ops whose only use leads to it) in one pass over
    memory; the chain's other ops are erased. The kernel takes Halide
    buffers; a private wrapper per kernel, taking strided memrefs as the
    runtime's ukernels do, builds them on its stack from the memrefs'
    descriptors (innermost dimension first) and calls it. On tensors, the call is bracketed by
    bufferization ops, as the ukernel passes do, so views (the attention
    head split and merge) reach the kernel without copies.
  }];
  let options = [
    Option<"targetFeatures", "target-features", "std::string", "\"\"",
           "x86 features of the kernels' target, joined by '+' "
           "(avx2, fma, avx512, avx512_bf16, avx512_vnni)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KilnPlanMemory : Pass<"kiln-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Place a function's temporaries in one arena by lifetime";
  let description = [{
    After bufferization and deallocation: every `memref.alloc` of the entry
    block with a static shape, an identity layout and one `memref.dealloc`
    in that block becomes a `memref.view` at a compile-time offset of one
    arena allocated at the function's start and freed before its return.
    Buffers alive at the same time (from the alloc to the last use of the
    buffer or any view of it, in program order) get disjoint ranges; the others reuse memory (first fit, largest first, 64-
    byte aligned). The arena size, the function's peak temporary memory, is
    recorded as the `kiln.arena_bytes` attribute. Public functions (entries)
    take the arena as a new trailing `memref<Nxi8>` argument marked
    `kiln.arena`, so the caller can keep one buffer across calls; private
    functions allocate it on entry and free it before returning.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def KilnOrderGlobals : Pass<"kiln-order-globals", "::mlir::ModuleOp"> {
  let summary = "Put the module's constant memref.globals in a content order";
  let description = [{
    One-shot bufferization turns tensor constants into `memref.global`s in
    the order it meets them, which depends on a pointer-keyed map: the same
    input could give differently ordered, differently named globals and so
    different object files. This pass sorts the private constant globals by
    type and value, names them `__constant_<k>` in that order and moves them
    to the start of the module, so the output depends on the input alone.
    Other globals are left alone.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def KilnReleaseConsumedWeights : Pass<"kiln-release-consumed-weights",
                                      "::mlir::ModuleOp"> {
  let summary = "Let the runtime drop checkpoint weights once they are packed";
  let description = [{
    After bufferization: for every argument marked `kiln.consumed_weight`
    (a checkpoint tensor that only `prepare_weights` reads;
    `kiln-prepare-entries` marks them), inserts after its last use, or the last use of any view of it, a
    call `kiln_release_weight(aligned pointer, bytes)` and removes the mark.
    The runtime then drops the tensor's pages while the remaining weights
    are packed, so loading never holds a weight and its packed copy for the
    whole model at once. Functions without marked arguments are unchanged.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def KilnPrepareEntries : Pass<"kiln-prepare-entries", "::mlir::ModuleOp"> {
  let summary = "Turn the entries' tfm attributes into bufferization's";
  let description = [{
    Runs first in the "bufferized" stage, once the signature has been read
    from the `tfm.name`, `tfm.weight` and `tfm.state` attributes (the
    driver builds it just before). On every entry, the function named by
    `entry` or else every public function with a body, and
    `prepare_weights`:
      - marks weight arguments `bufferization.writable = false`: weights
        may be mapped read-only, so nothing may be written into one;
      - removes the `tfm.name`, `tfm.weight` and `tfm.state` argument
        attributes and the `tfm.name` result attributes, which the LLVM
        export would warn about (result states stay marked for
        `kiln-drop-state-results`);
      - sets `llvm.emit_c_interface`, the interface the runtime calls.
    Before that, the weight arguments of `prepare_weights` that no other
    function reads get `kiln.consumed_weight`, for
    `kiln-release-consumed-weights`.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"",
           "The entry function (default: every public function with a body)">,
  ];
}

#endif // KILN_CODEGEN_PASSES_TD
