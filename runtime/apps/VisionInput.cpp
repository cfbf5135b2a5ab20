//===- VisionInput.cpp - Images into the entries of vision models ---------===//

#include "runtime/apps/VisionInput.h"

#include "runtime/apps/CommandLine.h"
#include "runtime/image/Image.h"
#include "runtime/support/Npy.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

namespace kiln {

Expected<VisionMetadata> parseVisionMetadata(const nlohmann::json &root) {
  VisionMetadata metadata;
  auto positive = [](const nlohmann::json &v) {
    return v.is_number_integer() && v.get<int64_t>() >= 1;
  };
  auto sizes = root.find("batch_sizes");
  if (sizes == root.end() || !sizes->is_array() || sizes->empty())
    return makeError("model metadata: batch_sizes: expected a non-empty list");
  for (const nlohmann::json &size : *sizes) {
    if (!positive(size))
      return makeError("model metadata: batch_sizes: expected positive "
                       "integers");
    metadata.batchSizes.push_back(size.get<int64_t>());
  }
  std::sort(metadata.batchSizes.begin(), metadata.batchSizes.end());
  if (metadata.batchSizes.front() != 1)
    return makeError("model metadata: batch_sizes: expected 1 among them");
  auto channels = root.find("channels");
  auto image = root.find("image_size");
  if (channels == root.end() || !positive(*channels))
    return makeError("model metadata: channels: expected a positive integer");
  if (image == root.end() || !image->is_array() || image->size() != 2 ||
      !positive((*image)[0]) || !positive((*image)[1]))
    return makeError("model metadata: image_size: expected [height, width]");
  metadata.channels = channels->get<int64_t>();
  metadata.height = (*image)[0].get<int64_t>();
  metadata.width = (*image)[1].get<int64_t>();
  auto preprocessor = root.find("preprocessor");
  if (preprocessor == root.end() || !preprocessor->is_object() ||
      !preprocessor->contains("file") || !(*preprocessor)["file"].is_string())
    return makeError("model metadata: preprocessor: expected {\"file\": ...}");
  metadata.preprocessorFile = (*preprocessor)["file"].get<std::string>();
  return metadata;
}

Expected<PixelInput> PixelInput::create(const ModelSymbols &model,
                                        const VisionMetadata &metadata) {
  std::optional<std::string_view> text =
      findEmbeddedFile(model, metadata.preprocessorFile);
  if (!text)
    return makeError("the executable holds no ", metadata.preprocessorFile,
                     " (the image preprocessing)");
  Expected<PreprocessConfig> config =
      parsePreprocessConfig(*text, metadata.preprocessorFile);
  if (!config)
    return config.takeError();
  if (metadata.channels != 3)
    return makeError("the model takes ", metadata.channels,
                     "-channel images; image files give 3 (RGB): use "
                     "--pixels FILE.npy");
  std::optional<ImageSize> size = fixedOutputSize(*config);
  if (!size || size->height != metadata.height || size->width != metadata.width)
    return makeError(metadata.preprocessorFile,
                     ": the preprocessing does not give the ", metadata.height,
                     "x", metadata.width, " images the model takes");
  PixelInput input;
  input.metadata = metadata;
  input.config = std::move(*config);
  return input;
}

Expected<Tensor> PixelInput::load(const std::vector<std::string> &paths) const {
  const int64_t n = static_cast<int64_t>(paths.size());
  Expected<Tensor> pixels =
      Tensor::allocate(DType::F32, {n, 3, metadata.height, metadata.width});
  if (!pixels)
    return pixels.takeError();
  const size_t imageElements =
      static_cast<size_t>(3 * metadata.height * metadata.width);
  auto *out = static_cast<float *>(pixels->data());
  for (int64_t i = 0; i < n; ++i) {
    Expected<Image> image = decodeImageFile(paths[i]);
    if (!image)
      return image.takeError();
    if (Error e =
            preprocess(*image, config, out + i * imageElements, imageElements))
      return makeError(paths[i], ": ", e.message());
  }
  return pixels;
}

Expected<Tensor> readPixels(const std::string &path,
                            const VisionMetadata &metadata) {
  Expected<Tensor> pixels = readNpy(path);
  if (!pixels)
    return pixels.takeError();
  const Shape &shape = pixels->shape;
  if (pixels->dtype != DType::F32 || shape.size() != 4 || shape[0] < 1 ||
      shape[1] != metadata.channels || shape[2] != metadata.height ||
      shape[3] != metadata.width)
    return makeError(path, ": expected f32 [N, ", metadata.channels, ", ",
                     metadata.height, ", ", metadata.width, "] pixels, got ",
                     formatType(pixels->dtype, shape));
  return pixels;
}

Expected<Tensor> loadPixelInput(const ModelSymbols &model,
                                const VisionMetadata &metadata,
                                const std::vector<std::string> &images,
                                const std::optional<std::string> &pixelsPath) {
  if (pixelsPath)
    return readPixels(*pixelsPath, metadata);
  Expected<PixelInput> input = PixelInput::create(model, metadata);
  if (!input)
    return input.takeError();
  return input->load(images);
}

Expected<BatchedEntry::Bound *> BatchedEntry::bind(int64_t batch) {
  auto found = bound.find(batch);
  if (found != bound.end())
    return &found->second;
  Bound entry;
  Expected<Tensor> pixels = Tensor::allocate(
      DType::F32, {batch, metadata.channels, metadata.height, metadata.width});
  if (!pixels)
    return pixels.takeError();
  entry.pixels = std::move(*pixels);
  const std::string name = prefix + std::to_string(batch);
  const EntrySignature *signature = session.entry(name);
  if (!signature)
    return makeError("internal error: no entry ", name);
  std::vector<NamedTensor> outputs;
  for (const SignatureArg &arg : signature->args) {
    if (arg.role != ArgRole::Output)
      continue;
    Expected<Tensor> allocated = Tensor::allocate(arg.dtype, arg.shape);
    if (!allocated)
      return allocated.takeError();
    Tensor &tensor = entry.outputs[arg.name] = std::move(*allocated);
    outputs.push_back({arg.name, tensor.view()});
  }
  Expected<BoundCall> call =
      session.bind(name, {{"pixel_values", entry.pixels.view()}}, outputs);
  if (!call)
    return call.takeError();
  entry.call = std::move(*call);
  return &bound.emplace(batch, std::move(entry)).first->second;
}

Error BatchedEntry::run(const Tensor &pixels, const Consumer &consume) {
  const int64_t n = pixels.shape[0];
  const size_t imageBytes = static_cast<size_t>(
      metadata.channels * metadata.height * metadata.width * sizeof(float));
  const auto *source = static_cast<const uint8_t *>(pixels.data());
  for (int64_t first = 0; first < n;) {
    int64_t left = n - first, batch = 1;
    for (int64_t size : metadata.batchSizes)
      if (size <= left)
        batch = size;
    Expected<Bound *> entry = bind(batch);
    if (!entry)
      return entry.takeError();
    std::memcpy((*entry)->pixels.data(), source + first * imageBytes,
                static_cast<size_t>(batch) * imageBytes);
    auto start = std::chrono::steady_clock::now();
    (*entry)->call();
    Timing &t = timing[batch];
    t.ms += elapsedMs(start);
    ++t.calls;
    t.images += batch;
    consume((*entry)->outputs, first, batch);
    first += batch;
  }
  return Error::success();
}

void BatchedEntry::printTimings(std::ostream &err, const char *label) const {
  for (const auto &[batch, t] : timing)
    err << label << ": " << formatNumber("%.3f", t.ms / t.calls)
        << " ms per batch of " << batch << ", "
        << formatNumber("%.1f", t.images * 1000.0 / std::max(t.ms, 1e-6))
        << " images/s" << std::endl;
}

std::vector<RankedScore> topProbabilities(const float *logits, size_t n,
                                          size_t k) {
  std::vector<RankedScore> scores(n);
  if (n == 0)
    return scores;
  double peak = *std::max_element(logits, logits + n), sum = 0;
  for (size_t i = 0; i < n; ++i)
    sum += scores[i].probability =
        std::exp(static_cast<double>(logits[i]) - peak);
  for (size_t i = 0; i < n; ++i) {
    scores[i].index = i;
    scores[i].probability /= sum;
  }
  k = std::min(k, n);
  std::partial_sort(scores.begin(), scores.begin() + k, scores.end(),
                    [](const RankedScore &a, const RankedScore &b) {
                      return a.probability != b.probability
                                 ? a.probability > b.probability
                                 : a.index < b.index;
                    });
  scores.resize(k);
  return scores;
}

nlohmann::json jsonNumber(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
}

} // namespace kiln
