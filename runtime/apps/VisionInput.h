//===- VisionInput.h - Images into the entries of vision models -*- C++ -*-===//
//
// What the image executables (ImageClassification.h, ZeroShot.h) share:
// the metadata of a vision model, image files decoded and preprocessed as
// the checkpoint's preprocessor_config.json asks into the pixel tensor
// [N, C, H, W] (or that tensor read from --pixels FILE.npy), and the
// entries <prefix><B> run over it B images at a time.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_APPS_VISIONINPUT_H
#define KILN_RUNTIME_APPS_VISIONINPUT_H

#include "runtime/image/Preprocess.h"
#include "runtime/session/Session.h"
#include "runtime/support/Tensor.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace kiln {

/// The fields every vision model's metadata has.
struct VisionMetadata {
  /// Batch sizes the entries are built for, ascending; 1 is among them.
  std::vector<int64_t> batchSizes;
  int64_t channels = 3, height = 0, width = 0;
  /// The embedded preprocessor_config.json.
  std::string preprocessorFile;
};

/// Reads batch_sizes, channels, image_size and preprocessor.file.
Expected<VisionMetadata> parseVisionMetadata(const nlohmann::json &root);

/// The pixel tensor of a list of images: each file decoded (PNG, JPEG, BMP,
/// PPM) and preprocessed; or --pixels FILE.npy, an f32 [N, C, H, W]
/// tensor already preprocessed.
class PixelInput {
public:
  /// Reads the embedded preprocessor configuration.
  static Expected<PixelInput> create(const ModelSymbols &model,
                                     const VisionMetadata &metadata);
  /// Every image decoded and preprocessed, in order: [N, C, H, W].
  Expected<Tensor> load(const std::vector<std::string> &paths) const;

private:
  VisionMetadata metadata;
  PreprocessConfig config;
};

/// A preprocessed pixel tensor from a .npy file, checked against the
/// model: f32 [N, C, H, W], N >= 1.
Expected<Tensor> readPixels(const std::string &path,
                            const VisionMetadata &metadata);

/// The pixels of --pixels FILE.npy, else of the image files.
Expected<Tensor> loadPixelInput(const ModelSymbols &model,
                                const VisionMetadata &metadata,
                                const std::vector<std::string> &images,
                                const std::optional<std::string> &pixelsPath);

/// The entries <prefix><B> bound to their buffers, one per batch size.
class BatchedEntry {
public:
  /// Outputs of one call, by name; `rows` of the batch are real images.
  using Consumer = std::function<void(
      const std::map<std::string, Tensor, std::less<>> &outputs, int64_t first,
      int64_t rows)>;

  BatchedEntry(Session &session, const VisionMetadata &metadata,
               std::string prefix)
      : session(session), metadata(metadata), prefix(std::move(prefix)) {}

  /// Runs the images of `pixels` [N, C, H, W] through the largest batch
  /// size that the images left fill, in order, handing each call's outputs
  /// to `consume`.
  Error run(const Tensor &pixels, const Consumer &consume);

  /// The --bench line of each batch size: "LABEL: 12.345 ms per batch of
  /// B, 81.0 images/s".
  void printTimings(std::ostream &err, const char *label) const;

private:
  struct Bound {
    Tensor pixels;
    std::map<std::string, Tensor, std::less<>> outputs;
    BoundCall call;
  };
  Expected<Bound *> bind(int64_t batch);

  /// Milliseconds and images per batch size, for --bench.
  struct Timing {
    double ms = 0;
    int64_t calls = 0, images = 0;
  };

  Session &session;
  const VisionMetadata &metadata;
  std::string prefix;
  std::map<int64_t, Bound> bound;
  std::map<int64_t, Timing> timing;
};

/// An entry of a ranking: its index and softmax probability.
struct RankedScore {
  size_t index;
  double probability;
};

/// The `k` most probable of the softmax of `logits` (computed in double),
/// highest first; ties keep the lower index first.
std::vector<RankedScore> topProbabilities(const float *logits, size_t n,
                                          size_t k);

/// `value` for JSON output: null when it is not finite.
nlohmann::json jsonNumber(double value);

} // namespace kiln

#endif // KILN_RUNTIME_APPS_VISIONINPUT_H
