//===- Signature.h - The model signature of a generated object --*- C++ -*-===//
//
// Every compiled model exports `kiln_model_signature`, a JSON description of
// its entry points (version 2):
//   {"entries":[{"name":"prefill_8","args":[
//        {"name":"ids","role":"input","dtype":"i64","shape":[1,8],
//         "index_bound":50257},
//        {"name":"h.0.ln_1.weight","role":"weight","dtype":"f32",
//         "shape":[768]},
//        {"name":"cache.0.key","role":"state","dtype":"f32",
//         "shape":[1,12,1024,64]},
//        {"name":"hidden","role":"output","dtype":"f32","shape":[1,8,768]}]},
//     {"name":"decode","args":[...]}, ...],
//    "kernel_scratch":{"gemm_depth":3072,"gemm_width":50257,
//                      "norm_width":768,"head_dim":64},
//    "metadata":{"task":"text-generation", ...}}
// Entry i of "entries" is function i of `kiln_model_entries`; its args are
// listed in call order. Weights and states are shared by name between
// entries, so a name must have the same role, dtype and shape wherever it
// appears. The keys, roles and dtype names are runtime/Contract.h's. This
// header turns that text into structs, validating it on the way.
//
// An entry called `prepare_weights` (kPrepareWeightsEntry) is not for users:
// it computes derived weights (GEMM panels, concatenated projections) from
// the checkpoint's. The runtime calls it once at load and binds each of its
// outputs as the weight of the same name in the other entries.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_SESSION_SIGNATURE_H
#define KILN_RUNTIME_SESSION_SIGNATURE_H

#include "runtime/kernels/Scratch.h"
#include "runtime/Contract.h"
#include "runtime/support/Error.h"
#include "runtime/support/Tensor.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// Input: given by the caller for each call. Weight: bound once from the
/// checkpoint, read-only. State: owned by the runtime, zero-initialised once,
/// updated in place by the entries and kept across calls (e.g. a KV cache).
/// Output: written by the call.
/// Scratch: working memory of one call (the arena of its temporaries, laid
/// out at compile time); the runtime passes one buffer, kept across calls.
using ArgRole = contract::ArgRole;

/// "input", "weight", "state", "output" or "scratch".
const char *roleName(ArgRole role);
std::optional<ArgRole> parseRoleName(std::string_view name);

struct SignatureArg {
  std::string name;
  ArgRole role = ArgRole::Input;
  DType dtype = DType::F32;
  Shape shape;
  /// Integer inputs that index a table ("index_bound", optional): the
  /// table's size. Values must lie in [0, indexBound); the generated code
  /// would clamp the others.
  std::optional<int64_t> indexBound = std::nullopt;
};

/// Checks the values of `view` (of `arg`'s dtype and shape) against
/// arg.indexBound: "index 60 at [0, 3] is outside [0, 50)" names the first
/// value out of range. Succeeds for arguments without a bound.
Error checkIndexValues(const SignatureArg &arg, const TensorView &view);

/// One entry point of the model.
struct EntrySignature {
  std::string name;
  /// Arguments, in call order.
  std::vector<SignatureArg> args;
  /// Peak memory of the entry's planned temporaries ("temporary_bytes", the
  /// arena the compiler laid them out in); 0 if not given.
  int64_t temporaryBytes = 0;

  /// The argument called `name`, or nullptr.
  const SignatureArg *find(std::string_view argName) const;
  /// The argument called `name` with role `role`, or nullptr.
  const SignatureArg *find(std::string_view argName, ArgRole role) const;
  /// Number of arguments with role `role`.
  size_t count(ArgRole role) const;
};

/// The load-time entry that computes derived weights.
inline constexpr std::string_view kPrepareWeightsEntry =
    contract::kPrepareWeightsEntry;

struct ModelSignature {
  /// Entry points, in the order of `kiln_model_entries`.
  std::vector<EntrySignature> entries;
  /// The largest operands of the kernel calls of all entries
  /// ("kernel_scratch", optional: empty when absent), from which sessions
  /// size the kernels' scratch up front.
  kernels::ScratchSizes kernelScratch;
  /// The "metadata" object as compact JSON text; "{}" when absent.
  std::string metadata;
  /// metadata.task when it is a string, else empty.
  std::string task;

  /// The entry called `name`, or nullptr.
  const EntrySignature *entry(std::string_view name) const;
  /// The load-time entry computing derived weights, or nullptr.
  const EntrySignature *prepareWeights() const {
    return entry(kPrepareWeightsEntry);
  }
  /// The weights bound from checkpoint files: every weight but the ones
  /// prepare_weights derives.
  std::vector<const SignatureArg *> checkpointWeights() const;
  /// The entries a user may call: all but prepare_weights.
  std::vector<const EntrySignature *> userEntries() const;
  /// "'prefill_8', 'decode'" (every user entry name, quoted, in order).
  std::string entryNames() const;
  /// The arguments of role Weight or State, one per name, in order of first
  /// appearance over all entries.
  std::vector<const SignatureArg *> shared(ArgRole role) const;
};

/// An argument an entry must have (or, when `optional`, may have).
struct ExpectedArg {
  SignatureArg arg;
  bool optional = false;
};

/// Checks that the signature has entry `entryName` with exactly the inputs
/// and outputs listed, in dtype and shape. `task` names the kind of model in
/// the message ("a text-generation model needs an entry ...").
Error checkEntryArgs(const ModelSignature &signature, std::string_view task,
                     const std::string &entryName,
                     const std::vector<ExpectedArg> &expected);

/// Parses and validates signature JSON: an object with a non-empty "entries"
/// array, an optional "metadata" object, an optional "kernel_scratch" object
/// of non-negative integers and an optional "version" (2). Each
/// entry has a unique non-empty "name" and an "args" array; each arg has a
/// non-empty "name" unique within its entry, a known "role" and "dtype", and
/// a "shape" of non-negative integers; an i32 or i64 input may have an
/// "index_bound" (a positive integer). Weights and states must agree in role,
/// dtype and shape across entries.
Expected<ModelSignature> parseModelSignature(std::string_view json);

} // namespace kiln

#endif // KILN_RUNTIME_SESSION_SIGNATURE_H
