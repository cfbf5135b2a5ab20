//===- Checkpoint.cpp - A Hugging Face style model folder -----------------===//

#include "frontend/Checkpoint.h"

#include "runtime/support/FileUtil.h"

#include <filesystem>
#include <set>

namespace kiln {

namespace fs = std::filesystem;

Expected<nlohmann::json> readJsonFile(const std::string &path) {
  Expected<std::string> text = readFileBytes(path);
  if (!text)
    return text.takeError();
  return parseJsonText(*text, path);
}

Expected<nlohmann::json> parseJsonText(std::string_view text,
                                       const std::string &path) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error &error) {
    return makeError(path, ": invalid JSON at byte ", error.byte);
  }
}

std::string CheckpointFolder::file(const std::string &name) const {
  return (fs::path(path) / name).string();
}

bool CheckpointFolder::hasFile(const std::string &name) const {
  std::error_code ec;
  return fs::is_regular_file(file(name), ec);
}

/// Shard file names from model.safetensors.index.json, in first-use order.
static Expected<std::vector<std::string>>
readShardIndex(const std::string &indexPath) {
  Expected<nlohmann::json> index = readJsonFile(indexPath);
  if (!index)
    return index.takeError();
  return parseShardIndex(*index, indexPath);
}

Expected<std::vector<std::string>>
parseShardIndex(const nlohmann::json &index, const std::string &indexPath) {
  auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object())
    return makeError(indexPath, ": field 'weight_map' must be an object of "
                                "tensor name to file name");
  std::vector<std::string> files;
  std::set<std::string> seen;
  for (auto &[tensor, file] : map->items()) {
    if (!file.is_string())
      return makeError(indexPath, ": 'weight_map' entry '", tensor,
                       "' must name a file");
    std::string name = file.get<std::string>();
    if (name.find('/') != std::string::npos || name == "..")
      return makeError(indexPath, ": 'weight_map' entry '", tensor,
                       "' names a file outside the folder: '", name, "'");
    if (seen.insert(name).second)
      files.push_back(name);
  }
  if (files.empty())
    return makeError(indexPath, ": 'weight_map' lists no tensors");
  return files;
}

Expected<CheckpointFolder> CheckpointFolder::open(const std::string &folder) {
  std::error_code ec;
  if (!fs::exists(folder, ec))
    return makeError(folder, ": no such checkpoint folder");
  if (!fs::is_directory(folder, ec))
    return makeError(folder, ": not a folder");
  if (fs::is_empty(folder, ec))
    return makeError(folder, ": the checkpoint folder is empty (expected "
                             "config.json and model.safetensors)");
  CheckpointFolder checkpoint;
  checkpoint.path = folder;
  if (!checkpoint.hasFile("config.json"))
    return makeError(folder, ": config.json not found");
  Expected<nlohmann::json> config = readJsonFile(checkpoint.configPath());
  if (!config)
    return config.takeError();
  if (!config->is_object())
    return makeError(checkpoint.configPath(), ": expected a JSON object");
  checkpoint.configJson = std::move(*config);

  std::vector<std::string> names;
  if (checkpoint.hasFile("model.safetensors.index.json")) {
    Expected<std::vector<std::string>> shards =
        readShardIndex(checkpoint.file("model.safetensors.index.json"));
    if (!shards)
      return shards.takeError();
    names = std::move(*shards);
  } else if (checkpoint.hasFile("model.safetensors")) {
    names = {"model.safetensors"};
  } else if (checkpoint.hasFile("pytorch_model.bin")) {
    return makeError(folder, ": only safetensors weights are supported, "
                             "found pytorch_model.bin");
  } else {
    return makeError(folder, ": no model.safetensors or "
                             "model.safetensors.index.json");
  }
  for (const std::string &name : names) {
    std::string shardPath = checkpoint.file(name);
    Expected<SafetensorsFile> shard = SafetensorsFile::open(shardPath);
    if (!shard)
      return shard.takeError();
    checkpoint.shardPaths.push_back(shardPath);
    checkpoint.shards.push_back(
        std::make_unique<SafetensorsFile>(std::move(*shard)));
  }
  return checkpoint;
}

bool CheckpointFolder::hasTensor(const std::string &name) const {
  return !fileOf(name).empty();
}

std::string CheckpointFolder::fileOf(const std::string &name) const {
  for (const auto &shard : shards)
    if (shard->find(name))
      return shard->name();
  return {};
}

Expected<const SafetensorsTensor *>
CheckpointFolder::tensor(const std::string &name) const {
  for (const auto &shard : shards)
    if (const SafetensorsTensor *found = shard->find(name))
      return found;
  std::string where =
      shards.size() == 1 ? shards.front()->name() : path + " (all shards)";
  return makeError(where, ": tensor '", name, "' not found");
}

Error CheckpointFolder::checkTensors(
    const std::vector<TensorSpec> &specs) const {
  for (const TensorSpec &spec : specs) {
    Expected<const SafetensorsTensor *> found = tensor(spec.name);
    if (!found)
      return found.takeError();
    if ((*found)->shape != spec.shape)
      return makeError(fileOf(spec.name), ": tensor '", spec.name,
                       "' has shape ", formatShape((*found)->shape),
                       " but config.json gives ", formatShape(spec.shape));
    if (!isFloatingPoint((*found)->dtype))
      return makeError(fileOf(spec.name), ": tensor '", spec.name,
                       "' has dtype ", dtypeName((*found)->dtype),
                       ", expected a floating-point type");
  }
  return Error::success();
}

} // namespace kiln
