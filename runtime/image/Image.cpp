//===- Image.cpp - Decoding images for the vision executables -------------===//
//
// JPEG goes to libjpeg-turbo (JpegImage.cpp), the rest to stb_image
// (StbImage.cpp). Before stb reads anything, this file checks the magic
// bytes, the pixel limit and what Debian 12's stb 2.27 gets wrong on
// malformed files (overflowing PNM header numbers, missing PNM/BMP data,
// PNG chunks longer than the file).
//
//===----------------------------------------------------------------------===//

#include "runtime/image/Image.h"

#include "runtime/image/JpegImage.h"
#include "runtime/image/StbImage.h"
#include "runtime/support/FileUtil.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <sys/stat.h>

namespace kiln {

namespace {

/// Frees stb's pixel buffers on every return path.
struct StbFree {
  void operator()(void *pixels) const { stb::freeImage(pixels); }
};

bool startsWith(std::string_view bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         bytes.compare(0, prefix.size(), prefix) == 0;
}

bool isPnmSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

/// A friendlier word for formats we refuse but recognise.
const char *refusedFormatHint(std::string_view bytes) {
  if (startsWith(bytes, "GIF87a") || startsWith(bytes, "GIF89a"))
    return "GIF";
  if (startsWith(bytes, "RIFF") && bytes.size() >= 12 &&
      bytes.compare(8, 4, "WEBP") == 0)
    return "WebP";
  // Signatures with NUL bytes need their length: a plain literal would end
  // at the first NUL and match everything.
  using namespace std::string_view_literals;
  if (startsWith(bytes, "II*\0"sv) || startsWith(bytes, "MM\0*"sv))
    return "TIFF";
  if (startsWith(bytes, "\0\0\0\x0cjP  "sv) ||
      (bytes.size() >= 12 && bytes.compare(4, 8, "ftypavif") == 0))
    return "JPEG 2000 or AVIF";
  if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '1' &&
      bytes[1] <= '7')
    return "an ASCII, bitmap or PAM netpbm file (only binary P5/P6 are read)";
  return nullptr;
}

/// The fields of a binary PPM/PGM header. Only the header is read here;
/// the pixels are stb's.
struct PnmHeader {
  uint64_t width = 0, height = 0;
  int channels = 0;
  int maxValue = 0;
  size_t dataOffset = 0; // where the samples start
};

/// Parses "P5"/"P6", width, height and maxval (with # comments) and the one
/// whitespace byte after maxval; nullopt-like (maxValue 0) when malformed.
PnmHeader parsePnmHeader(std::string_view bytes) {
  PnmHeader header;
  size_t pos = 2;
  uint64_t values[3] = {0, 0, 0};
  for (uint64_t &value : values) {
    while (pos < bytes.size()) {
      if (isPnmSpace(bytes[pos])) {
        ++pos;
      } else if (bytes[pos] == '#') {
        while (pos < bytes.size() && bytes[pos] != '\n' && bytes[pos] != '\r')
          ++pos;
      } else {
        break;
      }
    }
    size_t digits = 0;
    while (pos < bytes.size() && bytes[pos] >= '0' && bytes[pos] <= '9') {
      value = value * 10 + (bytes[pos] - '0');
      ++pos;
      // stb 2.27 parses into an int without an overflow check.
      if (++digits > 9)
        return PnmHeader();
    }
    if (digits == 0)
      return PnmHeader();
  }
  if (pos >= bytes.size() || !isPnmSpace(bytes[pos]) || values[2] == 0 ||
      values[2] > 65535)
    return PnmHeader();
  header.width = values[0];
  header.height = values[1];
  header.maxValue = static_cast<int>(values[2]);
  header.channels = bytes[1] == '6' ? 3 : 1;
  header.dataOffset = pos + 1;
  return header;
}

/// Whether stb returns 16-bit PNM samples in host order instead of the
/// file's big-endian order (stb 2.27 copies the bytes as they are). Probed
/// once on a 1x1 image, so a fixed stb keeps working.
bool stbPnm16NeedsSwap();

/// PIL's PPM reading of a sample: round(value / maxval * outMax) (Python's
/// round, half to even), clamped to outMax.
uint32_t rescalePnmSample(uint32_t value, int maxValue, uint32_t outMax) {
  double scaled = std::nearbyint(static_cast<double>(value) / maxValue *
                                 static_cast<double>(outMax));
  return std::min<uint32_t>(outMax, static_cast<uint32_t>(scaled));
}

uint32_t readLE(std::string_view bytes, size_t offset, int size) {
  uint32_t value = 0;
  for (int i = size - 1; i >= 0; --i)
    value = (value << 8) | static_cast<uint8_t>(bytes[offset + i]);
  return value;
}

/// False when an uncompressed BMP holds fewer pixel bytes than its header
/// promises (stb reads zeros past the end; PIL reports truncation).
bool bmpHasAllPixels(std::string_view bytes) {
  if (bytes.size() < 26)
    return true; // stb reports the short header
  uint64_t dataOffset = readLE(bytes, 10, 4);
  uint32_t headerSize = readLE(bytes, 14, 4);
  uint64_t width, height, bitsPerPixel, compression = 0;
  if (headerSize == 12) {
    width = readLE(bytes, 18, 2);
    height = readLE(bytes, 20, 2);
    bitsPerPixel = readLE(bytes, 24, 2);
  } else {
    if (bytes.size() < 34)
      return true;
    auto signedWidth = static_cast<int32_t>(readLE(bytes, 18, 4));
    auto signedHeight = static_cast<int32_t>(readLE(bytes, 22, 4));
    width = static_cast<uint64_t>(std::abs(static_cast<int64_t>(signedWidth)));
    height =
        static_cast<uint64_t>(std::abs(static_cast<int64_t>(signedHeight)));
    bitsPerPixel = readLE(bytes, 28, 2);
    compression = readLE(bytes, 30, 4);
  }
  // Only plain and bit-field layouts have a size known from the header.
  if ((compression != 0 && compression != 3 && compression != 6) ||
      width == 0 || height == 0 || bitsPerPixel == 0 || bitsPerPixel > 32)
    return true;
  uint64_t rowBytes = (width * bitsPerPixel + 31) / 32 * 4;
  uint64_t lastRowBytes = (width * bitsPerPixel + 7) / 8;
  uint64_t needed = dataOffset + rowBytes * (height - 1) + lastRowBytes;
  return needed <= bytes.size();
}

uint32_t readBE(std::string_view bytes, size_t offset) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value = (value << 8) | static_cast<uint8_t>(bytes[offset + i]);
  return value;
}

/// False when a PNG chunk before IEND claims more bytes than the file has
/// left. stb 2.27 grows its buffer to an IDAT chunk's claimed length before
/// reading it: a 60-byte file could make it allocate gigabytes.
bool pngChunksFit(std::string_view bytes) {
  size_t pos = 8; // after the signature
  while (pos + 8 <= bytes.size()) {
    uint64_t length = readBE(bytes, pos);
    if (length > bytes.size() - pos - 8)
      return false;
    if (bytes.compare(pos + 4, 4, "IEND") == 0)
      return true;
    pos += 12 + length; // length, type, data, CRC
  }
  return true; // a cut chunk header: stb reports it
}

/// Width and height from the fixed header fields of PNG (IHDR) and BMP, read
/// before stb, whose own header check rejects large sizes with a generic
/// message. False when the header is too short (stb then explains).
bool headerDimensions(ImageFormat format, std::string_view bytes,
                      uint64_t &width, uint64_t &height) {
  if (format == ImageFormat::PNG && bytes.size() >= 24 &&
      bytes.compare(12, 4, "IHDR") == 0) {
    width = readBE(bytes, 16);
    height = readBE(bytes, 20);
    return true;
  }
  if (format == ImageFormat::BMP && bytes.size() >= 26) {
    if (readLE(bytes, 14, 4) == 12) {
      width = readLE(bytes, 18, 2);
      height = readLE(bytes, 20, 2);
    } else {
      width = static_cast<uint64_t>(std::abs(
          static_cast<int64_t>(static_cast<int32_t>(readLE(bytes, 18, 4)))));
      height = static_cast<uint64_t>(std::abs(
          static_cast<int64_t>(static_cast<int32_t>(readLE(bytes, 22, 4)))));
    }
    return true;
  }
  if (format == ImageFormat::PNM) {
    PnmHeader header = parsePnmHeader(bytes);
    width = header.width;
    height = header.height;
    return header.maxValue != 0;
  }
  return false;
}

std::string stbReason() {
  const char *reason = stb::failureReason();
  return reason && *reason ? reason : "unknown error";
}

/// Fills `image` from `channels` interleaved samples per pixel, each turned
/// into 8 bits by `toByte`: gray is replicated, alpha dropped.
template <typename Sample, typename ToByte>
void toRgb(const Sample *samples, int channels, Image &image, ToByte toByte) {
  size_t count = static_cast<size_t>(image.width) * image.height;
  image.pixels.resize(count * Image::kChannels);
  uint8_t *out = image.pixels.data();
  for (size_t i = 0; i < count; ++i, samples += channels, out += 3) {
    if (channels <= 2) {
      out[0] = out[1] = out[2] = toByte(samples[0], 0);
    } else {
      out[0] = toByte(samples[0], 0);
      out[1] = toByte(samples[1], 1);
      out[2] = toByte(samples[2], 2);
    }
  }
}

bool stbPnm16NeedsSwap() {
  static const bool needsSwap = [] {
    const char probe[] = "P5 1 1 65535 \x01\x00"; // the sample 256
    int width = 0, height = 0, channels = 0;
    uint16_t *sample =
        stb::load16(reinterpret_cast<const uint8_t *>(probe), sizeof probe - 1,
                    &width, &height, &channels, 0);
    bool swap = sample && sample[0] == 1;
    stb::freeImage(sample);
    return swap;
  }();
  return needsSwap;
}

} // namespace

const char *imageFormatName(ImageFormat format) {
  switch (format) {
  case ImageFormat::PNG:
    return "PNG";
  case ImageFormat::JPEG:
    return "JPEG";
  case ImageFormat::BMP:
    return "BMP";
  case ImageFormat::PNM:
    return "PPM";
  case ImageFormat::Unknown:
    break;
  }
  return "unknown";
}

ImageFormat detectImageFormat(std::string_view bytes) {
  if (startsWith(bytes, "\x89PNG\r\n\x1a\n"))
    return ImageFormat::PNG;
  if (startsWith(bytes, "\xFF\xD8\xFF"))
    return ImageFormat::JPEG;
  if (startsWith(bytes, "BM"))
    return ImageFormat::BMP;
  if (bytes.size() >= 3 && bytes[0] == 'P' &&
      (bytes[1] == '5' || bytes[1] == '6') && isPnmSpace(bytes[2]))
    return ImageFormat::PNM;
  return ImageFormat::Unknown;
}

Expected<Image> decodeImage(std::string_view bytes, const std::string &name,
                            const ImageLimits &limits) {
  if (bytes.empty())
    return makeError(name, ": empty file (0 bytes), not an image");
  ImageFormat format = detectImageFormat(bytes);
  if (format == ImageFormat::Unknown) {
    std::string hint;
    if (const char *what = refusedFormatHint(bytes))
      hint = std::string(", found ") + what;
    return makeError(name,
                     ": unsupported image format (PNG, JPEG, BMP or PPM "
                     "expected",
                     hint, ")");
  }
  const char *formatName = imageFormatName(format);
  if (bytes.size() > limits.maxFileBytes ||
      bytes.size() > static_cast<size_t>(INT32_MAX))
    return makeError(name, ": ", formatName, " file of ", bytes.size(),
                     " bytes is larger than the limit of ",
                     std::min<uint64_t>(limits.maxFileBytes, INT32_MAX),
                     " bytes");

  // libjpeg checks the pixel limit from the frame header itself.
  if (format == ImageFormat::JPEG)
    return jpeg::decode(bytes, name, limits);

  // The pixel limit first, from the header fields, before stb allocates.
  uint64_t headerWidth = 0, headerHeight = 0;
  if (headerDimensions(format, bytes, headerWidth, headerHeight) &&
      headerWidth != 0 &&
      (headerHeight > limits.maxPixels / headerWidth ||
       headerWidth * headerHeight > limits.maxPixels))
    return makeError(name, ": ", formatName, " image of ", headerWidth, "x",
                     headerHeight, " (", headerWidth * headerHeight,
                     " pixels) exceeds the limit of ", limits.maxPixels,
                     " pixels");

  // Checks of what stb 2.27 gets wrong, before it reads anything.
  if (format == ImageFormat::PNG && !pngChunksFit(bytes))
    return makeError(name, ": cannot decode the PNG image (truncated or "
                           "corrupt file?): a chunk is longer than the rest "
                           "of the file");
  if (format == ImageFormat::BMP && !bmpHasAllPixels(bytes))
    return makeError(name, ": truncated BMP file (fewer pixel bytes than its "
                           "header promises)");
  if (format == ImageFormat::PNM && parsePnmHeader(bytes).maxValue == 0)
    return makeError(name, ": corrupt PPM header (expected width, height and "
                           "a maxval of 1..65535)");
  auto data = reinterpret_cast<const uint8_t *>(bytes.data());
  int length = static_cast<int>(bytes.size());
  int width = 0, height = 0, channels = 0;
  if (!stb::info(data, length, &width, &height, &channels))
    return makeError(name, ": cannot read the ", formatName,
                     " header (truncated or corrupt file?): ", stbReason());
  uint64_t pixelCount = static_cast<uint64_t>(width) * height;
  if (width <= 0 || height <= 0)
    return makeError(name, ": ", formatName, " image has no pixels (", width,
                     "x", height, ")");
  if (pixelCount > limits.maxPixels)
    return makeError(name, ": ", formatName, " image of ", width, "x", height,
                     " (", pixelCount, " pixels) exceeds the limit of ",
                     limits.maxPixels, " pixels");
  PnmHeader pnm;
  if (format == ImageFormat::PNM) {
    // stb 2.27 does not notice missing PNM samples.
    pnm = parsePnmHeader(bytes);
    uint64_t sampleBytes = pnm.maxValue > 255 ? 2 : 1;
    if (pnm.maxValue == 0 ||
        pnm.dataOffset + pnm.width * pnm.height * pnm.channels * sampleBytes >
            bytes.size())
      return makeError(name, ": truncated PPM file (fewer samples than its "
                             "header promises)");
  }

  Image image;
  image.width = width;
  image.height = height;
  auto failure = [&]() -> Error {
    return makeError(name, ": cannot decode the ", formatName,
                     " image (truncated or corrupt file?): ", stbReason());
  };

  int maxValue = format == ImageFormat::PNM ? pnm.maxValue : 255;
  bool gray = false;
  bool sixteenBits =
      (format == ImageFormat::PNG || format == ImageFormat::PNM) &&
      stb::is16Bit(data, length);
  if (sixteenBits) {
    int decodedWidth = 0, decodedHeight = 0;
    std::unique_ptr<uint16_t, StbFree> samples(
        stb::load16(data, length, &decodedWidth, &decodedHeight, &channels, 0));
    if (!samples)
      return failure();
    if (decodedWidth != width || decodedHeight != height)
      return makeError(name, ": inconsistent ", formatName, " dimensions");
    gray = channels == 1;
    if (format == ImageFormat::PNM) {
      // PIL reads 16-bit PGM as 32-bit "I" (0..65535) and PPM as 8-bit.
      uint32_t outMax = gray ? 65535 : 255;
      bool swap = stbPnm16NeedsSwap();
      toRgb(samples.get(), channels, image, [&](uint16_t value, int) {
        if (swap)
          value = static_cast<uint16_t>((value >> 8) | (value << 8));
        uint32_t scaled = rescalePnmSample(value, maxValue, outMax);
        return static_cast<uint8_t>(std::min<uint32_t>(scaled, 255));
      });
    } else if (gray) {
      // PIL opens 16-bit gray PNGs as "I;16", whose RGB conversion clamps.
      toRgb(samples.get(), channels, image, [](uint16_t value, int) {
        return static_cast<uint8_t>(std::min<uint16_t>(value, 255));
      });
    } else {
      // Other 16-bit PNGs PIL reads as 8-bit, keeping the high byte.
      toRgb(samples.get(), channels, image, [](uint16_t value, int) {
        return static_cast<uint8_t>(value >> 8);
      });
    }
    return image;
  }

  int decodedWidth = 0, decodedHeight = 0;
  std::unique_ptr<uint8_t, StbFree> samples(
      stb::load8(data, length, &decodedWidth, &decodedHeight, &channels, 0));
  if (!samples)
    return failure();
  if (decodedWidth != width || decodedHeight != height || channels < 1 ||
      channels > 4)
    return makeError(name, ": inconsistent ", formatName, " dimensions");
  if (format == ImageFormat::PNM && maxValue != 255 && maxValue > 0) {
    toRgb(samples.get(), channels, image, [&](uint8_t value, int) {
      return static_cast<uint8_t>(rescalePnmSample(value, maxValue, 255));
    });
  } else {
    toRgb(samples.get(), channels, image,
          [](uint8_t value, int) { return value; });
  }
  return image;
}

Expected<Image> decodeImageFile(const std::string &path,
                                const ImageLimits &limits) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0)
    return makeError(path, ": cannot open the image: ", std::strerror(errno));
  if (S_ISDIR(info.st_mode))
    return makeError(path, ": cannot read the image: is a directory");
  if (S_ISREG(info.st_mode) &&
      static_cast<uint64_t>(info.st_size) > limits.maxFileBytes)
    return makeError(path, ": image file of ", uint64_t(info.st_size),
                     " bytes is larger than the limit of ", limits.maxFileBytes,
                     " bytes");
  Expected<std::string> bytes = readFileBytes(path);
  if (!bytes)
    return makeError(path, ": cannot read the image (", bytes.message(), ")");
  return decodeImage(*bytes, path, limits);
}

} // namespace kiln
