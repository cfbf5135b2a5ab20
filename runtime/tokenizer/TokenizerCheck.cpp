//===- TokenizerCheck.cpp - A model's tokenizer at compile time -----------===//

#include "runtime/tokenizer/TokenizerCheck.h"
#include "runtime/support/FileUtil.h"
#include "runtime/tokenizer/ByteLevelBpe.h"
#include "runtime/tokenizer/EncoderTokenizer.h"
#include "runtime/tokenizer/TokenizerJson.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>

namespace kiln {

using namespace tokenizer_json;

Error checkModelTokenizer(std::string_view metadataJson,
                          const std::vector<TokenizerFile> &files) {
  try {
    Expected<json> metadata = parse(metadataJson, "model metadata");
    if (!metadata)
      return metadata.takeError();
    if (!metadata->is_object())
      return makeError("model metadata: expected a JSON object");
    auto found = metadata->find("tokenizer");
    if (found == metadata->end() || found->is_null())
      return Error::success();
    if (!found->is_object() || !found->contains("files") ||
        !(*found)["files"].is_array())
      return makeError("model metadata: tokenizer: expected an object with "
                       "files");

    // The loaders name files as the metadata does; give them the paths
    // instead, so that messages point into the checkpoint.
    json tokenizer = *found;
    std::map<std::string, std::string, std::less<>> contents;
    std::vector<std::pair<std::string, std::string_view>> named;
    for (json &name : tokenizer["files"]) {
      if (!name.is_string())
        continue;
      const TokenizerFile *file = nullptr;
      for (const TokenizerFile &candidate : files)
        if (candidate.name == name.get<std::string>())
          file = &candidate;
      if (!file)
        return makeError("the tokenizer file '", name.get<std::string>(),
                         "' is not among the model's files");
      auto stored = contents.find(file->path);
      if (stored == contents.end()) {
        Expected<std::string> bytes = readFileBytes(file->path);
        if (!bytes)
          return bytes.takeError();
        stored = contents.emplace(file->path, std::move(*bytes)).first;
      }
      named.emplace_back(file->path, stored->second);
      name = file->path;
    }

    std::string task = metadata->value("task", json()).is_string()
                           ? (*metadata)["task"].get<std::string>()
                           : std::string();
    std::string kind = tokenizer.value("kind", json()).is_string()
                           ? tokenizer["kind"].get<std::string>()
                           : std::string();
    // Text encoders, and CLIP's text tower, load theirs as EncoderTokenizer.
    if (task == "text-encoding" || kind == "clip_bpe") {
      Expected<EncoderTokenizer> loaded = EncoderTokenizer::create(
          tokenizer,
          [&](std::string_view path) -> std::optional<std::string_view> {
            auto it = contents.find(path);
            if (it == contents.end())
              return std::nullopt;
            return std::string_view(it->second);
          });
      return loaded ? Error::success() : loaded.takeError();
    }
    // Text generation (and the hidden states of the same models).
    if (kind != "byte_level_bpe")
      return makeError("model metadata: tokenizer.kind: '", kind,
                       "' is not a tokenizer of ",
                       task.empty() ? "this model" : task, " models");
    Expected<ByteLevelBpe> loaded = ByteLevelBpe::fromFiles(named);
    return loaded ? Error::success() : loaded.takeError();
  } catch (const std::exception &e) {
    // Only allocation failures or library surprises get here.
    return makeError("cannot load the tokenizer: ", e.what());
  }
}

Error checkClipTokenizer(const std::vector<TokenizerFile> &files) {
  json names = json::array();
  for (const TokenizerFile &file : files)
    names.push_back(file.name);
  json metadata = {{"tokenizer", {{"kind", "clip_bpe"}, {"files", names}}}};
  return checkModelTokenizer(metadata.dump(), files);
}

} // namespace kiln
