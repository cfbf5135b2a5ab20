//===- Signature.cpp - The model signature of a generated object ----------===//

#include "runtime/Signature.h"

#include <nlohmann/json.hpp>

#include <exception>
#include <set>

namespace kiln {

const char *roleName(ArgRole role) {
  switch (role) {
  case ArgRole::Input:
    return "input";
  case ArgRole::Weight:
    return "weight";
  case ArgRole::Output:
    return "output";
  }
  return "?";
}

std::optional<ArgRole> parseRoleName(std::string_view name) {
  for (ArgRole role : {ArgRole::Input, ArgRole::Weight, ArgRole::Output})
    if (name == roleName(role))
      return role;
  return std::nullopt;
}

const SignatureArg *Signature::find(std::string_view name) const {
  for (const SignatureArg &arg : args)
    if (arg.name == name)
      return &arg;
  return nullptr;
}

Expected<Signature> parseSignature(std::string_view json) {
  const char *prefix = "model signature: ";
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
    return makeError(prefix, "invalid JSON: ", what);
  }

  try {
    if (!root.is_object())
      return makeError(prefix, "expected a JSON object, found ",
                       root.type_name());
    Signature signature;
    auto entryIt = root.find("entry");
    if (entryIt != root.end()) {
      if (!entryIt->is_string())
        return makeError(prefix, "'entry' must be a string");
      signature.entry = entryIt->get<std::string>();
    }
    auto argsIt = root.find("args");
    if (argsIt == root.end() || !argsIt->is_array())
      return makeError(prefix, "expected an 'args' array");

    std::set<std::string> names;
    size_t position = 0;
    for (const nlohmann::json &item : *argsIt) {
      std::string where =
          std::string(prefix) + "args[" + std::to_string(position++) + "]";
      if (!item.is_object())
        return makeError(where, ": expected an object, found ",
                         item.type_name());
      SignatureArg arg;
      auto nameIt = item.find("name");
      if (nameIt == item.end() || !nameIt->is_string() ||
          nameIt->get<std::string>().empty())
        return makeError(where, ": 'name' must be a non-empty string");
      arg.name = nameIt->get<std::string>();
      where += " ('" + arg.name + "')";
      if (!names.insert(arg.name).second)
        return makeError(where, ": duplicate argument name");

      auto roleIt = item.find("role");
      if (roleIt == item.end() || !roleIt->is_string())
        return makeError(where, ": 'role' must be a string");
      std::optional<ArgRole> role = parseRoleName(roleIt->get<std::string>());
      if (!role)
        return makeError(where, ": unknown role '", roleIt->get<std::string>(),
                         "' (expected input, weight or output)");
      arg.role = *role;

      auto dtypeIt = item.find("dtype");
      if (dtypeIt == item.end() || !dtypeIt->is_string())
        return makeError(where, ": 'dtype' must be a string");
      std::optional<DType> dtype = parseDTypeName(dtypeIt->get<std::string>());
      if (!dtype)
        return makeError(where, ": unknown dtype '",
                         dtypeIt->get<std::string>(),
                         "' (expected f32, f64, f16, bf16, i32, i64, i8, u8 "
                         "or i1)");
      arg.dtype = *dtype;

      auto shapeIt = item.find("shape");
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
      signature.args.push_back(std::move(arg));
    }
    return signature;
  } catch (const std::exception &e) {
    return makeError(prefix, e.what());
  }
}

} // namespace kiln
