//===- Contract.h - What the compiler and the runtime agree on --*- C++ -*-===//
//
// One header for every fact that generated code and the runtime must share,
// included by both sides (plain C++17, no LLVM): changing a value here changes
// it for both, instead of two literals drifting apart. Where one side cannot
// spell a fact with these constants (a C identifier, a TableGen enum), a
// static_assert or a test (test/runtime/ContractTest.cpp) ties it to them.
//
// Sections: the model object (symbols, embedded files), the model signature,
// the kernels generated code calls, weight release, buffers, and the payload
// appended to executables.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CONTRACT_H
#define KILN_RUNTIME_CONTRACT_H

#include <cstddef>
#include <cstdint>

namespace kiln::contract {

//===----------------------------------------------------------------------===//
// The model object
//===----------------------------------------------------------------------===//
//
// What a compiled model object defines for the runtime to link against
// (codegen/llvm/EmitObject.cpp writes them, runtime/apps/Main.cpp declares
// them; runtime/session/Session.h describes the ABI):
//
//   extern "C" const char kiln_model_signature[];  // JSON, see below
//   extern "C" void (*const kiln_model_entries[])(void **args);
//   extern "C" const uint64_t kiln_model_entry_count;
// and optionally:
//   extern "C" const EmbeddedFile kiln_embedded_files[];
//   extern "C" const uint64_t kiln_embedded_file_count;
//   extern "C" const char kiln_default_weights_path[];  // newline-separated
//   extern "C" const uint64_t kiln_payload_file_count;  // see Payload below

inline constexpr const char *kModelSignatureSymbol = "kiln_model_signature";
inline constexpr const char *kModelEntriesSymbol = "kiln_model_entries";
inline constexpr const char *kModelEntryCountSymbol = "kiln_model_entry_count";
inline constexpr const char *kEmbeddedFilesSymbol = "kiln_embedded_files";
inline constexpr const char *kEmbeddedFileCountSymbol =
    "kiln_embedded_file_count";
inline constexpr const char *kDefaultWeightsPathSymbol =
    "kiln_default_weights_path";
inline constexpr const char *kPayloadFileCountSymbol =
    "kiln_payload_file_count";

/// One file embedded in a model object: an element of kiln_embedded_files.
/// The compiler lays it out as the LLVM struct {ptr, ptr, i64}.
struct EmbeddedFile {
  const char *name;
  const unsigned char *data;
  uint64_t size;
};
static_assert(offsetof(EmbeddedFile, name) == 0 &&
                  offsetof(EmbeddedFile, data) == sizeof(void *) &&
                  offsetof(EmbeddedFile, size) == 2 * sizeof(void *) &&
                  sizeof(EmbeddedFile) == 2 * sizeof(void *) + 8,
              "EmbeddedFile is {ptr, ptr, i64} without padding");

/// Embedded files whose name ends in this are checkpoint shards: the
/// runtime binds weights from them, and the compiler aligns their tensors
/// when it appends them to an executable.
inline constexpr const char *kSafetensorsSuffix = ".safetensors";

/// Entry i of kiln_model_entries calls the C interface of entry function i,
/// which MLIR names with this prefix (`llvm.emit_c_interface`); the runtime's
/// kernels (below) are implemented under the same prefix.
inline constexpr const char *kCInterfacePrefix = "_mlir_ciface_";

//===----------------------------------------------------------------------===//
// The model signature
//===----------------------------------------------------------------------===//
//
// kiln_model_signature is JSON (runtime/session/Signature.h has an example):
//   {"entries": [{"name": ..., "args": [{"name": ..., "role": ...,
//                 "dtype": ..., "shape": [...]}, ...],
//                 "temporary_bytes": N}, ...],
//    "metadata": {...}, "version": 2}
// Entry i is function i of kiln_model_entries; its args are in call order.
// "temporary_bytes" and "version" are optional.

inline constexpr const char *kSignatureEntriesKey = "entries";
inline constexpr const char *kSignatureMetadataKey = "metadata";
inline constexpr const char *kSignatureVersionKey = "version";
/// The only version this runtime reads.
inline constexpr int64_t kSignatureVersion = 2;

inline constexpr const char *kEntryNameKey = "name";
inline constexpr const char *kEntryArgsKey = "args";
/// Peak bytes of the entry's planned temporaries (its scratch argument).
inline constexpr const char *kEntryTemporaryBytesKey = "temporary_bytes";

inline constexpr const char *kArgNameKey = "name";
inline constexpr const char *kArgRoleKey = "role";
inline constexpr const char *kArgDTypeKey = "dtype";
inline constexpr const char *kArgShapeKey = "shape";

/// What an argument is to the runtime (see runtime/session/Signature.h).
enum class ArgRole : int {
  Input = 0,
  Weight = 1,
  State = 2,
  Output = 3,
  Scratch = 4,
};
/// The role as the signature spells it.
constexpr const char *argRoleName(ArgRole role) {
  switch (role) {
  case ArgRole::Input:
    return "input";
  case ArgRole::Weight:
    return "weight";
  case ArgRole::State:
    return "state";
  case ArgRole::Output:
    return "output";
  case ArgRole::Scratch:
    return "scratch";
  }
  return "?";
}

/// Element types as the signature spells them.
inline constexpr const char *kDTypeF32 = "f32";
inline constexpr const char *kDTypeF64 = "f64";
inline constexpr const char *kDTypeF16 = "f16";
inline constexpr const char *kDTypeBF16 = "bf16";
inline constexpr const char *kDTypeI32 = "i32";
inline constexpr const char *kDTypeI64 = "i64";
inline constexpr const char *kDTypeI8 = "i8";
inline constexpr const char *kDTypeU8 = "u8";
inline constexpr const char *kDTypeI1 = "i1";

/// The load-time entry that computes derived weights (GEMM panels,
/// concatenated projections) from the checkpoint's, made by
/// tfm-hoist-weight-expressions. The runtime calls it once at load and binds
/// each of its outputs as the weight of the same name in the other entries.
inline constexpr const char *kPrepareWeightsEntry = "prepare_weights";

/// The name of an entry's scratch argument (role scratch, u8, the arena of
/// its temporaries), and the argument attribute kiln-plan-memory marks it
/// with in the IR.
inline constexpr const char *kArenaArgName = "kiln.arena";

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//
//
// The runtime's kernels (runtime/kernels/) that generated code calls,
// declared by codegen/linalg/*ToUkernel.cpp. The runtime implements each as
// kCInterfacePrefix + name, taking memref descriptors by pointer; the
// argument lists are documented with the runtime's declarations.

/// Gemm.h: C += A' * B', on matrices and on a batch of them.
inline constexpr const char *kMatmulKernel = "kiln_matmul_f32";
inline constexpr const char *kBatchMatmulKernel = "kiln_batch_matmul_f32";
/// Gemm.h: C += A' * B' with B' packed in column panels.
inline constexpr const char *kMatmulPanelsKernel = "kiln_matmul_panels_f32";
/// Gemm.h: lays a weight out in panels (once, in prepare_weights).
inline constexpr const char *kPackPanelsKernel = "kiln_pack_panels_f32";
/// Gemm.h: out = act(A' * B' + bias), B' in panels.
inline constexpr const char *kLinearPanelsKernel = "kiln_linear_panels_f32";
/// Norm.h: LayerNorm (with an optional residual add) and RMSNorm of rows.
inline constexpr const char *kLayerNormKernel = "kiln_layer_norm_f32";
inline constexpr const char *kRmsNormKernel = "kiln_rms_norm_f32";
/// Attention.h: fused attention, with no or a causal mask, or with the
/// padding mask of per-item lengths; the *_bias_* forms also add a bias
/// (a [B, H, Sq, Sk] view, broadcast axes of size 1 or stride 0).
inline constexpr const char *kAttentionKernel = "kiln_attention_f32";
inline constexpr const char *kAttentionLengthsKernel =
    "kiln_attention_lengths_f32";
inline constexpr const char *kAttentionBiasKernel = "kiln_attention_bias_f32";
inline constexpr const char *kAttentionBiasLengthsKernel =
    "kiln_attention_bias_lengths_f32";

/// The `activation` operand of kiln_linear_panels_f32.
enum class Activation : int64_t {
  None = 0,
  Gelu = 1,      // 0.5 x (1 + erf(x / sqrt 2))
  GeluTanh = 2,  // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
  QuickGelu = 3, // x * sigmoid(1.702 x)
  Silu = 4,      // x * sigmoid(x)
  Relu = 5,      // max(x, 0)
  Tanh = 6,
};

/// Attention masks. The `mask` operand of kiln_attention_f32 and
/// kiln_attention_bias_f32 is None or Causal; the *_lengths_f32 forms apply
/// Padding.
enum class AttentionMask : int64_t {
  None = 0,
  Causal = 1,
  Padding = 2,
};

//===----------------------------------------------------------------------===//
// Weight release
//===----------------------------------------------------------------------===//

/// `void kiln_release_weight(uintptr_t data, int64_t bytes)`: called by
/// prepare_weights after the last read of a checkpoint tensor that no other
/// entry reads, so the runtime can drop its pages while the packed copies
/// are being made (peak memory stays near the weights' size).
inline constexpr const char *kReleaseWeightSymbol = "kiln_release_weight";

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

/// Alignment in bytes of every buffer the runtime passes to an entry
/// (arguments it allocates or stages, the scratch arena) and of the buffers
/// generated code allocates for kernels: kiln-plan-memory places
/// temporaries in the arena at multiples of it.
inline constexpr size_t kBufferAlignment = 64;

//===----------------------------------------------------------------------===//
// Embedded payload
//===----------------------------------------------------------------------===//
//
// `kiln compile --emit exe` with embedded weights appends the files it embeds
// (safetensors shards, tokenizer files) to the linked executable instead of
// putting them through the assembler, so weights of any size stream from the
// checkpoint into the output:
//
//   [linked ELF] [pad] [file 0] [pad] [file 1] ... [index JSON] [trailer]
//
// Every file starts at a multiple of kPayloadAlignment (so it maps at page
// granularity), and the tensors of an embedded safetensors file are
// rewritten to start at multiples of kPayloadTensorAlignment, so the runtime
// binds them in place. The index is
//   {"files": [{"name": "model.safetensors", "offset": N, "size": M}, ...]}
// with offsets from the start of the executable. The trailer ends the file.
// The model object records how many files to expect in
// kPayloadFileCountSymbol, so an executable whose payload was stripped or
// truncated says so instead of running without weights.

inline constexpr char kPayloadMagic[8] = {'K', 'I', 'L', 'N',
                                          'P', 'A', 'Y', '1'};
inline constexpr uint64_t kPayloadAlignment = 4096;
/// The runtime binds a tensor in place when it is aligned to this.
inline constexpr uint64_t kPayloadTensorAlignment = kBufferAlignment;
/// Name prefix of the U8 tensors that fill alignment gaps in a rewritten
/// safetensors file (the format allows no holes in its data section).
inline constexpr const char *kPayloadPaddingTensorPrefix = "__kiln_padding_";

/// Keys of the index JSON.
inline constexpr const char *kPayloadIndexFilesKey = "files";
inline constexpr const char *kPayloadIndexNameKey = "name";
inline constexpr const char *kPayloadIndexOffsetKey = "offset";
inline constexpr const char *kPayloadIndexSizeKey = "size";

/// The last bytes of an executable with a payload (little-endian).
struct PayloadTrailer {
  char magic[8];
  /// Where the index JSON starts, and its length.
  uint64_t indexOffset;
  uint64_t indexSize;
  /// The size of the whole executable, trailer included: a file that was
  /// truncated or appended to no longer matches.
  uint64_t fileSize;
};
static_assert(sizeof(PayloadTrailer) == 32, "the trailer is 32 bytes");

} // namespace kiln::contract

#endif // KILN_RUNTIME_CONTRACT_H
