//===- JpegImage.cpp - JPEG decoding with libjpeg-turbo -------------------===//
//
// libjpeg reports a fatal error by calling error_exit(), which must not
// return; ours longjmp()s back into runDecoder(), the one function that
// calls setjmp(). So that the jump skips no C++ destructor and loses no
// state, runDecoder() keeps its state in a Decoder outside it, and the
// messages are built after it returns. libjpeg
// never prints: warnings are counted (or, for a premature end of the data,
// turned into a truncation error) and error messages are captured.
//
//===----------------------------------------------------------------------===//

#include "runtime/image/JpegImage.h"

#include <algorithm>
#include <csetjmp>
#include <cstdint>
#include <cstdio> // jpeglib.h needs FILE and size_t declared first

#include <jerror.h>
#include <jpeglib.h>

namespace kiln::jpeg {

namespace {

/// Progressive files with more scans than this are refused: every scan
/// passes over the whole image, so a small file of thousands of scans could
/// keep the decoder busy for minutes. libjpeg-turbo suggests such a limit
/// for untrusted input (its djpeg -maxscans); real encoders write about 10.
constexpr int kMaxScans = 500;

/// What runDecoder() ended with, besides decoding.
enum class Status {
  Decoded,
  Failed,        // libjpeg's error (or truncation): Decoder::message
  TooManyPixels, // over ImageLimits::maxPixels, read from the frame header
  BadComponents, // neither gray (1), RGB/YCbCr (3) nor CMYK/YCCK (4)
  TooManyScans,  // over kMaxScans
};

/// The decompressor and everything the callbacks and runDecoder() share.
/// The error manager is the first member, so that the jpeg_error_mgr*
/// libjpeg hands to the callbacks is also a Decoder*.
struct Decoder {
  jpeg_error_mgr errors;
  jpeg_progress_mgr progress;
  jpeg_decompress_struct info;
  std::jmp_buf jump;
  bool created = false;
  /// Set once every row is decoded: Pillow's decoder ignores a missing end
  /// of file from then on (it stops asking for data), so this one does too.
  bool allRowsRead = false;
  bool truncated = false;
  bool tooManyScans = false;
  char message[JMSG_LENGTH_MAX] = "";

  ~Decoder() {
    if (created)
      jpeg_destroy_decompress(&info);
  }
};

Decoder &decoderOf(j_common_ptr info) {
  return *reinterpret_cast<Decoder *>(info->err);
}

/// libjpeg's error_exit: keep the message, unwind to runDecoder().
[[noreturn]] void exitWithError(j_common_ptr info) {
  Decoder &decoder = decoderOf(info);
  (*info->err->format_message)(info, decoder.message);
  std::longjmp(decoder.jump, 1);
}

/// libjpeg's emit_message: level -1 is a warning ("Corrupt JPEG data: ..."),
/// the others trace output. Pillow ignores warnings; so does this, except
/// the one that says the data ended early (libjpeg then pretends an end
/// marker and fills the rest of the image with grey, where Pillow, reading
/// from a file, reports truncation).
void emitMessage(j_common_ptr info, int level) {
  if (level >= 0)
    return;
  ++info->err->num_warnings;
  Decoder &decoder = decoderOf(info);
  if (info->err->msg_code == JWRN_JPEG_EOF && !decoder.allRowsRead) {
    decoder.truncated = true;
    (*info->err->format_message)(info, decoder.message);
    std::longjmp(decoder.jump, 1);
  }
}

/// libjpeg's output_message, which would print to stderr: nothing.
void outputMessage(j_common_ptr) {}

/// Called by libjpeg as it works through the file: stops at kMaxScans.
void checkScans(j_common_ptr info) {
  auto *decompress = reinterpret_cast<j_decompress_ptr>(info);
  if (decompress->input_scan_number > kMaxScans) {
    Decoder &decoder = decoderOf(info);
    decoder.tooManyScans = true;
    std::longjmp(decoder.jump, 1);
  }
}

/// One channel of PIL's CMYK to RGB conversion (Convert.c's cmyk2rgb),
/// from the samples as stored: PIL reads every 4-component JPEG as Adobe's
/// inverted CMYK ("CMYK;I"), so ink = 255 - stored ink, and white is
/// (255 - k) = stored k. The value is white - ink * white / 255, with PIL's
/// rounded division by 255.
uint8_t cmykChannel(unsigned storedInk, unsigned white) {
  unsigned product = (255 - storedInk) * white + 128;
  unsigned covered = ((product >> 8) + product) >> 8;
  return static_cast<uint8_t>(white - std::min(covered, white));
}

/// Runs libjpeg over `bytes` into `image`. Calls setjmp, so its locals are
/// plain pointers that nothing reads after a jump (see the file comment).
Status runDecoder(Decoder &decoder, std::string_view bytes,
                  const ImageLimits &limits, Image &image) {
  if (setjmp(decoder.jump))
    return decoder.tooManyScans ? Status::TooManyScans : Status::Failed;
  jpeg_decompress_struct &info = decoder.info;
  info.err = jpeg_std_error(&decoder.errors);
  decoder.errors.error_exit = exitWithError;
  decoder.errors.emit_message = emitMessage;
  decoder.errors.output_message = outputMessage;
  jpeg_create_decompress(&info);
  decoder.created = true;
  decoder.progress.progress_monitor = checkScans;
  info.progress = &decoder.progress;
  jpeg_mem_src(&info, reinterpret_cast<const unsigned char *>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&info, /*require_image=*/TRUE);

  if (info.image_height > limits.maxPixels / std::max(info.image_width, 1u))
    return Status::TooManyPixels;
  // Pillow's choices, which are also libjpeg's defaults, spelled out: they
  // decide the pixel values.
  info.dct_method = JDCT_ISLOW;
  info.do_fancy_upsampling = TRUE;
  info.do_block_smoothing = TRUE;
  info.scale_num = info.scale_denom = 1;
  if (info.num_components == 1 || info.num_components == 3)
    info.out_color_space = JCS_RGB; // gray is replicated, as PIL does
  else if (info.num_components == 4)
    info.out_color_space = JCS_CMYK; // YCCK is converted to CMYK
  else
    return Status::BadComponents;

  jpeg_start_decompress(&info);
  if (info.output_width != info.image_width ||
      info.output_height != info.image_height ||
      info.output_components != (info.num_components == 4 ? 4 : 3))
    ERREXIT(&info, JERR_NOTIMPL); // cannot happen with the settings above
  image.width = static_cast<int>(info.output_width);
  image.height = static_cast<int>(info.output_height);
  image.pixels.resize(size_t(image.width) * image.height * Image::kChannels);
  // CMYK rows go through a row of libjpeg's, freed with the decompressor.
  JSAMPARRAY cmykRow =
      info.out_color_space == JCS_CMYK
          ? (*info.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&info),
                                      JPOOL_IMAGE, info.output_width * 4, 1)
          : nullptr;
  while (info.output_scanline < info.output_height) {
    uint8_t *out = image.pixels.data() + size_t(info.output_scanline) *
                                             image.width * Image::kChannels;
    if (jpeg_read_scanlines(&info, cmykRow ? cmykRow : &out, 1) != 1)
      ERREXIT(&info, JERR_CANT_SUSPEND); // a memory source never suspends
    if (cmykRow)
      for (const uint8_t *in = cmykRow[0], *end = in + image.width * 4;
           in != end; in += 4, out += 3)
        for (int channel = 0; channel < 3; ++channel)
          out[channel] = cmykChannel(in[channel], in[3]);
  }
  // Reads on to the end marker: corrupt markers after the image are still
  // errors, as they are for Pillow.
  decoder.allRowsRead = true;
  jpeg_finish_decompress(&info);
  return Status::Decoded;
}

} // namespace

Expected<Image> decode(std::string_view bytes, const std::string &name,
                       const ImageLimits &limits) {
  Decoder decoder;
  Image image;
  switch (runDecoder(decoder, bytes, limits, image)) {
  case Status::Decoded:
    return image;
  case Status::Failed:
    if (decoder.truncated)
      return makeError(name, ": truncated JPEG file (the data ends before "
                             "the image does)");
    return makeError(name,
                     ": cannot decode the JPEG image (corrupt or "
                     "unsupported file): ",
                     decoder.message);
  case Status::TooManyPixels: {
    uint64_t width = decoder.info.image_width;
    uint64_t height = decoder.info.image_height;
    return makeError(name, ": JPEG image of ", width, "x", height, " (",
                     width * height, " pixels) exceeds the limit of ",
                     limits.maxPixels, " pixels");
  }
  case Status::BadComponents:
    return makeError(name, ": JPEG image with ", decoder.info.num_components,
                     " color components is not supported (gray, RGB/YCbCr "
                     "and CMYK/YCCK are)");
  case Status::TooManyScans:
    return makeError(name, ": JPEG image with more than ", kMaxScans,
                     " progressive scans refused (it could take very long "
                     "to decode)");
  }
  return makeError(name, ": cannot decode the JPEG image");
}

} // namespace kiln::jpeg
