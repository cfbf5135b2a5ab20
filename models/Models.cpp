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
  const nlohmann::json &config = checkpoint->config();
  auto type = config.find("model_type");
  if (type == config.end() || !type->is_string())
    return makeError(checkpoint->configPath(),
                     ": field 'model_type' is missing");
  std::string modelType = type->get<std::string>();
  if (modelType == "gpt2")
    return buildGpt2(*checkpoint, context, options);
  if (modelType == "bert" || modelType == "roberta")
    return buildBert(*checkpoint, context, options);
  return makeError(checkpoint->configPath(), ": model_type '", modelType,
                   "' is not supported (supported: gpt2, bert, roberta)");
}

} // namespace kiln
