//===- StbImage.h - The stb_image functions Kiln calls ----------*- C++ -*-===//
//
// Thin wrappers over stb_image, compiled alone in StbImage.cpp (with only
// PNG, BMP and PNM, and static linkage, so the runtime exports none of
// stb's symbols). Internal to runtime/image/.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_IMAGE_STBIMAGE_H
#define KILN_RUNTIME_IMAGE_STBIMAGE_H

#include <cstdint>

namespace kiln::stb {

/// stbi_info_from_memory: dimensions and channels from the header.
int info(const uint8_t *data, int length, int *width, int *height,
         int *channels);
/// stbi_is_16_bit_from_memory.
int is16Bit(const uint8_t *data, int length);
/// stbi_load_from_memory / stbi_load_16_from_memory with `wanted` channels
/// (0: as stored); free the result with freeImage.
uint8_t *load8(const uint8_t *data, int length, int *width, int *height,
               int *channels, int wanted);
uint16_t *load16(const uint8_t *data, int length, int *width, int *height,
                 int *channels, int wanted);
void freeImage(void *pixels);
/// stbi_failure_reason (thread-local in stb).
const char *failureReason();

} // namespace kiln::stb

#endif // KILN_RUNTIME_IMAGE_STBIMAGE_H
