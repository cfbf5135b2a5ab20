//===- Link.h - Object files and the runtime into an executable -*- C++ -*-===//

#ifndef KILN_CODEGEN_LINK_LINK_H
#define KILN_CODEGEN_LINK_LINK_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include <string>

namespace kiln {

/// Folder holding libkiln_runtime.a and libkiln_runtime_main.a, found next to
/// the running kiln binary (`bin/../lib`) or given by $KILN_RUNTIME_DIR.
std::string findRuntimeLibraryDir(const char *argv0);

/// Links `objects` with the runtime into the executable `output` using the
/// system C++ driver ($KILN_CXX, else c++). Fills `error` on failure.
bool linkExecutable(llvm::ArrayRef<std::string> objects,
                    llvm::StringRef runtimeDir, llvm::StringRef output,
                    std::string &error);

} // namespace kiln

#endif // KILN_CODEGEN_LINK_LINK_H
