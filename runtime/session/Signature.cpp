//===- Signature.cpp - The model signature of a generated object ----------===//

#include "runtime/session/Signature.h"

#include <nlohmann/json.hpp>

#include <exception>
#include <map>
#include <set>

namespace kiln {

namespace {

constexpr const char *kPrefix = "model signature: ";

constexpr ArgRole kRoles[] = {ArgRole::Input, ArgRole::Weight, ArgRole::State,
                              ArgRole::Output, ArgRole::Scratch};

Expected<SignatureArg> parseArg(const nlohmann::json &item, std::string where) {
  if (!item.is_object())
    return makeError(where, ": expected an object, found ", item.type_name());
  SignatureArg arg;
  auto nameIt = item.find(contract::kArgNameKey);
  if (nameIt == item.end() || !nameIt->is_string() ||
      nameIt->get<std::string>().empty())
    return makeError(where, ": 'name' must be a non-empty string");
  arg.name = nameIt->get<std::string>();
  where += " ('" + arg.name + "')";

  auto roleIt = item.find(contract::kArgRoleKey);
  if (roleIt == item.end() || !roleIt->is_string())
    return makeError(where, ": 'role' must be a string");
  std::optional<ArgRole> role = parseRoleName(roleIt->get<std::string>());
  if (!role)
    return makeError(where, ": unknown role '", roleIt->get<std::string>(),
                     "' (expected input, weight, state, output or scratch)");
  arg.role = *role;

  auto dtypeIt = item.find(contract::kArgDTypeKey);
  if (dtypeIt == item.end() || !dtypeIt->is_string())
    return makeError(where, ": 'dtype' must be a string");
  std::optional<DType> dtype = parseDTypeName(dtypeIt->get<std::string>());
  if (!dtype)
    return makeError(where, ": unknown dtype '", dtypeIt->get<std::string>(),
                     "' (expected f32, f64, f16, bf16, i32, i64, i8, u8 "
                     "or i1)");
  arg.dtype = *dtype;

  auto shapeIt = item.find(contract::kArgShapeKey);
  if (shapeIt == item.end() || !shapeIt->is_array())
    return makeError(where, ": 'shape' must be an array");
  for (const nlohmann::json &dim : *shapeIt) {
    if (!dim.is_number_integer() || dim.get<int64_t>() < 0)
      return makeError(where,
                       ": 'shape' must hold non-negative "
                       "integers, found ",
                       dim.dump());
    arg.shape.push_back(dim.get<int64_t>());
  }
  if (!checkedNumElements(arg.shape, dtypeSize(arg.dtype)))
    return makeError(where, ": shape ", formatShape(arg.shape),
                     " is too large");

  auto boundIt = item.find("index_bound");
  if (boundIt != item.end()) {
    if (!boundIt->is_number_integer() || boundIt->get<int64_t>() <= 0)
      return makeError(where, ": 'index_bound' must be a positive integer");
    if (arg.role != ArgRole::Input ||
        (arg.dtype != DType::I32 && arg.dtype != DType::I64))
      return makeError(where, ": 'index_bound' is for i32 and i64 inputs");
    arg.indexBound = boundIt->get<int64_t>();
  }
  return arg;
}

Expected<EntrySignature> parseEntry(const nlohmann::json &item,
                                    std::string where) {
  if (!item.is_object())
    return makeError(where, ": expected an object, found ", item.type_name());
  EntrySignature entry;
  auto nameIt = item.find(contract::kEntryNameKey);
  if (nameIt == item.end() || !nameIt->is_string() ||
      nameIt->get<std::string>().empty())
    return makeError(where, ": 'name' must be a non-empty string");
  entry.name = nameIt->get<std::string>();
  where += " ('" + entry.name + "')";

  auto argsIt = item.find(contract::kEntryArgsKey);
  if (argsIt == item.end() || !argsIt->is_array())
    return makeError(where, ": expected an 'args' array");
  std::set<std::string> names;
  size_t position = 0;
  for (const nlohmann::json &argItem : *argsIt) {
    Expected<SignatureArg> arg =
        parseArg(argItem, where + " args[" + std::to_string(position++) + "]");
    if (!arg)
      return arg.takeError();
    if (!names.insert(arg->name).second)
      return makeError(where, " args[", position - 1, "] ('", arg->name,
                       "'): duplicate argument name");
    entry.args.push_back(std::move(*arg));
  }
  auto bytesIt = item.find(contract::kEntryTemporaryBytesKey);
  if (bytesIt != item.end()) {
    if (!bytesIt->is_number_integer() || bytesIt->get<int64_t>() < 0)
      return makeError(where, ": 'temporary_bytes' must be a non-negative "
                              "integer");
    entry.temporaryBytes = bytesIt->get<int64_t>();
  }
  return entry;
}

} // namespace

Error checkIndexValues(const SignatureArg &arg, const TensorView &view) {
  if (!arg.indexBound || !view.data ||
      (view.dtype != DType::I64 && view.dtype != DType::I32))
    return Error::success();
  uint64_t count = view.numElements();
  for (uint64_t i = 0; i < count; ++i) {
    int64_t value = view.dtype == DType::I64
                        ? static_cast<const int64_t *>(view.data)[i]
                        : static_cast<const int32_t *>(view.data)[i];
    if (value >= 0 && value < *arg.indexBound)
      continue;
    // The element's position, row-major.
    std::string at;
    for (size_t d = view.shape.size(), rest = i; d-- > 0;) {
      uint64_t size = static_cast<uint64_t>(view.shape[d]);
      at = std::to_string(rest % size) + (at.empty() ? "" : ", ") + at;
      rest /= size;
    }
    return makeError("index ", value, " at [", at, "] is outside [0, ",
                     *arg.indexBound, ")");
  }
  return Error::success();
}

const char *roleName(ArgRole role) { return contract::argRoleName(role); }

std::optional<ArgRole> parseRoleName(std::string_view name) {
  for (ArgRole role : kRoles)
    if (name == roleName(role))
      return role;
  return std::nullopt;
}

const SignatureArg *EntrySignature::find(std::string_view argName) const {
  for (const SignatureArg &arg : args)
    if (arg.name == argName)
      return &arg;
  return nullptr;
}

const SignatureArg *EntrySignature::find(std::string_view argName,
                                         ArgRole role) const {
  const SignatureArg *arg = find(argName);
  return arg && arg->role == role ? arg : nullptr;
}

size_t EntrySignature::count(ArgRole role) const {
  size_t n = 0;
  for (const SignatureArg &arg : args)
    n += arg.role == role;
  return n;
}

const EntrySignature *ModelSignature::entry(std::string_view name) const {
  for (const EntrySignature &e : entries)
    if (e.name == name)
      return &e;
  return nullptr;
}

std::vector<const SignatureArg *> ModelSignature::checkpointWeights() const {
  const EntrySignature *prepare = prepareWeights();
  std::vector<const SignatureArg *> out;
  for (const SignatureArg *arg : shared(ArgRole::Weight))
    if (!prepare || !prepare->find(arg->name, ArgRole::Output))
      out.push_back(arg);
  return out;
}

std::vector<const EntrySignature *> ModelSignature::userEntries() const {
  std::vector<const EntrySignature *> out;
  for (const EntrySignature &e : entries)
    if (e.name != kPrepareWeightsEntry)
      out.push_back(&e);
  return out;
}

std::string ModelSignature::entryNames() const {
  std::string out;
  for (const EntrySignature *e : userEntries())
    out += (out.empty() ? "'" : ", '") + e->name + "'";
  return out;
}

std::vector<const SignatureArg *> ModelSignature::shared(ArgRole role) const {
  std::vector<const SignatureArg *> out;
  std::set<std::string_view> seen;
  for (const EntrySignature &e : entries)
    for (const SignatureArg &arg : e.args)
      if (arg.role == role && seen.insert(arg.name).second)
        out.push_back(&arg);
  return out;
}

Error checkEntryArgs(const ModelSignature &signature, std::string_view task,
                     const std::string &entryName,
                     const std::vector<ExpectedArg> &expected) {
  const EntrySignature *entry = signature.entry(entryName);
  if (!entry)
    return makeError("model signature: a ", task, " model needs an entry '",
                     entryName, "' (entries: ", signature.entryNames(), ")");
  for (const ExpectedArg &item : expected) {
    const SignatureArg &want = item.arg;
    const SignatureArg *arg = entry->find(want.name, want.role);
    if (!arg) {
      if (item.optional)
        continue;
      return makeError("model signature: entry '", entryName, "' has no ",
                       roleName(want.role), " '", want.name, "' (",
                       formatType(want.dtype, want.shape), ")");
    }
    if (arg->dtype != want.dtype || arg->shape != want.shape)
      return makeError("model signature: entry '", entryName,
                       "': ", roleName(want.role), " '", want.name, "' is ",
                       formatType(arg->dtype, arg->shape), ", expected ",
                       formatType(want.dtype, want.shape));
  }
  for (const SignatureArg &arg : entry->args) {
    if (arg.role != ArgRole::Input && arg.role != ArgRole::Output)
      continue;
    bool known = false;
    for (const ExpectedArg &item : expected)
      known |= item.arg.name == arg.name && item.arg.role == arg.role;
    if (!known)
      return makeError("model signature: entry '", entryName,
                       "' has an unexpected ", roleName(arg.role), " '",
                       arg.name, "'");
  }
  return Error::success();
}

Expected<ModelSignature> parseModelSignature(std::string_view json) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json.begin(), json.end());
  } catch (const std::exception &e) {
    std::string what = e.what();
    if (!what.empty() && what[0] == '[') {
      size_t close = what.find("] ");
      if (close != std::string::npos)
        what = what.substr(close + 2);
    }
    return makeError(kPrefix, "invalid JSON: ", what);
  }

  try {
    if (!root.is_object())
      return makeError(kPrefix, "expected a JSON object, found ",
                       root.type_name());
    auto versionIt = root.find(contract::kSignatureVersionKey);
    if (versionIt != root.end() &&
        (!versionIt->is_number_integer() ||
         versionIt->get<int64_t>() != contract::kSignatureVersion))
      return makeError(kPrefix, "unsupported version ", versionIt->dump(),
                       " (this runtime reads version ",
                       contract::kSignatureVersion, ")");
    auto entriesIt = root.find(contract::kSignatureEntriesKey);
    if (entriesIt == root.end() || !entriesIt->is_array()) {
      if (root.contains(contract::kEntryArgsKey))
        return makeError(kPrefix,
                         "expected an 'entries' array, found a version 1 "
                         "signature (a single 'args' array); recompile the "
                         "model");
      return makeError(kPrefix, "expected an 'entries' array");
    }
    if (entriesIt->empty())
      return makeError(kPrefix, "'entries' is empty");

    ModelSignature signature;
    std::set<std::string> entryNames;
    // Weights and states shared by name: where each was first seen.
    std::map<std::string, std::pair<const SignatureArg *, std::string>> shared;
    size_t position = 0;
    for (const nlohmann::json &item : *entriesIt) {
      std::string where =
          std::string(kPrefix) + "entries[" + std::to_string(position++) + "]";
      Expected<EntrySignature> entry = parseEntry(item, where);
      if (!entry)
        return entry.takeError();
      if (!entryNames.insert(entry->name).second)
        return makeError(where, " ('", entry->name, "'): duplicate entry name");
      signature.entries.push_back(std::move(*entry));
    }
    for (const EntrySignature &entry : signature.entries) {
      for (const SignatureArg &arg : entry.args) {
        if (arg.role != ArgRole::Weight && arg.role != ArgRole::State)
          continue;
        auto [it, inserted] =
            shared.emplace(arg.name, std::make_pair(&arg, entry.name));
        if (inserted)
          continue;
        const SignatureArg &first = *it->second.first;
        if (first.role != arg.role || first.dtype != arg.dtype ||
            first.shape != arg.shape)
          return makeError(
              kPrefix, "'", arg.name, "' is a ", roleName(first.role), " ",
              formatType(first.dtype, first.shape), " in entry '",
              it->second.second, "' but a ", roleName(arg.role), " ",
              formatType(arg.dtype, arg.shape), " in entry '", entry.name, "'");
      }
    }

    auto scratchIt = root.find("kernel_scratch");
    if (scratchIt != root.end()) {
      if (!scratchIt->is_object())
        return makeError(kPrefix, "'kernel_scratch' must be an object");
      kernels::ScratchSizes &sizes = signature.kernelScratch;
      std::pair<const char *, int64_t *> fields[] = {
          {"gemm_depth", &sizes.gemmDepth},
          {"gemm_width", &sizes.gemmWidth},
          {"norm_width", &sizes.normWidth},
          {"head_dim", &sizes.headDim}};
      for (auto [field, value] : fields) {
        auto it = scratchIt->find(field);
        if (it == scratchIt->end())
          continue;
        if (!it->is_number_integer() || it->get<int64_t>() < 0)
          return makeError(kPrefix, "'kernel_scratch.", field,
                           "' must be a non-negative integer");
        *value = it->get<int64_t>();
      }
    }

    auto metadataIt = root.find(contract::kSignatureMetadataKey);
    if (metadataIt != root.end()) {
      if (!metadataIt->is_object())
        return makeError(kPrefix, "'metadata' must be an object, found ",
                         metadataIt->type_name());
      signature.metadata = metadataIt->dump();
      auto taskIt = metadataIt->find("task");
      if (taskIt != metadataIt->end() && taskIt->is_string())
        signature.task = taskIt->get<std::string>();
    } else {
      signature.metadata = "{}";
    }
    return signature;
  } catch (const std::exception &e) {
    return makeError(kPrefix, e.what());
  }
}

} // namespace kiln
