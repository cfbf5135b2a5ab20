//===- EncoderSettings.h - JSON files beside an encoder's config -*- C++
//-*-===//
//
// The small JSON files of an encoder checkpoint that config.json does not
// cover: tokenizer_config.json (the settings of a vocab.txt tokenizer) and,
// in sentence-transformers folders, modules.json and the config.json of its
// Pooling module. Each reader takes the parsed JSON and the file's path for
// messages, so that it can be tested and fuzzed without a folder.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_ENCODERSETTINGS_H
#define KILN_FRONTEND_ENCODERSETTINGS_H

#include "runtime/support/Error.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kiln {

/// Copies the settings of tokenizer_config.json that a vocab.txt tokenizer
/// takes (do_lower_case, strip_accents, tokenize_chinese_chars) into the
/// runtime's tokenizer metadata (lowercase, strip_accents,
/// tokenize_chinese_chars).
void applyTokenizerConfig(const nlohmann::json &settings,
                          nlohmann::json &metadata);

/// What modules.json of a sentence-transformers folder says about the
/// embedding: the folders of its Pooling modules (relative to the checkpoint)
/// and whether a Normalize module is present.
struct SentenceTransformersModules {
  std::vector<std::string> poolingFolders;
  bool normalize = false;
};
Expected<SentenceTransformersModules>
parseModulesJson(const nlohmann::json &modules, const std::string &path);

/// The pooling mode ("mean" or "cls") of a Pooling module's config.json.
Expected<std::string> parsePoolingConfig(const nlohmann::json &settings,
                                         const std::string &path);

} // namespace kiln

#endif // KILN_FRONTEND_ENCODERSETTINGS_H
