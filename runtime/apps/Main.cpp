//===- Main.cpp - main() of every generated executable --------------------===//
//
// Linked into each compiled model (library kiln_runtime_main). The model
// object defines (see Session.h for the ABI):
//   extern "C" const char kiln_model_signature[];      // JSON, see Signature.h
//   extern "C" void (*const kiln_model_entries[])(void **args);
//   extern "C" const uint64_t kiln_model_entry_count;
// and optionally:
//   extern "C" const KilnEmbeddedFile kiln_embedded_files[];
//   extern "C" const uint64_t kiln_embedded_file_count;
//   extern "C" const char kiln_default_weights_path[];  // newline-separated
//   extern "C" const uint64_t kiln_payload_file_count;  // runtime/Contract.h
// The optional ones are weak here so that models without them still link.
// The model's metadata chooses the command line (apps/AppMain.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/Contract.h"
#include "runtime/apps/AppMain.h"
#include "runtime/session/Payload.h"
#include "runtime/session/Session.h"

#include <cstdint>
#include <iostream>
#include <string_view>

extern "C" {
extern const char kiln_model_signature[];
extern void (*const kiln_model_entries[])(void **args);
extern const uint64_t kiln_model_entry_count;
extern const KilnEmbeddedFile kiln_embedded_files[] __attribute__((weak));
extern const uint64_t kiln_embedded_file_count __attribute__((weak));
extern const char kiln_default_weights_path[] __attribute__((weak));
extern const uint64_t kiln_payload_file_count __attribute__((weak));
}

// The compiler defines these symbols under the names of runtime/Contract.h;
// an identifier cannot be spelled from a constant, so each is checked.
#define KILN_CHECK_SYMBOL(symbol, name)                                        \
  static_assert(std::string_view(#symbol) == kiln::contract::name,             \
                #symbol " is not kiln::contract::" #name)
KILN_CHECK_SYMBOL(kiln_model_signature, kModelSignatureSymbol);
KILN_CHECK_SYMBOL(kiln_model_entries, kModelEntriesSymbol);
KILN_CHECK_SYMBOL(kiln_model_entry_count, kModelEntryCountSymbol);
KILN_CHECK_SYMBOL(kiln_embedded_files, kEmbeddedFilesSymbol);
KILN_CHECK_SYMBOL(kiln_embedded_file_count, kEmbeddedFileCountSymbol);
KILN_CHECK_SYMBOL(kiln_default_weights_path, kDefaultWeightsPathSymbol);
KILN_CHECK_SYMBOL(kiln_payload_file_count, kPayloadFileCountSymbol);
#undef KILN_CHECK_SYMBOL

int main(int argc, char **argv) {
  kiln::ModelSymbols model;
  model.signature = kiln_model_signature;
  model.entries = kiln_model_entries;
  model.entryCount = kiln_model_entry_count;
  // Undefined weak symbols have address 0. Read through volatile pointers so
  // that the compiler cannot assume the addresses are non-null.
  const KilnEmbeddedFile *volatile files = kiln_embedded_files;
  const uint64_t *volatile fileCount = &kiln_embedded_file_count;
  const char *volatile defaultPath = kiln_default_weights_path;
  if (files && fileCount) {
    model.embeddedFiles = files;
    model.embeddedFileCount = *fileCount;
  }
  model.defaultWeightsPath = defaultPath;
  // Files appended to this executable (runtime/Contract.h), mapped for the
  // life of the process.
  const uint64_t *volatile payloadFiles = &kiln_payload_file_count;
  std::unique_ptr<kiln::EmbeddedPayload> payload;
  if (payloadFiles && *payloadFiles) {
    kiln::Expected<std::unique_ptr<kiln::EmbeddedPayload>> opened =
        kiln::EmbeddedPayload::open(kiln::currentExecutablePath(),
                                    *payloadFiles);
    if (!opened) {
      std::cerr << "error: " << opened.message() << "\n";
      return 1;
    }
    payload = std::move(*opened);
    model.embeddedFiles = payload->files();
    model.embeddedFileCount = payload->fileCount();
  }
  int status = kiln::runAppMain(model, argc, argv, std::cout, std::cerr);
  std::cout.flush();
  return status;
}
