//===- Preprocess.cpp - Image processor configs and pixel tensors ---------===//
//
// The arithmetic follows transformers 5.x's PilBackend and Pillow's
// libImaging step by step, because the goal is bit-equal pixel values:
//  - resampling: per output pixel a window of input pixels around its
//    centre, weighted by the filter stretched by the reduction factor
//    (antialiasing), weights normalised to sum 1, turned into 22-bit fixed
//    point and rounded back to 8 bits after each pass; the width first, then
//    the height, each only when that dimension changes;
//  - nearest: Pillow's affine scaling, source coordinates accumulated in
//    double precision;
//  - rescale: uint8 * factor in double, rounded to float; normalize:
//    float32 (x - mean) / std with mean and std rounded to float32.
//
//===----------------------------------------------------------------------===//

#include "runtime/image/Preprocess.h"

#include "runtime/support/FileUtil.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace kiln {

using nlohmann::json;

namespace {

//===----------------------------------------------------------------------===//
// Resampling filters, as functions of the distance in (stretched) pixels.
//===----------------------------------------------------------------------===//

double boxWeight(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }

double bilinearWeight(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

double hammingWeight(double x) {
  x = std::fabs(x);
  if (x == 0.0)
    return 1.0;
  if (x >= 1.0)
    return 0.0;
  x = x * M_PI;
  // Pillow writes these constants as floats; their double values count.
  return std::sin(x) / x * (0.54f + 0.46f * std::cos(x));
}

double bicubicWeight(double x) {
  // Keys' cubic convolution with a = -0.5.
  const double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double sinc(double x) {
  if (x == 0.0)
    return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}

double lanczosWeight(double x) {
  return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
}

struct Filter {
  double (*weight)(double);
  double support; // half-width in input pixels at scale 1
};

Filter filterFor(ResampleFilter filter) {
  switch (filter) {
  case ResampleFilter::Box:
    return {boxWeight, 0.5};
  case ResampleFilter::Hamming:
    return {hammingWeight, 1.0};
  case ResampleFilter::Bicubic:
    return {bicubicWeight, 2.0};
  case ResampleFilter::Lanczos:
    return {lanczosWeight, 3.0};
  case ResampleFilter::Bilinear:
  case ResampleFilter::Nearest:
    break;
  }
  return {bilinearWeight, 1.0};
}

/// Fixed-point weights carry 22 fraction bits: 8 bits of pixel and 2 bits
/// of headroom for filters with negative lobes fit in 32 bits.
constexpr int kWeightBits = 22;

/// For each output position, the first input position used, how many are
/// used and their fixed-point weights (`taps` per output position).
struct ResampleWeights {
  int taps = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;
};

ResampleWeights computeWeights(int inSize, int outSize, Filter filter) {
  // Pillow takes the source box as floats; whole sizes convert exactly.
  double scale = static_cast<double>(static_cast<float>(inSize)) / outSize;
  double filterScale = std::max(scale, 1.0); // stretch only when reducing
  double support = filter.support * filterScale;
  ResampleWeights result;
  result.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  result.first.resize(outSize);
  result.count.resize(outSize);
  result.weights.assign(static_cast<size_t>(outSize) * result.taps, 0);
  std::vector<double> weights(result.taps);
  double inverseFilterScale = 1.0 / filterScale;
  for (int out = 0; out < outSize; ++out) {
    double center = 0.0 + (out + 0.5) * scale;
    // Truncation (toward zero) as in Pillow, which calls it rounding.
    int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    int hi = std::min(static_cast<int>(center + support + 0.5), inSize);
    int count = std::max(hi - lo, 0);
    count = std::min(count, result.taps);
    double total = 0.0;
    for (int i = 0; i < count; ++i) {
      double w = filter.weight((i + lo - center + 0.5) * inverseFilterScale);
      weights[i] = w;
      total += w;
    }
    int32_t *fixed = &result.weights[static_cast<size_t>(out) * result.taps];
    for (int i = 0; i < count; ++i) {
      double w = total != 0.0 ? weights[i] / total : weights[i];
      double scaled = w * (1 << kWeightBits);
      fixed[i] = static_cast<int32_t>(w < 0 ? -0.5 + scaled : 0.5 + scaled);
    }
    result.first[out] = lo;
    result.count[out] = count;
  }
  return result;
}

/// Pillow's rounding of an accumulated fixed-point sum back to 8 bits.
uint8_t clampToByte(int64_t sum) {
  int64_t value = sum >> kWeightBits; // arithmetic shift, as in Pillow
  return static_cast<uint8_t>(std::clamp<int64_t>(value, 0, 255));
}

constexpr int64_t kHalf = int64_t(1) << (kWeightBits - 1);

/// Resamples rows [rowBegin, rowBegin + out.height) of `in` to out.width.
void resampleWidth(const Image &in, int rowBegin, const ResampleWeights &rw,
                   Image &out) {
  for (int y = 0; y < out.height; ++y) {
    const uint8_t *row =
        &in.pixels[static_cast<size_t>(y + rowBegin) * in.width * 3];
    uint8_t *dst = &out.pixels[static_cast<size_t>(y) * out.width * 3];
    for (int x = 0; x < out.width; ++x) {
      const int32_t *w = &rw.weights[static_cast<size_t>(x) * rw.taps];
      const uint8_t *src = row + static_cast<size_t>(rw.first[x]) * 3;
      int64_t sum[3] = {kHalf, kHalf, kHalf};
      for (int i = 0; i < rw.count[x]; ++i)
        for (int c = 0; c < 3; ++c)
          sum[c] += int64_t(src[i * 3 + c]) * w[i];
      for (int c = 0; c < 3; ++c)
        dst[x * 3 + c] = clampToByte(sum[c]);
    }
  }
}

void resampleHeight(const Image &in, const ResampleWeights &rw, Image &out) {
  size_t stride = static_cast<size_t>(in.width) * 3;
  for (int y = 0; y < out.height; ++y) {
    const int32_t *w = &rw.weights[static_cast<size_t>(y) * rw.taps];
    const uint8_t *column = &in.pixels[rw.first[y] * stride];
    uint8_t *dst = &out.pixels[static_cast<size_t>(y) * stride];
    for (size_t i = 0; i < stride; ++i) {
      int64_t sum = kHalf;
      for (int k = 0; k < rw.count[y]; ++k)
        sum += int64_t(column[k * stride + i]) * w[k];
      dst[i] = clampToByte(sum);
    }
  }
}

Image blankImage(ImageSize size) {
  Image image;
  image.width = size.width;
  image.height = size.height;
  image.pixels.assign(static_cast<size_t>(size.width) * size.height * 3, 0);
  return image;
}

/// Pillow's NEAREST resize: an affine scaling whose source coordinates are
/// accumulated step by step (so rounding matches Pillow's, not a formula).
Image resizeNearest(const Image &in, ImageSize size) {
  Image out = blankImage(size);
  double stepX = static_cast<double>(static_cast<float>(in.width)) / size.width;
  double stepY =
      static_cast<double>(static_cast<float>(in.height)) / size.height;
  auto coordinate = [](double v) { return v < 0.0 ? -1 : static_cast<int>(v); };
  std::vector<int> sourceX(size.width, -1);
  double xo = 0.0 + stepX * 0.5;
  for (int x = 0; x < size.width; ++x, xo += stepX) {
    int xin = coordinate(xo);
    if (xin >= 0 && xin < in.width)
      sourceX[x] = xin;
  }
  double yo = 0.0 + stepY * 0.5;
  for (int y = 0; y < size.height; ++y, yo += stepY) {
    int yin = coordinate(yo);
    if (yin < 0 || yin >= in.height)
      continue; // Pillow leaves such rows zero
    const uint8_t *row = &in.pixels[static_cast<size_t>(yin) * in.width * 3];
    uint8_t *dst = &out.pixels[static_cast<size_t>(y) * size.width * 3];
    for (int x = 0; x < size.width; ++x)
      if (sourceX[x] >= 0)
        for (int c = 0; c < 3; ++c)
          dst[x * 3 + c] = row[sourceX[x] * 3 + c];
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Config parsing.
//===----------------------------------------------------------------------===//

std::string describe(const json &value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

/// Reads the fields of one config, each error naming the file and field.
class FieldReader {
public:
  FieldReader(const json &root, const std::string &name)
      : root(root), name(name) {}

  /// The field's value, or nullptr when absent or null (class default).
  const json *find(const char *field) const {
    auto it = root.find(field);
    return it == root.end() || it->is_null() ? nullptr : &*it;
  }

  Error fail(const char *field, const std::string &expected,
             const json &found) const {
    return makeError(name, ": field '", field, "': expected ", expected,
                     ", found ", describe(found));
  }

  Error readBool(const char *field, bool &out) const {
    const json *value = find(field);
    if (!value)
      return Error::success();
    if (!value->is_boolean())
      return fail(field, "true or false", *value);
    out = value->get<bool>();
    return Error::success();
  }

  /// A whole number in [1, 65536] (JSON integers only, as transformers
  /// checks isinstance(size, int)).
  static bool positiveSize(const json &value, int &out) {
    if (!value.is_number_integer())
      return false;
    if (value.is_number_unsigned() && value.get<uint64_t>() > 65536)
      return false;
    int64_t n = value.get<int64_t>();
    if (n < 1 || n > 65536)
      return false;
    out = static_cast<int>(n);
    return true;
  }

  static bool finiteNumber(const json &value, double &out) {
    if (!value.is_number())
      return false;
    out = value.get<double>();
    return std::isfinite(out);
  }

  Error readSize(const char *field, bool squareIfInt,
                 PreprocessConfig::SizeMode &mode, ImageSize &size,
                 int &shortest, int &longest) const {
    const json *value = find(field);
    if (!value)
      return Error::success();
    const char *expected =
        "a positive integer, [height, width], {\"height\", \"width\"}, "
        "{\"shortest_edge\"} or {\"shortest_edge\", \"longest_edge\"} "
        "(integers in 1..65536)";
    int a = 0, b = 0;
    if (value->is_number()) {
      if (!positiveSize(*value, a))
        return fail(field, expected, *value);
      if (squareIfInt) {
        mode = PreprocessConfig::SizeMode::HeightWidth;
        size = {a, a};
      } else {
        mode = PreprocessConfig::SizeMode::ShortestEdge;
        shortest = a;
        longest = 0;
      }
      return Error::success();
    }
    if (value->is_array()) {
      if (value->size() != 2 || !positiveSize((*value)[0], a) ||
          !positiveSize((*value)[1], b))
        return fail(field, expected, *value);
      mode = PreprocessConfig::SizeMode::HeightWidth;
      size = {a, b};
      return Error::success();
    }
    if (!value->is_object())
      return fail(field, expected, *value);
    auto key = [&](const char *k) { return value->contains(k); };
    if (value->size() == 2 && key("height") && key("width")) {
      if (!positiveSize(value->at("height"), a) ||
          !positiveSize(value->at("width"), b))
        return fail(field, expected, *value);
      mode = PreprocessConfig::SizeMode::HeightWidth;
      size = {a, b};
      return Error::success();
    }
    if (key("shortest_edge") &&
        (value->size() == 1 || (value->size() == 2 && key("longest_edge")))) {
      if (!positiveSize(value->at("shortest_edge"), a))
        return fail(field, expected, *value);
      if (value->size() == 2 && !positiveSize(value->at("longest_edge"), b))
        return fail(field, expected, *value);
      mode = PreprocessConfig::SizeMode::ShortestEdge;
      shortest = a;
      longest = value->size() == 2 ? b : 0;
      return Error::success();
    }
    return fail(field, expected, *value);
  }

  Error readChannels(const char *field, std::array<double, 3> &out,
                     bool nonZero) const {
    const json *value = find(field);
    if (!value)
      return Error::success();
    const char *expected = nonZero ? "a non-zero finite number or a list of 3"
                                   : "a finite number or a list of 3";
    std::array<double, 3> channels;
    if (value->is_number()) {
      double v = 0;
      if (!finiteNumber(*value, v))
        return fail(field, expected, *value);
      channels = {v, v, v};
    } else if (value->is_array() && value->size() == 3) {
      for (size_t i = 0; i < 3; ++i)
        if (!finiteNumber((*value)[i], channels[i]))
          return fail(field, expected, *value);
    } else {
      return fail(field, expected, *value);
    }
    // numpy computes with these as float32.
    for (double v : channels)
      if (!std::isfinite(static_cast<float>(v)) ||
          (nonZero && static_cast<float>(v) == 0.0f))
        return fail(field, expected, *value);
    out = channels;
    return Error::success();
  }

private:
  const json &root;
  const std::string &name;
};

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const std::array<double, 3> kClipMean{0.48145466, 0.4578275, 0.40821073};
const std::array<double, 3> kClipStd{0.26862954, 0.26130258, 0.27577711};

/// Python's int() of a non-negative double.
int truncate(double value) { return static_cast<int>(value); }

} // namespace

const char *resampleFilterName(ResampleFilter filter) {
  switch (filter) {
  case ResampleFilter::Nearest:
    return "nearest";
  case ResampleFilter::Lanczos:
    return "lanczos";
  case ResampleFilter::Bilinear:
    return "bilinear";
  case ResampleFilter::Bicubic:
    return "bicubic";
  case ResampleFilter::Box:
    return "box";
  case ResampleFilter::Hamming:
    return "hamming";
  }
  return "unknown";
}

std::optional<PreprocessConfig> defaultPreprocessConfig(std::string_view type) {
  std::string base(type);
  for (const char *suffix : {"Fast", "Pil"})
    if (endsWith(base, suffix))
      base.resize(base.size() - std::string_view(suffix).size());
  if (endsWith(base, "FeatureExtractor"))
    base = base.substr(0, base.size() - 16) + "ImageProcessor";

  PreprocessConfig config;
  config.processorType = base;
  if (base == "ViTImageProcessor") {
    // ViTImageProcessorPil's class attributes.
    return config;
  }
  if (base == "CLIPImageProcessor") {
    config.sizeMode = PreprocessConfig::SizeMode::ShortestEdge;
    config.shortestEdge = 224;
    config.resample = ResampleFilter::Bicubic;
    config.doCenterCrop = true;
    config.cropSize = {224, 224};
    config.doConvertRgb = true;
    config.imageMean = kClipMean;
    config.imageStd = kClipStd;
    return config;
  }
  if (base == "DeiTImageProcessor") {
    config.size = {256, 256};
    config.resample = ResampleFilter::Bicubic;
    config.doCenterCrop = true;
    config.cropSize = {224, 224};
    return config;
  }
  return std::nullopt;
}

Expected<PreprocessConfig> parsePreprocessConfig(std::string_view text,
                                                 const std::string &name) {
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const std::exception &e) {
    return makeError(name, ": invalid JSON: ", jsonErrorMessage(e));
  }
  if (!root.is_object())
    return makeError(name, ": expected a JSON object, found ", describe(root));
  FieldReader fields(root, name);

  // AutoImageProcessor prefers image_processor_type.
  const char *typeField = "image_processor_type";
  const json *type = fields.find(typeField);
  if (!type) {
    typeField = "feature_extractor_type";
    type = fields.find(typeField);
  }
  if (!type)
    return makeError(name, ": field 'image_processor_type' is missing (nor is "
                           "there a 'feature_extractor_type')");
  if (!type->is_string())
    return fields.fail(typeField, "a string", *type);
  std::optional<PreprocessConfig> defaults =
      defaultPreprocessConfig(type->get<std::string>());
  if (!defaults)
    return makeError(name, ": field '", typeField,
                     "': unsupported image "
                     "processor ",
                     describe(*type),
                     " (ViTImageProcessor, CLIPImageProcessor or "
                     "DeiTImageProcessor expected)");
  PreprocessConfig config = std::move(*defaults);
  config.name = name;
  bool squareIfInt = config.processorType != "CLIPImageProcessor";

  if (Error e = fields.readBool("do_convert_rgb", config.doConvertRgb))
    return e;
  if (Error e = fields.readBool("do_resize", config.doResize))
    return e;
  if (Error e =
          fields.readSize("size", squareIfInt, config.sizeMode, config.size,
                          config.shortestEdge, config.longestEdge))
    return e;
  if (const json *resample = fields.find("resample")) {
    if (!resample->is_number_integer() || resample->get<int64_t>() < 0 ||
        resample->get<int64_t>() > 5)
      return fields.fail("resample",
                         "a PIL filter code 0..5 (nearest, lanczos, bilinear, "
                         "bicubic, box, hamming)",
                         *resample);
    config.resample = static_cast<ResampleFilter>(resample->get<int64_t>());
  }
  if (Error e = fields.readBool("do_center_crop", config.doCenterCrop))
    return e;
  {
    // crop_size as an int is always square.
    PreprocessConfig::SizeMode mode = PreprocessConfig::SizeMode::HeightWidth;
    int shortest = 0, longest = 0;
    if (Error e = fields.readSize("crop_size", true, mode, config.cropSize,
                                  shortest, longest))
      return e;
    if (mode != PreprocessConfig::SizeMode::HeightWidth)
      return fields.fail("crop_size", "{\"height\", \"width\"} or an integer",
                         *fields.find("crop_size"));
  }
  if (Error e = fields.readBool("do_rescale", config.doRescale))
    return e;
  if (const json *factor = fields.find("rescale_factor")) {
    if (!FieldReader::finiteNumber(*factor, config.rescaleFactor))
      return fields.fail("rescale_factor", "a finite number", *factor);
  }
  if (Error e = fields.readBool("do_normalize", config.doNormalize))
    return e;
  if (Error e = fields.readChannels("image_mean", config.imageMean, false))
    return e;
  if (Error e = fields.readChannels("image_std", config.imageStd, true))
    return e;
  return config;
}

Expected<PreprocessConfig> readPreprocessConfig(const std::string &path) {
  Expected<std::string> text = readFileBytes(path);
  if (!text)
    return text.takeError();
  return parsePreprocessConfig(*text, path);
}

std::optional<ImageSize> fixedOutputSize(const PreprocessConfig &config) {
  if (config.doCenterCrop)
    return config.cropSize;
  if (config.doResize &&
      config.sizeMode == PreprocessConfig::SizeMode::HeightWidth)
    return config.size;
  return std::nullopt;
}

ImageSize resizedSize(const PreprocessConfig &config, ImageSize input) {
  if (!config.doResize)
    return input;
  if (config.sizeMode == PreprocessConfig::SizeMode::HeightWidth)
    return config.size;
  int64_t height = input.height, width = input.width;
  int size = config.shortestEdge;
  if (config.longestEdge == 0) {
    // transformers' get_resize_output_image_size(default_to_square=False).
    int64_t shortSide = std::min(height, width),
            longSide = std::max(height, width);
    int newLong = truncate(static_cast<double>(size * longSide) / shortSide);
    return width <= height ? ImageSize{newLong, size}
                           : ImageSize{size, newLong};
  }
  // transformers' get_size_with_aspect_ratio(size, max_size).
  double minSide = static_cast<double>(std::min(height, width));
  double maxSide = static_cast<double>(std::max(height, width));
  double rawSize = 0;
  bool capped = false;
  if (maxSide / minSide * size > config.longestEdge) {
    rawSize = config.longestEdge * minSide / maxSide;
    size = static_cast<int>(std::nearbyint(rawSize)); // Python's round()
    capped = true;
  }
  if ((height <= width && height == size) || (width <= height && width == size))
    return {static_cast<int>(height), static_cast<int>(width)};
  if (width < height) {
    int newHeight = capped
                        ? truncate(rawSize * height / width)
                        : truncate(static_cast<double>(size * height) / width);
    return {newHeight, size};
  }
  int newWidth = capped ? truncate(rawSize * width / height)
                        : truncate(static_cast<double>(size * width) / height);
  return {size, newWidth};
}

ImageSize outputSize(const PreprocessConfig &config, ImageSize input) {
  return config.doCenterCrop ? config.cropSize : resizedSize(config, input);
}

Image resizeImage(const Image &image, ImageSize size, ResampleFilter filter) {
  if (size.width == image.width && size.height == image.height)
    return image; // Pillow copies
  if (filter == ResampleFilter::Nearest)
    return resizeNearest(image, size);
  Filter weights = filterFor(filter);
  ResampleWeights rows = computeWeights(image.height, size.height, weights);
  const Image *current = &image;
  Image widened;
  if (size.width != image.width) {
    // Only the rows the height pass reads.
    int firstRow = rows.first.front();
    int lastRow = rows.first.back() + rows.count.back();
    for (int &first : rows.first)
      first -= firstRow;
    ResampleWeights columns = computeWeights(image.width, size.width, weights);
    widened = blankImage({lastRow - firstRow, size.width});
    resampleWidth(image, firstRow, columns, widened);
    current = &widened;
  }
  if (size.height == image.height)
    return widened;
  Image out = blankImage({size.height, current->width});
  resampleHeight(*current, rows, out);
  return out;
}

Image centerCropImage(const Image &image, ImageSize size) {
  Image out = blankImage(size);
  // Python's floor division, also when the crop is larger than the image.
  auto floorHalf = [](int v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
  int top = floorHalf(image.height - size.height);
  int left = floorHalf(image.width - size.width);
  for (int y = 0; y < size.height; ++y) {
    int sourceY = y + top;
    if (sourceY < 0 || sourceY >= image.height)
      continue;
    for (int x = 0; x < size.width; ++x) {
      int sourceX = x + left;
      if (sourceX < 0 || sourceX >= image.width)
        continue;
      for (int c = 0; c < 3; ++c)
        out.pixels[(static_cast<size_t>(y) * size.width + x) * 3 + c] =
            image.at(sourceY, sourceX, c);
    }
  }
  return out;
}

Error preprocess(const Image &image, const PreprocessConfig &config,
                 float *outCHW, size_t capacity) {
  ImageSize input{image.height, image.width};
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() !=
          static_cast<size_t>(image.width) * image.height * 3)
    return makeError(config.name, ": cannot preprocess an empty or malformed ",
                     image.width, "x", image.height, " image");
  ImageSize resized = resizedSize(config, input);
  ImageSize output = outputSize(config, input);
  uint64_t resizedValues = uint64_t(3) * resized.height * resized.width;
  uint64_t outputValues = uint64_t(3) * output.height * output.width;
  if (resized.height <= 0 || resized.width <= 0 ||
      resizedValues > kMaxPixelValues || outputValues > kMaxPixelValues)
    return makeError(config.name, ": an image of ", input.width, "x",
                     input.height, " resizes to ", resized.width, "x",
                     resized.height, ", more than the limit of ",
                     kMaxPixelValues / 3, " pixels");
  if (outputValues > capacity)
    return makeError(config.name, ": the pixel tensor of 3x", output.height,
                     "x", output.width, " does not fit the ", capacity,
                     " floats given");

  // Each step as transformers orders them; steps that do nothing are skipped
  // (Pillow's resize to the same size is a copy).
  Image resizedImage;
  const Image *current = &image;
  if (config.doResize && resized != input) {
    resizedImage = resizeImage(image, resized, config.resample);
    current = &resizedImage;
  }
  Image cropped;
  if (config.doCenterCrop) {
    cropped = centerCropImage(*current, config.cropSize);
    current = &cropped;
  }

  // Per-value map of the 256 possible bytes, computed with transformers'
  // arithmetic: float64 rescale rounded to float32, then float32 normalize.
  size_t plane = static_cast<size_t>(output.height) * output.width;
  for (int c = 0; c < 3; ++c) {
    float table[256];
    float mean = static_cast<float>(config.imageMean[c]);
    float stddev = static_cast<float>(config.imageStd[c]);
    for (int v = 0; v < 256; ++v) {
      float x = config.doRescale ? static_cast<float>(v * config.rescaleFactor)
                                 : static_cast<float>(v);
      if (config.doNormalize)
        x = (x - mean) / stddev; // two float32 roundings, as numpy's

      table[v] = x;
    }
    float *dst = outCHW + c * plane;
    const uint8_t *src = current->pixels.data() + c;
    for (size_t i = 0; i < plane; ++i)
      dst[i] = table[src[i * 3]];
  }
  return Error::success();
}

Expected<std::vector<float>> preprocess(const Image &image,
                                        const PreprocessConfig &config) {
  ImageSize output = outputSize(config, {image.height, image.width});
  uint64_t count =
      uint64_t(3) * std::max(output.height, 0) * std::max(output.width, 0);
  std::vector<float> values;
  if (count <= kMaxPixelValues)
    values.resize(count);
  if (Error e = preprocess(image, config, values.data(), values.size()))
    return e;
  return values;
}

} // namespace kiln
