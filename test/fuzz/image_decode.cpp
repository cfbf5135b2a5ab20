//===- image_decode.cpp - Fuzzes image decoding and preprocessing ---------===//
//
// Input: a whole image file (PNG, JPEG, BMP, PPM or anything else), decoded
// with a 1 Mpixel limit so that claimed sizes cannot exhaust memory. A
// decoded image must be consistent, and preprocess under a few configs (a
// fixed ViT resize, CLIP's shortest edge + crop, nearest, no resize) into a
// tensor of the size the config announces, without a finite value turning
// into NaN.
//
// JPEG is decoded by Debian's libjpeg.a, which is not instrumented: coverage
// guides the fuzzer through Kiln's side of it (error manager, limits, color
// conversion), and ASan checks libjpeg's heap blocks only where Kiln's code
// touches them. corpus/image_decode/crash-stb-jpeg-* is the input on which
// stb 2.27's JPEG decoder, used before, read past its Huffman tables.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "runtime/image/Image.h"
#include "runtime/image/Preprocess.h"

#include <cmath>
#include <cstdint>
#include <vector>

using namespace kiln;

namespace {

const char *const kConfigs[] = {
    R"({"image_processor_type": "ViTImageProcessor",
        "size": {"height": 24, "width": 20}})",
    R"({"image_processor_type": "CLIPImageProcessor",
        "size": {"shortest_edge": 16}, "crop_size": 12})",
    R"({"image_processor_type": "ViTImageProcessor", "resample": 0,
        "size": {"height": 7, "width": 33}})",
    R"({"image_processor_type": "ViTImageProcessor", "resample": 1,
        "size": 9})",
    R"({"image_processor_type": "ViTImageProcessor", "do_resize": false,
        "do_center_crop": true, "crop_size": {"height": 10, "width": 30}})",
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  ImageLimits limits;
  limits.maxPixels = 1 << 16;
  Expected<Image> image = decodeImage(bytes, "fuzz.img", limits);
  if (!image) {
    fuzz::checkErrorMessage(image.message(), "fuzz.img: ");
    return 0;
  }
  FUZZ_CHECK(image->width > 0 && image->height > 0, "empty image decoded");
  FUZZ_CHECK(uint64_t(image->width) * image->height <= limits.maxPixels,
             "pixel limit ignored");
  FUZZ_CHECK(image->pixels.size() == size_t(image->width) * image->height * 3,
             "pixel buffer size");
  FUZZ_CHECK(detectImageFormat(bytes) != ImageFormat::Unknown,
             "decoded an unknown format");

  // Shortest-edge resizes of thin images grow huge: keep those small.
  bool thin =
      image->width > 64 * image->height || image->height > 64 * image->width;
  for (const char *text : kConfigs) {
    Expected<PreprocessConfig> config = parsePreprocessConfig(text, "pp.json");
    FUZZ_CHECK(config, config.message());
    if (thin && config->sizeMode == PreprocessConfig::SizeMode::ShortestEdge)
      continue;
    ImageSize expected = outputSize(*config, {image->height, image->width});
    Expected<std::vector<float>> values = preprocess(*image, *config);
    if (!values) {
      fuzz::checkErrorMessage(values.message(), "pp.json: ");
      continue;
    }
    FUZZ_CHECK(values->size() == size_t(3) * expected.height * expected.width,
               "tensor size differs from outputSize");
    if (std::optional<ImageSize> fixed = fixedOutputSize(*config))
      FUZZ_CHECK(*fixed == expected, "fixedOutputSize disagrees");
    for (float v : *values)
      FUZZ_CHECK(std::isfinite(v) && std::fabs(v) <= 3.0f,
                 "pixel value out of range");
  }
  return 0;
}
