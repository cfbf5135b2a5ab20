//===- Payload.h - Files appended to a linked executable --------*- C++ -*-===//
//
// Writes the embedded payload of runtime/Contract.h: checkpoint and tokenizer
// files streamed from disk to the end of an executable, never held in memory,
// so the compiler's memory does not grow with the weights and their size is
// not limited by the assembler or the code model.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_LINK_PAYLOAD_H
#define KILN_CODEGEN_LINK_PAYLOAD_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace kiln {

/// A file to embed, under `name`.
struct PayloadFile {
  std::string name;
  std::string path;
};

/// Appends `files` to `executable` with the index and trailer of
/// runtime/Contract.h. Safetensors files (name ending in ".safetensors") are
/// rewritten with every tensor aligned; holes in sparse inputs stay holes.
/// The output depends only on the inputs' contents: compiling twice gives
/// the same bytes. Errors name the file.
bool appendPayload(llvm::StringRef executable,
                   llvm::ArrayRef<PayloadFile> files, std::string &error);

} // namespace kiln

#endif // KILN_CODEGEN_LINK_PAYLOAD_H
