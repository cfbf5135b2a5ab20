//===- ImageTestUtil.h - Fixtures of the image tests ------------*- C++ -*-===//
//
// The fixtures come from utils/fixtures/make_image_fixtures.py (PIL and
// transformers): test/fixtures/images/cases.json lists them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_RUNTIME_IMAGE_IMAGETESTUTIL_H
#define KILN_TEST_RUNTIME_IMAGE_IMAGETESTUTIL_H

#include "runtime/support/Npy.h"
#include "runtime/support/Tensor.h"

#include "TestUtil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kiln::test {

inline std::string imageFixture(const std::string &name) {
  return std::string(KILN_TEST_FIXTURES) + "/images/" + name;
}

inline nlohmann::json imageCases() {
  std::string text = readFile(imageFixture("cases.json"));
  EXPECT_FALSE(text.empty()) << "missing " << imageFixture("cases.json");
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

/// A fixture .npy (f16 or f32) as floats; empty (with a failure) if absent.
inline std::vector<float> readFixtureFloats(const std::string &path,
                                            Shape *shape = nullptr) {
  Expected<Tensor> tensor = readNpy(path);
  EXPECT_TRUE(tensor) << tensor.message();
  if (!tensor)
    return {};
  std::vector<float> values(tensor->numElements());
  Error error = convertElements(tensor->dtype, tensor->data(), DType::F32,
                                values.data(), values.size());
  EXPECT_FALSE(error) << error.message();
  if (shape)
    *shape = tensor->shape;
  return values;
}

} // namespace kiln::test

#endif // KILN_TEST_RUNTIME_IMAGE_IMAGETESTUTIL_H
