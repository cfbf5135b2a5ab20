//===- Link.cpp - Object files and the runtime into an executable ---------===//

#include "codegen/link/Link.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>

using namespace llvm;

namespace kiln {

std::string findRuntimeLibraryDir(const char *argv0) {
  if (const char *dir = std::getenv("KILN_RUNTIME_DIR"))
    return dir;
  static int anchor;
  std::string executable = sys::fs::getMainExecutable(argv0, &anchor);
  SmallString<256> dir(sys::path::parent_path(executable));
  sys::path::append(dir, "..", "lib");
  return std::string(dir);
}

bool linkExecutable(ArrayRef<std::string> objects, StringRef runtimeDir,
                    StringRef output, std::string &error) {
  // The runtime archives in link order, from runtime/CMakeLists.txt: first
  // those linked whole (callbacks that replace weak definitions), then the
  // others.
  std::vector<std::string> archives;
  auto addArchives = [&](StringRef list) {
    SmallVector<StringRef> names;
    list.split(names, ',', -1, /*KeepEmpty=*/false);
    for (StringRef name : names) {
      SmallString<256> archive(runtimeDir);
      sys::path::append(archive, "lib" + name + ".a");
      if (!sys::fs::exists(archive)) {
        error = "runtime library '" + archive.str().str() +
                "' not found (set KILN_RUNTIME_DIR to the folder holding it)";
        return false;
      }
      archives.push_back(archive.str().str());
    }
    return true;
  };
  archives.push_back("-Wl,--whole-archive");
  if (!addArchives(KILN_RUNTIME_WHOLE_ARCHIVES))
    return false;
  archives.push_back("-Wl,--no-whole-archive");
  if (!addArchives(KILN_RUNTIME_ARCHIVES))
    return false;
  // Static system libraries the runtime needs (libjpeg.a), by the absolute
  // paths CMake found, so that executables need no shared library of theirs.
  SmallVector<StringRef> systemArchives;
  StringRef(KILN_RUNTIME_SYSTEM_ARCHIVES)
      .split(systemArchives, ',', -1, /*KeepEmpty=*/false);
  for (StringRef archive : systemArchives) {
    if (!sys::fs::exists(archive)) {
      error = "static library '" + archive.str() +
              "' not found (Kiln was configured with it: reinstall its "
              "package, e.g. libjpeg62-turbo-dev for libjpeg.a)";
      return false;
    }
    archives.push_back(archive.str());
  }
  const char *driverName = std::getenv("KILN_CXX");
  ErrorOr<std::string> driver =
      sys::findProgramByName(driverName ? driverName : "c++");
  if (!driver) {
    error = "no C++ linker driver found (install g++ or set KILN_CXX)";
    return false;
  }
  std::vector<std::string> args = {*driver};
  args.insert(args.end(), objects.begin(), objects.end());
  args.insert(args.end(), {"-o", output.str()});
  args.insert(args.end(), archives.begin(), archives.end());
  // -ldl: Halide's runtime looks up optional symbols with dlsym.
  args.insert(args.end(), {"-pthread", "-lm", "-ldl"});
  // What the runtime was built with that linking must repeat (sanitizers).
  SmallVector<StringRef> linkFlags;
  StringRef(KILN_RUNTIME_LINK_FLAGS)
      .split(linkFlags, ' ', -1, /*KeepEmpty=*/false);
  for (StringRef flag : linkFlags)
    args.push_back(flag.str());
  SmallVector<StringRef> argRefs(args.begin(), args.end());
  std::string message;
  int status =
      sys::ExecuteAndWait(*driver, argRefs, std::nullopt, {}, 0, 0, &message);
  if (status != 0) {
    error = "linking '" + output.str() + "' failed" +
            (message.empty() ? "" : ": " + message);
    return false;
  }
  return true;
}

} // namespace kiln
