//===- ConfigReader.cpp - Typed fields of a config.json -------------------===//

#include "frontend/ConfigReader.h"

namespace kiln {

const nlohmann::json *ConfigReader::lookup(const char *field) {
  auto it = config.find(field);
  if (it == config.end() || it->is_null())
    return nullptr;
  return &*it;
}

void ConfigReader::fail(const char *field, const std::string &expectation) {
  if (!error)
    error = makeError(path, ": field '", field, "' must be ", expectation,
                      ", got ", lookup(field) ? lookup(field)->dump() : "null");
}

int64_t ConfigReader::integer(const char *field, int64_t fallback,
                              int64_t minimum) {
  const nlohmann::json *value = lookup(field);
  if (!value)
    return fallback;
  if (!value->is_number_integer() || value->get<int64_t>() < minimum) {
    fail(field, "an integer >= " + std::to_string(minimum));
    return fallback;
  }
  return value->get<int64_t>();
}

std::optional<int64_t> ConfigReader::optionalInteger(const char *field,
                                                     int64_t minimum) {
  if (!lookup(field))
    return std::nullopt;
  return integer(field, 0, minimum);
}

double ConfigReader::positive(const char *field, double fallback) {
  const nlohmann::json *value = lookup(field);
  if (!value)
    return fallback;
  if (!value->is_number() || value->get<double>() <= 0) {
    fail(field, "a positive number");
    return fallback;
  }
  return value->get<double>();
}

bool ConfigReader::boolean(const char *field, bool fallback) {
  const nlohmann::json *value = lookup(field);
  if (!value)
    return fallback;
  if (!value->is_boolean()) {
    fail(field, "true or false");
    return fallback;
  }
  return value->get<bool>();
}

std::string ConfigReader::string(const char *field,
                                 const std::string &fallback) {
  const nlohmann::json *value = lookup(field);
  if (!value)
    return fallback;
  if (!value->is_string()) {
    fail(field, "a string");
    return fallback;
  }
  return value->get<std::string>();
}

std::vector<std::string> ConfigReader::strings(const char *field) {
  const nlohmann::json *value = lookup(field);
  std::vector<std::string> result;
  if (!value)
    return result;
  if (!value->is_array()) {
    fail(field, "a list of strings");
    return result;
  }
  for (const nlohmann::json &item : *value) {
    if (!item.is_string()) {
      fail(field, "a list of strings");
      return {};
    }
    result.push_back(item.get<std::string>());
  }
  return result;
}

} // namespace kiln
