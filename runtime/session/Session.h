//===- Session.h - A compiled model ready to run ----------------*- C++ -*-===//
//
// The ABI of a compiled model object (version 2), as seen by the runtime
// (the names are runtime/Contract.h's):
//
//   extern "C" const char kiln_model_signature[];  // JSON, see Signature.h
//   extern "C" void (*const kiln_model_entries[])(void **args);
//   extern "C" const uint64_t kiln_model_entry_count;
// and optionally (weak in Main.cpp):
//   extern "C" const KilnEmbeddedFile kiln_embedded_files[];
//   extern "C" const uint64_t kiln_embedded_file_count;
//   extern "C" const char kiln_default_weights_path[];
//
// Function i of kiln_model_entries is entry i of the signature, called with
// args[j] pointing to the memref descriptor (MemRef.h) of its argument j.
// Embedded files carry the checkpoint ("model.safetensors", or several
// shards) and the files an application needs ("vocab.json", "merges.txt",
// "tokenizer.json", ...). kiln_default_weights_path is a newline-separated
// list of safetensors files, mapped at start when the weights are external.
//
// A Session validates the signature against the object, binds every weight
// once (in place from the mapping when the dtype matches and the data is
// 64-byte aligned, else converted into an aligned copy), allocates the states
// (zero-filled, kept across calls, shared by name between entries) and runs
// entries on named tensors.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_SESSION_SESSION_H
#define KILN_RUNTIME_SESSION_SESSION_H

#include "runtime/Contract.h"
#include "runtime/session/Signature.h"
#include "runtime/support/Error.h"
#include "runtime/support/MemRef.h"
#include "runtime/support/Safetensors.h"
#include "runtime/support/Tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// One file embedded in a compiled model (its layout is the compiler's, see
/// runtime/Contract.h).
using KilnEmbeddedFile = kiln::contract::EmbeddedFile;

namespace kiln {

/// The function type of one entry point.
using EntryFunction = void (*)(void **args);

/// What a compiled model object provides (see the ABI above).
struct ModelSymbols {
  /// kiln_model_signature: NUL-terminated JSON.
  const char *signature = nullptr;
  /// kiln_model_entries / kiln_model_entry_count.
  const EntryFunction *entries = nullptr;
  uint64_t entryCount = 0;
  /// kiln_embedded_files / kiln_embedded_file_count; null / 0 if none.
  const KilnEmbeddedFile *embeddedFiles = nullptr;
  uint64_t embeddedFileCount = 0;
  /// kiln_default_weights_path: newline-separated safetensors files to map
  /// when no --weights are given and no safetensors file is embedded; null or
  /// empty if none.
  const char *defaultWeightsPath = nullptr;
};

/// The paths listed in a kiln_default_weights_path value (empty lines are
/// skipped); empty for null.
std::vector<std::string> splitWeightsPaths(const char *list);

/// The embedded files whose name ends in ".safetensors", in order.
std::vector<const KilnEmbeddedFile *>
embeddedSafetensors(const ModelSymbols &model);

/// The contents of the embedded file called `name`, if any.
std::optional<std::string_view> findEmbeddedFile(const ModelSymbols &model,
                                                 std::string_view name);

/// A tensor given to Session::run by name.
struct NamedTensor {
  std::string name;
  TensorView view;
};

/// An entry call with its descriptors built once, for calling it repeatedly
/// on the same buffers (decode loops, benchmarks). The buffers it was bound
/// to must outlive it. Inputs or outputs that were not 64-byte aligned are
/// staged through aligned copies on each call.
class BoundCall {
public:
  /// Calls the entry.
  void operator()();

private:
  friend class Session;
  struct Staged {
    TensorView user;
    AlignedBuffer aligned;
    bool isOutput = false;
  };
  EntryFunction function = nullptr;
  MemRefArgs args;
  std::vector<Staged> staged;
};

class Session {
public:
  /// Parses and validates the model's signature, then loads it as below.
  static Expected<Session>
  create(const ModelSymbols &model,
         const std::vector<std::string> &weightsPaths = {});
  /// Loads a model whose signature is already parsed. Weights come from
  /// `weightsPaths` when non-empty, else from the embedded .safetensors
  /// files, else from the model's default weights paths. Every weight is
  /// looked up across all the files.
  static Expected<Session>
  create(const ModelSymbols &model, ModelSignature signature,
         const std::vector<std::string> &weightsPaths = {});

  const ModelSignature &signature() const { return sig; }
  /// The entry called `name`, or nullptr.
  const EntrySignature *entry(std::string_view name) const {
    return sig.entry(name);
  }

  /// Runs entry `entryName`. Every input and output of the entry must be
  /// given, with exactly its dtype and shape; weights and states are
  /// supplied by the session. Inputs that index a table (their signature's
  /// index bound) must hold indices in range.
  Error run(std::string_view entryName, const std::vector<NamedTensor> &inputs,
            const std::vector<NamedTensor> &outputs);
  /// Checks like run and prepares the call without making it. The index
  /// check reads the inputs now: values changed before a later call are
  /// the caller's to check.
  Expected<BoundCall> bind(std::string_view entryName,
                           const std::vector<NamedTensor> &inputs,
                           const std::vector<NamedTensor> &outputs);

  /// The state called `name` (writable; data is null if there is none).
  TensorView state(std::string_view name) const;
  /// Sets every state back to zero.
  void resetStates();
  /// The bound weight called `name` (data is null if there is none).
  TensorView weight(std::string_view name) const;

  /// The contents of the embedded file called `name`, if any.
  std::optional<std::string_view> embeddedFile(std::string_view name) const;
  /// Where the weights came from, for messages: "embedded model.safetensors",
  /// a path, or a comma-separated list; empty if the model has no weights.
  const std::string &weightsSource() const { return weightsDescription; }

private:
  Session() = default;
  Error loadWeights(const std::vector<std::string> &weightsPaths);
  /// Runs prepare_weights, if the model has it, and binds its outputs as
  /// the derived weights of the other entries.
  Error prepareWeights();
  /// Drops from memory the mapped pages of checkpoint tensors that only
  /// `prepare` reads.
  void releaseSourceWeights(const EntrySignature &prepare);

  ModelSymbols model;
  ModelSignature sig;
  std::vector<SafetensorsFile> files;
  std::string weightsDescription;
  struct Bound {
    void *data = nullptr;
    AlignedBuffer owned;
    /// Where the tensor lies in its file's mapping; `data` unless copied.
    const void *mapped = nullptr;
    size_t mappedBytes = 0;
  };
  std::map<std::string, Bound, std::less<>> weights;
  std::map<std::string, Tensor, std::less<>> states;
  /// The entries' scratch argument (their temporaries' arena).
  AlignedBuffer scratch;
};

} // namespace kiln

#endif // KILN_RUNTIME_SESSION_SESSION_H
