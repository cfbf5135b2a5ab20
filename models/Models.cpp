//===- Models.cpp - Pick the builder for a checkpoint folder --------------===//

#include "models/Models.h"

#include "frontend/Checkpoint.h"

namespace kiln {

Expected<BuiltModel> buildModelFromFolder(const std::string &folder,
                                          mlir::MLIRContext &context,
                                          const ModelBuildOptions &options) {
  Expected<CheckpointFolder> checkpoint = CheckpointFolder::open(folder);
  if (!checkpoint)
    return checkpoint.takeError();
  JsonReader reader(checkpoint->config(), checkpoint->configPath());
  std::string modelType = reader.string("model_type", "");
  if (Error error = reader.takeError())
    return error;
  if (modelType.empty())
    return makeError(checkpoint->configPath(),
                     ": field 'model_type' is missing");
  if (modelType == "gpt2")
    return buildGpt2(*checkpoint, context, options);
  if (modelType == "bert" || modelType == "roberta")
    return buildBert(*checkpoint, context, options);
  if (modelType == "vit")
    return buildVit(*checkpoint, context, options);
  if (modelType == "swin")
    return buildSwin(*checkpoint, context, options);
  if (modelType == "clip")
    return buildClip(*checkpoint, context, options);
  return makeError(checkpoint->configPath(), ": model_type '", modelType,
                   "' is not supported (supported: gpt2, bert, roberta, vit, "
                   "swin, clip)");
}

} // namespace kiln
