//===- VisionCommon.h - What the vision model builders share ----*- C++ -*-===//
//
// ViT, Swin and CLIP executables take image files: their builders pick the
// head and the batch sizes the same way, embed the checkpoint's
// preprocessor_config.json (checked at compile time against the model's
// image size) and describe their labels the same way.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_MODELS_VISIONCOMMON_H
#define KILN_MODELS_VISIONCOMMON_H

#include "frontend/Checkpoint.h"
#include "frontend/Labels.h"
#include "models/Models.h"
#include "models/TfmBuilder.h"

#include <nlohmann/json.hpp>

namespace kiln {

/// "base" or "image-classification": --head, else from `architecture`
/// (empty: base).
Expected<std::string> chooseVisionHead(const std::string &requested,
                                       const std::string &architecture,
                                       const char *baseArchitecture,
                                       const char *classifierArchitecture,
                                       const std::string &configPath);

/// The batch sizes entries are built for: 1 and --batch (default 8).
std::vector<int64_t> visionBatchSizes(const ModelBuildOptions &options);

/// Embeds preprocessor_config.json (appended to `files`) after checking
/// that it parses and produces `height` x `width` pixels; returns the
/// metadata naming it.
Expected<nlohmann::json> preprocessorMetadata(const CheckpointFolder &ckpt,
                                              int64_t height, int64_t width,
                                              std::vector<ModelFile> &files);

/// The metadata of an image classifier's executable (task
/// "image-classification", runtime/apps/ImageClassification.h): id2label
/// holds every label for the image-classification head, else only the
/// names config.json gives.
nlohmann::json classifierMetadata(const char *family, const std::string &head,
                                  const std::vector<int64_t> &batches,
                                  int64_t channels, int64_t height,
                                  int64_t width, int64_t hiddenSize,
                                  const Labels &labels,
                                  nlohmann::json preprocessor);

/// A vision model's module: the tfm dialect loaded, `buildEntries` fills
/// it, it is verified and `metadata` attached; the checkpoint's weights and
/// `files` go with it. `family` names the model in an internal error.
Expected<BuiltModel>
assembleModel(const CheckpointFolder &checkpoint, mlir::MLIRContext &ctx,
              const char *family,
              llvm::function_ref<void(mlir::ModuleOp)> buildEntries,
              const nlohmann::json &metadata, std::vector<ModelFile> files);

/// An image classifier family (ViT, Swin): its names and architectures.
struct ClassifierFamily {
  const char *name;  // metadata "family": "vit"
  const char *title; // in messages: "ViT"
  const char *baseArchitecture, *classifierArchitecture;
};

/// What the executable needs to know of a classifier's config.
struct ClassifierShape {
  std::string architecture;
  int64_t channels, height, width, hiddenSize;
  const Labels &labels;
};

/// Builds an image classifier (ViT, Swin) from its parsed config: the head,
/// the batch sizes, the preprocessing, then `Builder(checkpoint, config,
/// head, ctx)` checks the weights and builds classify_<B> for each batch
/// size with buildClassify(module, B).
template <typename Builder, typename Config>
Expected<BuiltModel>
buildImageClassifier(const CheckpointFolder &checkpoint, mlir::MLIRContext &ctx,
                     const ModelBuildOptions &options,
                     const ClassifierFamily &family, const Config &config,
                     const ClassifierShape &shape) {
  Expected<std::string> head = chooseVisionHead(
      options.head, shape.architecture, family.baseArchitecture,
      family.classifierArchitecture, checkpoint.configPath());
  if (!head)
    return head.takeError();
  std::vector<int64_t> batches = visionBatchSizes(options);
  std::vector<ModelFile> files;
  Expected<nlohmann::json> preprocessor =
      preprocessorMetadata(checkpoint, shape.height, shape.width, files);
  if (!preprocessor)
    return preprocessor.takeError();
  Builder builder(checkpoint, config, *head, ctx);
  if (Error error = builder.checkWeights())
    return error;
  nlohmann::json metadata = classifierMetadata(
      family.name, *head, batches, shape.channels, shape.height, shape.width,
      shape.hiddenSize, shape.labels, std::move(*preprocessor));
  return assembleModel(
      checkpoint, ctx, family.title,
      [&](mlir::ModuleOp module) {
        for (int64_t batch : batches)
          builder.buildClassify(module, batch);
      },
      metadata, std::move(files));
}

/// Starts the public function `name` with one argument `pixel_values` of
/// type `pixels` and the named results; returns its entry block with the
/// builder's insertion point at its start.
mlir::Block *
beginVisionEntry(TfmBuilder &builder, mlir::ModuleOp module,
                 const std::string &name, mlir::Type pixels,
                 llvm::ArrayRef<std::pair<std::string, mlir::Type>> results);

} // namespace kiln

#endif // KILN_MODELS_VISIONCOMMON_H
