//===- JpegImage.h - JPEG decoding with libjpeg-turbo -----------*- C++ -*-===//
//
// JPEG files are decoded by libjpeg-turbo (Debian's libjpeg62-turbo, linked
// statically), the library Pillow decodes them with, and with Pillow's
// settings (accurate integer IDCT, fancy chroma upsampling), so the pixels
// are PIL's. Internal to runtime/image/: decodeImage() calls it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_IMAGE_JPEGIMAGE_H
#define KILN_RUNTIME_IMAGE_JPEGIMAGE_H

#include "runtime/image/Image.h"

#include <string>
#include <string_view>

namespace kiln::jpeg {

/// Decodes the bytes of a JPEG file into RGB as
/// `PIL.Image.open(f).convert("RGB")` does: gray replicated, CMYK and YCCK
/// read as Adobe's inverted CMYK and converted with PIL's formula. The pixel
/// limit is checked from the frame header, before any pixel buffer exists.
/// A file that ends before its image data does is refused as truncated (PIL
/// raises "image file is truncated"); corrupt data libjpeg recovers from is
/// accepted, as PIL accepts it. Every failure is an Error naming `name`.
Expected<Image> decode(std::string_view bytes, const std::string &name,
                       const ImageLimits &limits);

} // namespace kiln::jpeg

#endif // KILN_RUNTIME_IMAGE_JPEGIMAGE_H
