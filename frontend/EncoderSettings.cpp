//===- EncoderSettings.cpp - JSON files beside an encoder's config --------===//

#include "frontend/EncoderSettings.h"

#include <utility>

namespace kiln {

void applyTokenizerConfig(const nlohmann::json &settings,
                          nlohmann::json &metadata) {
  for (auto [from, to] :
       {std::pair<const char *, const char *>{"do_lower_case", "lowercase"},
        {"strip_accents", "strip_accents"},
        {"tokenize_chinese_chars", "tokenize_chinese_chars"}})
    if (settings.contains(from))
      metadata[to] = settings[from];
}

Expected<SentenceTransformersModules>
parseModulesJson(const nlohmann::json &modules, const std::string &path) {
  if (!modules.is_array())
    return makeError(path, ": expected a list");
  SentenceTransformersModules result;
  for (const nlohmann::json &module : modules) {
    std::string type = module.value("type", "");
    if (type.find("Normalize") != std::string::npos)
      result.normalize = true;
    if (type.find("Pooling") == std::string::npos)
      continue;
    result.poolingFolders.push_back(module.value("path", ""));
  }
  return result;
}

Expected<std::string> parsePoolingConfig(const nlohmann::json &settings,
                                         const std::string &path) {
  if (settings.value("pooling_mode_mean_tokens", false))
    return std::string("mean");
  if (settings.value("pooling_mode_cls_token", false))
    return std::string("cls");
  return makeError(path, ": only mean or cls pooling is supported");
}

} // namespace kiln
