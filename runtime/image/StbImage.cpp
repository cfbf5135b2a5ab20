//===- StbImage.cpp - stb_image, compiled once for Kiln -------------------===//
//
// The only translation unit that holds stb's code, for PNG, BMP and PNM
// only: JPEG is libjpeg-turbo's (JpegImage.cpp), since Debian 12's stb 2.27
// reads out of bounds in its JPEG Huffman decoding on corrupt input. In
// sanitizer builds this file is compiled without UBSan's nonnull check:
// stb memcpy()s zero bytes from NULL (runtime/CMakeLists.txt). Image.cpp
// refuses before stb the inputs that made 2.27 overflow or read past the
// data.
//
//===----------------------------------------------------------------------===//

#include "runtime/image/StbImage.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_FAILURE_USERMSG
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace kiln::stb {

int info(const uint8_t *data, int length, int *width, int *height,
         int *channels) {
  return stbi_info_from_memory(data, length, width, height, channels);
}

int is16Bit(const uint8_t *data, int length) {
  return stbi_is_16_bit_from_memory(data, length);
}

uint8_t *load8(const uint8_t *data, int length, int *width, int *height,
               int *channels, int wanted) {
  return stbi_load_from_memory(data, length, width, height, channels, wanted);
}

uint16_t *load16(const uint8_t *data, int length, int *width, int *height,
                 int *channels, int wanted) {
  return stbi_load_16_from_memory(data, length, width, height, channels,
                                  wanted);
}

void freeImage(void *pixels) { stbi_image_free(pixels); }

const char *failureReason() { return stbi_failure_reason(); }

} // namespace kiln::stb
