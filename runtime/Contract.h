//===- Contract.h - What the compiler and the runtime agree on --*- C++ -*-===//
//
// One header for every fact that generated code and the runtime must share,
// included by both sides (plain C++17, no LLVM): changing a value here changes
// it for both, instead of two literals drifting apart.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CONTRACT_H
#define KILN_RUNTIME_CONTRACT_H

#include <cstdint>

namespace kiln::contract {

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
inline constexpr uint64_t kPayloadTensorAlignment = 64;
/// Name prefix of the U8 tensors that fill alignment gaps in a rewritten
/// safetensors file (the format allows no holes in its data section).
inline constexpr const char *kPayloadPaddingTensorPrefix = "__kiln_padding_";
/// `extern "C" const uint64_t kiln_payload_file_count;` in the model object.
inline constexpr const char *kPayloadFileCountSymbol =
    "kiln_payload_file_count";

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

//===----------------------------------------------------------------------===//
// Weight release
//===----------------------------------------------------------------------===//

/// `void kiln_release_weight(uintptr_t data, int64_t bytes)`: called by
/// prepare_weights after the last read of a checkpoint tensor that no other
/// entry reads, so the runtime can drop its pages while the packed copies
/// are being made (peak memory stays near the weights' size).
inline constexpr const char *kReleaseWeightSymbol = "kiln_release_weight";

} // namespace kiln::contract

#endif // KILN_RUNTIME_CONTRACT_H
