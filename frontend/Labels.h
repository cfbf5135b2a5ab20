//===- Labels.h - Classification labels of a config.json --------*- C++ -*-===//

#ifndef KILN_FRONTEND_LABELS_H
#define KILN_FRONTEND_LABELS_H

#include "frontend/JsonReader.h"

#include <string>
#include <vector>

namespace kiln {

/// The labels of a classification head, as transformers' PretrainedConfig
/// keeps them.
struct Labels {
  /// num_labels, or the size of id2label.
  int64_t count = 2;
  /// The names from id2label, by index; empty when config.json has none
  /// (the labels are then LABEL_0, LABEL_1, ...).
  std::vector<std::string> names;

  /// The name of label `index` (< count).
  std::string name(int64_t index) const {
    return names.empty() ? "LABEL_" + std::to_string(index) : names[index];
  }
};

/// Reads id2label and num_labels. transformers saves id2label (string keys
/// "0" to "N-1") and its inverse label2id; num_labels is the size of
/// id2label, or makes LABEL_<i> names when id2label is absent. As in
/// transformers, id2label decides: a num_labels that disagrees is
/// overridden, and label2id, which nothing reads, is only type-checked.
void readLabels(JsonReader &reader, Labels &labels);

} // namespace kiln

#endif // KILN_FRONTEND_LABELS_H
