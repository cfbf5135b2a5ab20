//===- VisionCommon.cpp - What the vision model builders share ------------===//

#include "models/VisionCommon.h"

#include "dialect/TfmOps.h"
#include "frontend/Checkpoint.h"
#include "runtime/image/Preprocess.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"

#include <algorithm>

using namespace mlir;

namespace kiln {

Expected<std::string> chooseVisionHead(const std::string &requested,
                                       const std::string &architecture,
                                       const char *baseArchitecture,
                                       const char *classifierArchitecture,
                                       const std::string &configPath) {
  if (!requested.empty()) {
    if (requested == "base" || requested == "image-classification")
      return requested;
    return makeError("--head ", requested,
                     " is not a head (base, image-classification)");
  }
  if (architecture.empty() || architecture == baseArchitecture)
    return std::string("base");
  if (architecture == classifierArchitecture)
    return std::string("image-classification");
  return makeError(configPath, ": architecture '", architecture,
                   "' is not supported (", baseArchitecture, ", ",
                   classifierArchitecture, "; or choose a head with --head)");
}

std::vector<int64_t> visionBatchSizes(const ModelBuildOptions &options) {
  int64_t batch = options.batchSize > 0 ? options.batchSize : 8;
  std::vector<int64_t> sizes = {1};
  if (batch > 1)
    sizes.push_back(batch);
  return sizes;
}

Expected<nlohmann::json> preprocessorMetadata(const CheckpointFolder &ckpt,
                                              int64_t height, int64_t width,
                                              std::vector<ModelFile> &files) {
  const char *name = "preprocessor_config.json";
  if (!ckpt.hasFile(name))
    return makeError(ckpt.folder(), ": no ", name,
                     " (the image preprocessing the model expects)");
  std::string path = ckpt.file(name);
  // The executable's own parser, so that what compiles also runs.
  Expected<PreprocessConfig> config = readPreprocessConfig(path);
  if (!config)
    return config.takeError();
  std::optional<ImageSize> size = fixedOutputSize(*config);
  if (!size)
    return makeError(path,
                     ": the preprocessing does not give images of one "
                     "size (it needs a resize to {height, width} or a "
                     "center crop); the model takes ",
                     height, "x", width);
  if (size->height != height || size->width != width)
    return makeError(path, ": the preprocessing gives ", size->height, "x",
                     size->width, " images but the model takes ", height, "x",
                     width);
  files.push_back({name, path});
  return nlohmann::json{{"file", name}};
}

nlohmann::json classifierMetadata(const char *family, const std::string &head,
                                  const std::vector<int64_t> &batches,
                                  int64_t channels, int64_t height,
                                  int64_t width, int64_t hiddenSize,
                                  const Labels &labels,
                                  nlohmann::json preprocessor) {
  nlohmann::json names = nlohmann::json::object();
  if (head == "image-classification" || !labels.names.empty())
    for (int64_t index = 0; index < labels.count; ++index)
      names[std::to_string(index)] = labels.name(index);
  return {{"task", "image-classification"},
          {"family", family},
          {"head", head},
          {"batch_sizes", batches},
          {"channels", channels},
          {"image_size", {height, width}},
          {"hidden_size", hiddenSize},
          {"id2label", std::move(names)},
          {"preprocessor", std::move(preprocessor)}};
}

Expected<BuiltModel> assembleModel(const CheckpointFolder &checkpoint,
                                   MLIRContext &ctx, const char *family,
                                   function_ref<void(ModuleOp)> buildEntries,
                                   const nlohmann::json &metadata,
                                   std::vector<ModelFile> files) {
  ctx.loadDialect<tfm::TfmDialect, func::FuncDialect>();
  BuiltModel built;
  built.module = ModuleOp::create(
      FileLineColLoc::get(&ctx, checkpoint.configPath(), 1, 1));
  buildEntries(*built.module);
  if (failed(verify(*built.module)))
    return makeError(checkpoint.folder(), ": internal error: the ", family,
                     " IR does not verify");
  (*built.module)
      ->setAttr("tfm.metadata", StringAttr::get(&ctx, metadata.dump()));
  built.weightFiles = checkpoint.weightFiles();
  built.embeddedFiles = std::move(files);
  return built;
}

Block *beginVisionEntry(TfmBuilder &builder, ModuleOp module,
                        const std::string &name, Type pixels,
                        ArrayRef<std::pair<std::string, Type>> results) {
  OpBuilder &b = builder.b;
  SmallVector<Type> resultTypes;
  for (auto &result : results)
    resultTypes.push_back(result.second);
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, builder.at(name), name,
                                   b.getFunctionType({pixels}, resultTypes));
  func.setArgAttr(0, "tfm.name", b.getStringAttr("pixel_values"));
  for (auto [i, result] : llvm::enumerate(results))
    func.setResultAttr(i, "tfm.name", b.getStringAttr(result.first));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  return entry;
}

} // namespace kiln
