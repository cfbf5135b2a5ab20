//===- Labels.cpp - Classification labels of a config.json ----------------===//

#include "frontend/Labels.h"

namespace kiln {

void readLabels(JsonReader &reader, Labels &labels) {
  const nlohmann::json *id2label = reader.object("id2label");
  std::optional<int64_t> numLabels = reader.optionalInteger("num_labels");
  (void)reader.object("label2id");
  if (reader.failed())
    return;
  if (!id2label) {
    labels.count = numLabels.value_or(labels.count);
    return;
  }
  int64_t count = static_cast<int64_t>(id2label->size());
  if (count == 0) {
    reader.fail("id2label", "at least one label");
    return;
  }
  labels.names.assign(count, std::string());
  std::vector<bool> seen(count, false);
  for (auto it = id2label->begin(); it != id2label->end(); ++it) {
    std::optional<int64_t> index = parseIndex(it.key(), count - 1);
    if (!index || seen[*index]) {
      reader.failWith("field 'id2label': expected the keys \"0\" to \"" +
                      std::to_string(count - 1) + "\", got key " +
                      describeJson(it.key()));
      return;
    }
    if (!it->is_string()) {
      reader.failWith("field 'id2label': label \"" + it.key() +
                      "\": expected a string, got " + describeJson(*it));
      return;
    }
    seen[*index] = true;
    labels.names[*index] = it->get<std::string>();
  }
  labels.count = count;
}

} // namespace kiln
