//===- npy-compare.cpp - Compare a .npy result with a reference -----------===//
//
//   npy-compare ACTUAL.npy EXPECTED.npy [--tol T]
//
// Passes when dtypes and shapes agree and, for floating point data,
// max|actual - expected| <= T * max(1, max|expected|) (default T = 1e-5);
// integer data must match exactly. Prints the max error either way.
//
//===----------------------------------------------------------------------===//

#include "runtime/support/Npy.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace kiln;

static std::vector<double> toDoubles(const Tensor &tensor) {
  std::vector<double> values(tensor.numElements());
  std::vector<float> floats(values.size());
  const void *data = tensor.data();
  switch (tensor.dtype) {
  case DType::F64:
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = static_cast<const double *>(data)[i];
    return values;
  case DType::I64:
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = static_cast<double>(static_cast<const int64_t *>(data)[i]);
    return values;
  case DType::I32:
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = static_cast<const int32_t *>(data)[i];
    return values;
  default:
    if (convertElements(tensor.dtype, data, DType::F32, floats.data(),
                        values.size()))
      return {};
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = floats[i];
    return values;
  }
}

int main(int argc, char **argv) {
  if (argc != 3 && !(argc == 5 && std::strcmp(argv[3], "--tol") == 0)) {
    std::fprintf(stderr, "usage: npy-compare ACTUAL.npy EXPECTED.npy "
                         "[--tol T]\n");
    return 2;
  }
  double tolerance = argc == 5 ? std::atof(argv[4]) : 1e-5;
  Expected<Tensor> actual = readNpy(argv[1]);
  Expected<Tensor> expected = readNpy(argv[2]);
  for (auto *result : {&actual, &expected}) {
    if (!*result) {
      std::fprintf(stderr, "error: %s\n", result->message().c_str());
      return 1;
    }
  }
  if (actual->dtype != expected->dtype || actual->shape != expected->shape) {
    std::fprintf(stderr, "error: %s is %s but %s is %s\n", argv[1],
                 formatType(actual->dtype, actual->shape).c_str(), argv[2],
                 formatType(expected->dtype, expected->shape).c_str());
    return 1;
  }
  std::vector<double> a = toDoubles(*actual), e = toDoubles(*expected);
  double magnitude = 1.0, maxError = 0.0;
  size_t worst = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    magnitude = std::max(magnitude, std::fabs(e[i]));
    double error = std::fabs(a[i] - e[i]);
    if (!(error <= maxError)) { // NaN counts as the worst error.
      maxError = std::isnan(error) ? INFINITY : error;
      worst = i;
    }
  }
  bool exact = !isFloatingPoint(actual->dtype);
  double allowed = exact ? 0.0 : tolerance * magnitude;
  std::printf("%s: max abs error %.3g at flat index %zu (allowed %.3g)\n",
              argv[1], maxError, worst, allowed);
  if (maxError > allowed) {
    std::fprintf(stderr,
                 "error: %s differs from %s: %.9g vs %.9g at flat index %zu\n",
                 argv[1], argv[2], a.empty() ? 0.0 : a[worst],
                 e.empty() ? 0.0 : e[worst], worst);
    return 1;
  }
  return 0;
}
