//===- Checkpoint.h - A Hugging Face style model folder ---------*- C++ -*-===//
//
// A checkpoint folder holds config.json, the weights as one
// model.safetensors or as shards listed in model.safetensors.index.json, and
// tokenizer or preprocessor files. Opening it validates every safetensors
// file (runtime/support/Safetensors.h) and the shard index; errors name the folder or
// file and what was expected.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_CHECKPOINT_H
#define KILN_FRONTEND_CHECKPOINT_H

#include "runtime/support/Safetensors.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

class CheckpointFolder {
public:
  static Expected<CheckpointFolder> open(const std::string &folder);

  const std::string &folder() const { return path; }
  /// Path of a file in the folder.
  std::string file(const std::string &name) const;
  bool hasFile(const std::string &name) const;

  /// config.json, parsed.
  const nlohmann::json &config() const { return configJson; }
  std::string configPath() const { return file("config.json"); }

  /// The safetensors files, in index order.
  const std::vector<std::string> &weightFiles() const { return shardPaths; }
  /// The tensor called `name` and the file holding it, or an error naming
  /// the checkpoint and the tensor.
  Expected<const SafetensorsTensor *> tensor(const std::string &name) const;
  bool hasTensor(const std::string &name) const;
  /// The file that holds `name` (for messages); empty if none.
  std::string fileOf(const std::string &name) const;

  /// A tensor a model builder reads, with the shape config.json implies.
  struct TensorSpec {
    std::string name;
    Shape shape;
  };
  /// Checks that each tensor exists, is floating point and has the shape
  /// the config gives; the first mismatch names the file and the tensor.
  Error checkTensors(const std::vector<TensorSpec> &specs) const;

private:
  std::string path;
  nlohmann::json configJson;
  std::vector<std::string> shardPaths;
  // unique_ptr: SafetensorsFile owns a mapping and is move-only.
  std::vector<std::unique_ptr<SafetensorsFile>> shards;
};

/// Reads a JSON file; the error names the file and the parse position.
Expected<nlohmann::json> readJsonFile(const std::string &path);
/// Parses the text of a JSON file; `path` stands for it in errors.
Expected<nlohmann::json> parseJsonText(std::string_view text,
                                       const std::string &path);
/// The shard files model.safetensors.index.json (`index`, read from `path`)
/// lists in its weight_map, in first-use order.
Expected<std::vector<std::string>> parseShardIndex(const nlohmann::json &index,
                                                   const std::string &path);

} // namespace kiln

#endif // KILN_FRONTEND_CHECKPOINT_H
