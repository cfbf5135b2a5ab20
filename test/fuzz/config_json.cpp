//===- config_json.cpp - Fuzzes the readers of a checkpoint's JSON files --===//
//
// Input: the text of one JSON file of a checkpoint folder, read as the
// compiler reads it. First readJsonFile and the two config parsers
// (Gpt2Config::parse, BertConfig::parse) on it; then the whole model
// builder (buildModelFromFolder) on a copy of a small BERT checkpoint made
// into a sentence-transformers folder, with the input in place of one of
//   config.json, modules.json, 1_Pooling/config.json,
//   tokenizer_config.json, model.safetensors.index.json
// (chosen by the input's length). Every failure must be one line naming the
// file; anything escaping (an exception, a crash, UB, a huge allocation) is
// a bug. kiln reads no generation_config.json; its seed exercises the rest.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "frontend/BertConfig.h"
#include "frontend/Gpt2Config.h"
#include "frontend/JsonReader.h"
#include "models/Models.h"

#include "mlir/IR/MLIRContext.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

using namespace kiln;
namespace fs = std::filesystem;

namespace {

constexpr const char *kFiles[] = {"config.json", "modules.json",
                                  "1_Pooling/config.json",
                                  "tokenizer_config.json",
                                  "model.safetensors.index.json"};

/// A folder of this process's own, holding the fixture's files.
const fs::path &workFolder() {
  static const fs::path folder = [] {
    fs::path path = fs::temp_directory_path() /
                    ("kiln-fuzz-config-" + std::to_string(::getpid()));
    fs::create_directories(path);
    return path;
  }();
  return folder;
}

void writeFile(const fs::path &path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

/// The valid sentence-transformers folder every input starts from.
void resetFolder(const fs::path &folder) {
  fs::remove_all(folder);
  fs::create_directories(folder);
  const fs::path fixture = fs::path(KILN_FUZZ_FIXTURES) / "encoders/bert-base";
  for (const char *name : {"config.json", "model.safetensors", "tokenizer.json"})
    fs::copy_file(fixture / name, folder / name);
  writeFile(folder / "modules.json",
            R"([{"idx": 0, "name": "0", "path": "", "type": )"
            R"("sentence_transformers.models.Transformer"},)"
            R"({"idx": 1, "name": "1", "path": "1_Pooling", "type": )"
            R"("sentence_transformers.models.Pooling"}])");
  writeFile(folder / "1_Pooling/config.json",
            R"({"pooling_mode_mean_tokens": true})");
}

void readAsConfig(const std::string &path) {
  Expected<nlohmann::json> json = readJsonFile(path);
  if (!json) {
    fuzz::checkErrorMessage(json.message(), path);
    return;
  }
  Expected<Gpt2Config> gpt2 = Gpt2Config::parse(*json, "config.json");
  if (!gpt2)
    fuzz::checkErrorMessage(gpt2.message(), "config.json: ");
  else
    FUZZ_CHECK(gpt2->headDim() > 0, "head dim");
  Expected<BertConfig> bert = BertConfig::parse(*json, "config.json");
  if (!bert)
    fuzz::checkErrorMessage(bert.message(), "config.json: ");
  else
    FUZZ_CHECK(bert->headDim() > 0 && bert->maxTokens() > 0, "sizes");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  const fs::path &folder = workFolder();
  resetFolder(folder);
  const char *name = kFiles[size % std::size(kFiles)];
  writeFile(folder / name, text);
  readAsConfig((folder / name).string());

  // A fresh context each time: interned names from one input must not pile
  // up across millions of them.
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  ModelBuildOptions options;
  options.sequenceLengths = {8};
  Expected<BuiltModel> built =
      buildModelFromFolder(folder.string(), context, options);
  if (!built) {
    const std::string &message = built.message();
    FUZZ_CHECK(!message.empty() && message.find('\n') == std::string::npos,
               message);
  }
  return 0;
}
