//===- TokenizerCheck.h - A model's tokenizer at compile time --*- C++ -*-===//
//
// A compiled model embeds its tokenizer files; the executable loads them when
// it starts. The compiler loads them first, with the same loaders, so that a
// broken file fails `kiln compile` with a message naming it instead of every
// run of the executable.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TOKENIZER_TOKENIZERCHECK_H
#define KILN_RUNTIME_TOKENIZER_TOKENIZERCHECK_H

#include "runtime/support/Error.h"

#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// A file a model embeds: its name in the executable, and its path now.
struct TokenizerFile {
  std::string name;
  std::string path;
};

/// Loads the tokenizer that the executable's application will load, from
/// the model metadata (JSON with "task" and "tokenizer", as the model
/// builders write it) and `files`, read from their paths: text-encoding
/// models and CLIP (tokenizer kind "clip_bpe") through EncoderTokenizer,
/// the others (byte-level BPE) as text generation does. Errors name the
/// file by its path. Succeeds when the metadata names no tokenizer.
Error checkModelTokenizer(std::string_view metadataJson,
                          const std::vector<TokenizerFile> &files);

/// Loads CLIP's tokenizer as the zero-shot application will: `files` are
/// tokenizer.json, or vocab.json and merges.txt, named as the metadata
/// names them ({"kind":"clip_bpe","files":[names]}). The error names the
/// file at fault by its path.
Error checkClipTokenizer(const std::vector<TokenizerFile> &files);

} // namespace kiln

#endif // KILN_RUNTIME_TOKENIZER_TOKENIZERCHECK_H
