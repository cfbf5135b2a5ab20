//===- Image.h - Decoding images for the vision executables -----*- C++ -*-===//
//
// The vision executables (ViT, Swin, CLIP) read PNG, JPEG, BMP and binary
// PPM/PGM files into 8-bit RGB, the way `PIL.Image.open(f).convert("RGB")`
// does (what transformers' `load_image` hands to the image processors):
// gray is replicated, alpha is dropped, palettes are looked up, 16-bit
// channels keep their high byte, except 16-bit gray which PIL clamps to 255.
// PPM/PGM with a maxval other than 255 are rescaled as PIL does.
//
// JPEG is decoded by libjpeg-turbo with Pillow's settings, so its pixels are
// PIL's; CMYK and YCCK JPEGs are converted as PIL converts them. PNG, BMP
// and PPM are decoded by stb_image. This layer checks the magic bytes first,
// reads the dimensions and refuses images over a pixel limit before decoding
// anything, refuses truncated files as PIL does, and turns every failure
// into a one-line Error that names the file.
//
// Not handled: EXIF orientation (transformers' load_image applies it, PIL's
// Image.open alone does not), RLE-compressed BMPs (stb's support differs
// from PIL's), ICC profiles (ignored by both), 12-bit JPEGs (refused by
// both).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_IMAGE_IMAGE_H
#define KILN_RUNTIME_IMAGE_IMAGE_H

#include "runtime/support/Error.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// An 8-bit RGB image, rows top to bottom, pixels interleaved (HWC).
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels; // height * width * 3 bytes

  static constexpr int kChannels = 3;

  uint8_t at(int y, int x, int channel) const {
    return pixels[(static_cast<size_t>(y) * width + x) * kChannels + channel];
  }
};

/// Bounds checked before decoding, so that a small file claiming a huge
/// image (a "decompression bomb") is refused without allocating anything.
struct ImageLimits {
  /// Most pixels (width * height) accepted. The default, 2^27 (e.g.
  /// 11585 x 11585), is 1.5 times PIL's decompression-bomb error threshold;
  /// decoding it needs up to about 1.5 GiB (a progressive CMYK JPEG).
  uint64_t maxPixels = uint64_t(1) << 27;
  /// Largest file accepted, in bytes (stb_image takes an int length).
  uint64_t maxFileBytes = uint64_t(1) << 30;
};

/// The container formats decodeImage accepts, by magic bytes.
enum class ImageFormat { Unknown, PNG, JPEG, BMP, PNM };

/// "PNG", "JPEG", "BMP", "PPM" or "unknown".
const char *imageFormatName(ImageFormat format);

/// The format the leading bytes announce: PNG, JPEG, BMP or binary PPM/PGM
/// (P5/P6); Unknown for anything else (GIF, TGA, WebP, ASCII PNM, text...).
ImageFormat detectImageFormat(std::string_view bytes);

/// Decodes the bytes of an image file; `name` stands for the file in
/// messages ("photo.png: ...").
Expected<Image> decodeImage(std::string_view bytes, const std::string &name,
                            const ImageLimits &limits = ImageLimits());

/// Reads and decodes the image file at `path` (a regular file or a pipe).
Expected<Image> decodeImageFile(const std::string &path,
                                const ImageLimits &limits = ImageLimits());

} // namespace kiln

#endif // KILN_RUNTIME_IMAGE_IMAGE_H
