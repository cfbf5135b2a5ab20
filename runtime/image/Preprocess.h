//===- Preprocess.h - Image processor configs and pixel tensors -*- C++ -*-===//
//
// Turns a decoded image into the `[3, H, W]` float32 `pixel_values` a vision
// model takes, exactly as transformers' PIL-backend image processors
// (ViTImageProcessor, CLIPImageProcessor, DeiTImageProcessor; Swin uses
// ViT's) do with the settings of a `preprocessor_config.json`:
//
//   resize (PIL's Image.resize on the 8-bit RGB image) -> center crop (zero
//   padding where the image is smaller) -> rescale (uint8 * factor in
//   float64, then float32) -> normalize ((x - mean) / std in float32)
//
// Every step is bit-exact with transformers 5.x + Pillow on the same RGB
// image, resampling included (PIL's fixed-point separable convolution with
// its antialiasing, and its nearest-neighbour affine path).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_IMAGE_PREPROCESS_H
#define KILN_RUNTIME_IMAGE_PREPROCESS_H

#include "runtime/image/Image.h"
#include "runtime/support/Error.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// PIL's resampling filters, numbered as in PIL.Image.Resampling and in
/// the `resample` field of preprocessor configs.
enum class ResampleFilter {
  Nearest = 0,
  Lanczos = 1,
  Bilinear = 2,
  Bicubic = 3,
  Box = 4,
  Hamming = 5,
};

/// "nearest", "lanczos", "bilinear", "bicubic", "box" or "hamming".
const char *resampleFilterName(ResampleFilter filter);

struct ImageSize {
  int height = 0;
  int width = 0;
  bool operator==(const ImageSize &other) const {
    return height == other.height && width == other.width;
  }
  bool operator!=(const ImageSize &other) const { return !(*this == other); }
};

/// The settings of a preprocessor_config.json, with the defaults of its
/// processor class filled in.
struct PreprocessConfig {
  /// Where the settings came from, for messages.
  std::string name;
  /// The class, normalised: "ViTImageProcessor", "CLIPImageProcessor" or
  /// "DeiTImageProcessor".
  std::string processorType;

  /// Decoded images are RGB already; kept for completeness.
  bool doConvertRgb = false;

  bool doResize = true;
  /// `size` is either a fixed {height, width} or {shortest_edge} (with an
  /// optional longest_edge cap), keeping the aspect ratio.
  enum class SizeMode { HeightWidth, ShortestEdge };
  SizeMode sizeMode = SizeMode::HeightWidth;
  ImageSize size{224, 224}; // SizeMode::HeightWidth
  int shortestEdge = 0;     // SizeMode::ShortestEdge
  int longestEdge = 0;      // 0: none
  ResampleFilter resample = ResampleFilter::Bilinear;

  bool doCenterCrop = false;
  ImageSize cropSize{224, 224};

  bool doRescale = true;
  double rescaleFactor = 1.0 / 255.0;

  bool doNormalize = true;
  std::array<double, 3> imageMean{0.5, 0.5, 0.5};
  std::array<double, 3> imageStd{0.5, 0.5, 0.5};
};

/// The defaults of a processor class ("ViTImageProcessor",
/// "CLIPImageProcessor", "DeiTImageProcessor", or their "FeatureExtractor",
/// "Fast" and "Pil" spellings); nullopt for any other.
std::optional<PreprocessConfig> defaultPreprocessConfig(std::string_view type);

/// Parses the JSON text of a preprocessor_config.json; `name` stands for
/// the file in messages. Wrong types and bad values fail with a message that
/// names the file and the field. Keys not about pixel values are ignored.
Expected<PreprocessConfig> parsePreprocessConfig(std::string_view text,
                                                 const std::string &name);

/// Reads and parses the preprocessor_config.json at `path`.
Expected<PreprocessConfig> readPreprocessConfig(const std::string &path);

/// The size of the pixel tensor for every input image, when the config fixes
/// it (a center crop, or a resize to {height, width}); nullopt when it
/// depends on the input's aspect ratio or size. A compiler checks it against
/// the model's image size.
std::optional<ImageSize> fixedOutputSize(const PreprocessConfig &config);

/// The size an image of `input` size becomes after the resize step alone.
ImageSize resizedSize(const PreprocessConfig &config, ImageSize input);

/// The size of the pixel tensor for an image of `input` size.
ImageSize outputSize(const PreprocessConfig &config, ImageSize input);

/// PIL's `image.resize((width, height), filter)` on an RGB image.
Image resizeImage(const Image &image, ImageSize size, ResampleFilter filter);

/// transformers' center crop: the window at ((H - h) // 2, (W - w) // 2),
/// zero where it falls outside the image.
Image centerCropImage(const Image &image, ImageSize size);

/// Most elements a pixel tensor may have (about 1 GiB of float32).
constexpr size_t kMaxPixelValues = size_t(1) << 28;

/// Writes the `[3, H, W]` pixel values of `image` to `outCHW`, which holds
/// `capacity` floats; H, W are outputSize(config, image size). Fails (naming
/// config.name) when the tensor would be larger than `capacity` or
/// kMaxPixelValues.
Error preprocess(const Image &image, const PreprocessConfig &config,
                 float *outCHW, size_t capacity);

/// The same, into a new vector of 3 * H * W floats.
Expected<std::vector<float>> preprocess(const Image &image,
                                        const PreprocessConfig &config);

} // namespace kiln

#endif // KILN_RUNTIME_IMAGE_PREPROCESS_H
