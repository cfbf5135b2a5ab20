//===- Session.cpp - A compiled model ready to run ------------------------===//

#include "runtime/session/Session.h"
#include "runtime/kernels/Scratch.h"
#include "runtime/threads/ThreadPool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

/// Called by prepare_weights (runtime/Contract.h,
/// kiln-release-consumed-weights) after the last read of a checkpoint tensor
/// no other entry reads. Only whole pages inside the tensor are dropped:
/// their neighbours may still be in use. A file mapping reads dropped pages
/// back from the file; anonymous memory (a copy the session made) reads
/// zeros, but nothing reads the tensor again.
extern "C" void kiln_release_weight(uintptr_t data, int64_t bytes) {
  if (bytes <= 0)
    return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t begin = (data + page - 1) / page * page;
  uintptr_t end = (data + static_cast<uintptr_t>(bytes)) / page * page;
  if (end > begin)
    madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

namespace kiln {

namespace {

bool isAligned(const void *p) {
  return reinterpret_cast<uintptr_t>(p) % kBufferAlignment == 0;
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

/// "'ids', 'position'", or "none".
std::string listArgs(const EntrySignature &entry, ArgRole role) {
  std::string out;
  for (const SignatureArg &arg : entry.args)
    if (arg.role == role)
      out += (out.empty() ? "'" : ", '") + arg.name + "'";
  return out.empty() ? "none" : out;
}

std::string joinNames(const std::vector<SafetensorsFile> &files) {
  std::string out;
  for (const SafetensorsFile &file : files)
    out += (out.empty() ? "" : ", ") + file.name();
  return out;
}

} // namespace

std::vector<std::string> splitWeightsPaths(const char *list) {
  std::vector<std::string> paths;
  if (!list)
    return paths;
  std::string_view text(list);
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (!line.empty())
      paths.emplace_back(line);
    if (newline == std::string_view::npos)
      break;
    text.remove_prefix(newline + 1);
  }
  return paths;
}

std::vector<const KilnEmbeddedFile *>
embeddedSafetensors(const ModelSymbols &model) {
  std::vector<const KilnEmbeddedFile *> out;
  if (!model.embeddedFiles)
    return out;
  for (uint64_t i = 0; i < model.embeddedFileCount; ++i) {
    const KilnEmbeddedFile &file = model.embeddedFiles[i];
    if (file.name && endsWith(file.name, contract::kSafetensorsSuffix))
      out.push_back(&file);
  }
  return out;
}

std::optional<std::string_view> findEmbeddedFile(const ModelSymbols &model,
                                                 std::string_view name) {
  if (!model.embeddedFiles)
    return std::nullopt;
  for (uint64_t i = 0; i < model.embeddedFileCount; ++i) {
    const KilnEmbeddedFile &file = model.embeddedFiles[i];
    if (file.name && name == file.name)
      return std::string_view(reinterpret_cast<const char *>(file.data),
                              file.size);
  }
  return std::nullopt;
}

void BoundCall::operator()() {
  for (Staged &s : staged)
    if (!s.isOutput && s.user.data)
      std::memcpy(s.aligned.data(), s.user.data, s.user.byteSize());
  function(args.data());
  for (Staged &s : staged)
    if (s.isOutput && s.user.data)
      std::memcpy(s.user.data, s.aligned.data(), s.user.byteSize());
}

/// Bytes of the scratch argument of `entry` (0 if it has none).
static size_t scratchBytesOf(const EntrySignature &entry) {
  for (const SignatureArg &arg : entry.args)
    if (arg.role == ArgRole::Scratch)
      return TensorView{arg.dtype, arg.shape, nullptr}.byteSize();
  return 0;
}

Expected<Session>
Session::create(const ModelSymbols &model,
                const std::vector<std::string> &weightsPaths) {
  if (!model.signature)
    return makeError("the executable has no model (kiln_model_signature "
                     "missing)");
  Expected<ModelSignature> signature = parseModelSignature(model.signature);
  if (!signature)
    return signature.takeError();
  return create(model, std::move(*signature), weightsPaths);
}

Expected<Session>
Session::create(const ModelSymbols &model, ModelSignature signature,
                const std::vector<std::string> &weightsPaths) {
  if (!model.entries || model.entryCount == 0)
    return makeError("the executable has no model (kiln_model_entries "
                     "missing)");
  if (model.entryCount != signature.entries.size())
    return makeError("the model object has ", model.entryCount,
                     " entry function", model.entryCount == 1 ? "" : "s",
                     " but its signature lists ", signature.entries.size(),
                     " entr", signature.entries.size() == 1 ? "y" : "ies");
  for (uint64_t i = 0; i < model.entryCount; ++i)
    if (!model.entries[i])
      return makeError("the model object has no function for entry '",
                       signature.entries[i].name, "'");

  Session session;
  session.model = model;
  session.sig = std::move(signature);
  if (Error e = session.loadWeights(weightsPaths))
    return e;
  // One scratch buffer serves every user entry: calls run one at a time.
  // prepare_weights borrows a larger one for the load if it needs it.
  size_t scratchBytes = 0;
  for (const EntrySignature *entry : session.sig.userEntries())
    scratchBytes = std::max(scratchBytes, scratchBytesOf(*entry));
  if (scratchBytes) {
    Expected<AlignedBuffer> buffer =
        AlignedBuffer::allocate(scratchBytes, /*zero=*/false);
    if (!buffer)
      return makeError("scratch memory: ", buffer.message());
    session.scratch = std::move(*buffer);
  }
  // Generated code cannot report a failed allocation in a kernel: every
  // thread's kernel scratch is allocated now, for the largest calls.
  int threads = ThreadPool::global().numThreads();
  if (!kernels::reserveScratch(session.sig.kernelScratch, threads))
    return makeError("out of memory: cannot allocate the kernels' scratch "
                     "buffers for ",
                     threads, " thread", threads == 1 ? "" : "s");
  if (Error e = session.prepareWeights())
    return e;
  for (const SignatureArg *arg : session.sig.shared(ArgRole::State)) {
    Expected<Tensor> tensor = Tensor::allocate(arg->dtype, arg->shape);
    if (!tensor)
      return makeError("state '", arg->name, "': ", tensor.message());
    session.states.emplace(arg->name, std::move(*tensor));
  }
  return session;
}

Error Session::loadWeights(const std::vector<std::string> &weightsPaths) {
  // Derived weights come from prepare_weights, not from the files.
  std::vector<const SignatureArg *> needed = sig.checkpointWeights();
  if (needed.empty())
    return Error::success();

  // Explicit paths win over what the executable carries.
  std::vector<const KilnEmbeddedFile *> embedded = embeddedSafetensors(model);
  if (!weightsPaths.empty()) {
    for (const std::string &path : weightsPaths) {
      Expected<SafetensorsFile> file = SafetensorsFile::open(path);
      if (!file)
        return file.takeError();
      files.push_back(std::move(*file));
    }
  } else if (!embedded.empty()) {
    for (const KilnEmbeddedFile *blob : embedded) {
      Expected<SafetensorsFile> file = SafetensorsFile::fromMemory(
          blob->data, blob->size, std::string("embedded ") + blob->name);
      if (!file)
        return file.takeError();
      files.push_back(std::move(*file));
    }
  } else {
    std::vector<std::string> defaults =
        splitWeightsPaths(model.defaultWeightsPath);
    if (defaults.empty())
      return makeError("the model needs ", needed.size(), " weight tensor",
                       needed.size() == 1 ? "" : "s",
                       " but has no embedded weights and no default weights "
                       "file; pass --weights FILE.safetensors");
    for (const std::string &path : defaults) {
      Expected<SafetensorsFile> file = SafetensorsFile::open(path);
      if (!file)
        return makeError(file.message(),
                         " (the model's default weights file; pass --weights "
                         "FILE.safetensors)");
      files.push_back(std::move(*file));
    }
  }
  weightsDescription = joinNames(files);

  for (const SignatureArg *argPtr : needed) {
    const SignatureArg &arg = *argPtr;
    const SafetensorsTensor *tensor = nullptr;
    const SafetensorsFile *owner = nullptr;
    for (const SafetensorsFile &file : files) {
      const SafetensorsTensor *found = file.find(arg.name);
      if (!found)
        continue;
      if (tensor)
        return makeError("weight '", arg.name, "' is in both ", owner->name(),
                         " and ", file.name());
      tensor = found;
      owner = &file;
    }
    if (!tensor)
      return makeError("weight '", arg.name, "' not found in ",
                       weightsDescription);
    const std::string &fileName = owner->name();
    bool convertible = tensor->dtype != arg.dtype &&
                       isFloatingPoint(tensor->dtype) &&
                       isFloatingPoint(arg.dtype);
    if ((tensor->dtype != arg.dtype && !convertible) ||
        tensor->shape != arg.shape)
      return makeError("weight '", arg.name, "' in ", fileName, ": expected ",
                       formatType(arg.dtype, arg.shape), ", got ",
                       formatType(tensor->dtype, tensor->shape), " (",
                       safetensorsDTypeName(tensor->dtype), ")");
    Bound bound;
    if (tensor->dtype == arg.dtype && isAligned(tensor->data)) {
      // Read-only mapping used in place: kernels never write weights.
      bound.data = const_cast<void *>(tensor->data);
    } else {
      size_t count = tensor->byteSize / dtypeSize(tensor->dtype);
      Expected<AlignedBuffer> buffer =
          AlignedBuffer::allocate(count * dtypeSize(arg.dtype), false);
      if (!buffer)
        return makeError("weight '", arg.name, "': ", buffer.message());
      if (Error e = convertElements(tensor->dtype, tensor->data, arg.dtype,
                                    buffer->data(), count))
        return makeError("weight '", arg.name, "' in ", fileName, ": ",
                         e.message());
      bound.owned = std::move(*buffer);
      bound.data = bound.owned.data();
      // The copy is what the entries read: the mapped source pages go now,
      // or loading would hold every weight twice.
      kiln_release_weight(reinterpret_cast<uintptr_t>(tensor->data),
                          static_cast<int64_t>(tensor->byteSize));
    }
    bound.mapped = tensor->data;
    bound.mappedBytes = tensor->byteSize;
    weights.emplace(arg.name, std::move(bound));
  }
  return Error::success();
}

Error Session::prepareWeights() {
  const EntrySignature *prepare = sig.prepareWeights();
  if (!prepare)
    return Error::success();
  std::vector<NamedTensor> outputs;
  std::vector<std::pair<std::string, Bound>> derived;
  for (const SignatureArg &arg : prepare->args) {
    if (arg.role != ArgRole::Output)
      continue;
    TensorView view{arg.dtype, arg.shape, nullptr};
    Expected<AlignedBuffer> buffer =
        AlignedBuffer::allocate(view.byteSize(), false);
    if (!buffer)
      return makeError("derived weight '", arg.name, "': ", buffer.message());
    view.data = buffer->data();
    outputs.push_back({arg.name, view});
    Bound bound;
    bound.data = buffer->data();
    bound.owned = std::move(*buffer);
    derived.emplace_back(arg.name, std::move(bound));
  }
  // An arena larger than the user entries' is lent for this call only.
  AlignedBuffer entriesScratch;
  size_t prepareScratch = scratchBytesOf(*prepare);
  bool lent = prepareScratch > scratch.size();
  if (lent) {
    Expected<AlignedBuffer> buffer =
        AlignedBuffer::allocate(prepareScratch, /*zero=*/false);
    if (!buffer)
      return makeError("scratch memory: ", buffer.message());
    entriesScratch = std::exchange(scratch, std::move(*buffer));
  }
  Error prepared = run(kPrepareWeightsEntry, {}, outputs);
  if (lent)
    scratch = std::move(entriesScratch);
  if (prepared)
    return makeError("preparing the weights: ", prepared.message());
  for (auto &[name, bound] : derived)
    weights.emplace(name, std::move(bound));
  releaseSourceWeights(*prepare);
  return Error::success();
}

void Session::releaseSourceWeights(const EntrySignature &prepare) {
  // Checkpoint tensors that only prepare_weights reads (those now packed)
  // are dead. When they are read in place from a file mapping (the
  // executable or a safetensors file), their pages are dropped from memory;
  // the mapping stays valid and would read them back from the file. Without
  // this the process would hold every packed weight twice. Copies the
  // session made (to align or convert a tensor) are freed too.
  std::set<std::string_view> usedElsewhere;
  for (const EntrySignature *entry : sig.userEntries())
    for (const SignatureArg &arg : entry->args)
      if (arg.role == ArgRole::Weight)
        usedElsewhere.insert(arg.name);
  for (const SignatureArg &arg : prepare.args) {
    auto it = weights.find(arg.name);
    if (arg.role != ArgRole::Weight || usedElsewhere.count(arg.name) ||
        it == weights.end())
      continue;
    const void *mapped = it->second.mapped;
    size_t mappedBytes = it->second.mappedBytes;
    // A copy the session made (to align or convert the tensor) is freed.
    weights.erase(it);
    // Its mapped pages go too (already gone when prepare_weights released
    // them); a file mapping would read them back. (MADV_PAGEOUT measured no
    // effect here.)
    kiln_release_weight(reinterpret_cast<uintptr_t>(mapped),
                        static_cast<int64_t>(mappedBytes));
  }
}

Expected<BoundCall> Session::bind(std::string_view entryName,
                                  const std::vector<NamedTensor> &inputs,
                                  const std::vector<NamedTensor> &outputs) {
  size_t index = 0;
  while (index < sig.entries.size() && sig.entries[index].name != entryName)
    ++index;
  if (index == sig.entries.size())
    return makeError("unknown entry '", entryName,
                     "' (entries: ", sig.entryNames(), ")");
  const EntrySignature &entry = sig.entries[index];
  std::string where = "entry '" + entry.name + "': ";

  // Which given tensor feeds each argument.
  std::vector<const TensorView *> given(entry.args.size(), nullptr);
  for (bool isOutput : {false, true}) {
    ArgRole role = isOutput ? ArgRole::Output : ArgRole::Input;
    const char *what = isOutput ? "output" : "input";
    for (const NamedTensor &named : isOutput ? outputs : inputs) {
      const SignatureArg *arg = entry.find(named.name, role);
      if (!arg)
        return makeError(where, "unknown ", what, " '", named.name, "' (", what,
                         "s: ", listArgs(entry, role), ")");
      size_t i = static_cast<size_t>(arg - entry.args.data());
      if (given[i])
        return makeError(where, what, " '", named.name, "' given twice");
      if (named.view.dtype != arg->dtype || named.view.shape != arg->shape)
        return makeError(where, what, " '", named.name, "': expected ",
                         formatType(arg->dtype, arg->shape), ", got ",
                         formatType(named.view.dtype, named.view.shape));
      if (!named.view.data && named.view.byteSize() != 0)
        return makeError(where, what, " '", named.name, "' has no data");
      given[i] = &named.view;
    }
  }
  for (size_t i = 0; i < entry.args.size(); ++i) {
    const SignatureArg &arg = entry.args[i];
    if ((arg.role == ArgRole::Input || arg.role == ArgRole::Output) &&
        !given[i])
      return makeError(where, "missing ", roleName(arg.role), " '", arg.name,
                       "' (", formatType(arg.dtype, arg.shape), ")");
    // The generated code clamps indices into the table: refuse them here.
    if (arg.role == ArgRole::Input)
      if (Error error = checkIndexValues(arg, *given[i]))
        return makeError(where, "input '", arg.name, "': ", error.message());
  }

  BoundCall call;
  call.function = model.entries[index];
  // Reserve so that references into `staged` stay valid.
  call.staged.reserve(entry.args.size());
  for (size_t i = 0; i < entry.args.size(); ++i) {
    const SignatureArg &arg = entry.args[i];
    void *data = nullptr;
    switch (arg.role) {
    case ArgRole::Weight:
      data = weights.find(arg.name)->second.data;
      break;
    case ArgRole::State:
      data = states.find(arg.name)->second.data();
      break;
    case ArgRole::Scratch:
      data = scratch.data();
      break;
    case ArgRole::Input:
    case ArgRole::Output: {
      const TensorView &view = *given[i];
      data = view.data;
      if (!data || !isAligned(data)) {
        Expected<AlignedBuffer> buffer =
            AlignedBuffer::allocate(view.byteSize(), true);
        if (!buffer)
          return makeError(where, roleName(arg.role), " '", arg.name,
                           "': ", buffer.message());
        BoundCall::Staged staged;
        staged.user = view;
        staged.aligned = std::move(*buffer);
        staged.isOutput = arg.role == ArgRole::Output;
        data = staged.aligned.data();
        call.staged.push_back(std::move(staged));
      }
      break;
    }
    }
    call.args.add(data, arg.shape);
  }
  return call;
}

Error Session::run(std::string_view entryName,
                   const std::vector<NamedTensor> &inputs,
                   const std::vector<NamedTensor> &outputs) {
  Expected<BoundCall> call = bind(entryName, inputs, outputs);
  if (!call)
    return call.takeError();
  (*call)();
  return Error::success();
}

TensorView Session::state(std::string_view name) const {
  auto it = states.find(name);
  if (it == states.end())
    return TensorView{DType::F32, {}, nullptr};
  return it->second.view();
}

void Session::resetStates() {
  for (auto &[name, tensor] : states)
    std::memset(tensor.data(), 0, tensor.byteSize());
}

TensorView Session::weight(std::string_view name) const {
  auto it = weights.find(name);
  if (it == weights.end())
    return TensorView{DType::F32, {}, nullptr};
  const SignatureArg *arg = nullptr;
  for (const SignatureArg *w : sig.shared(ArgRole::Weight))
    if (w->name == name)
      arg = w;
  return TensorView{arg->dtype, arg->shape, it->second.data};
}

std::optional<std::string_view>
Session::embeddedFile(std::string_view name) const {
  return findEmbeddedFile(model, name);
}

} // namespace kiln
