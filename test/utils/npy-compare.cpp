//===- npy-compare.cpp - Compare a .npy result with a reference -----------===//
//
//   npy-compare ACTUAL.npy EXPECTED.npy [--atol A] [--rtol R]
//
// Passes when the dtypes and shapes agree and every element passes:
//   - floating point (f32, f64, f16, bf16):
//       |actual - expected| <= A + R * |expected|
//     with A and R from the command line, both 0 unless given: without
//     them floating-point data must match exactly. Where the expected value
//     is not finite (+inf, -inf, NaN) or is the dtype's lowest finite value
//     (finfo.min, the value attention masks use) the actual value must be
//     the same exactly; NaN matches NaN.
//   - integers and booleans (i64, i32, i8, u8, i1): exactly; A and R do not
//     apply.
// Reads what the runtime's .npy reader reads (<f4, <f8, <f2, <i4, <i8, |b1)
// plus numpy's int8 and uint8 (|i1, |u1).
//
// Exit status: 0 when everything matches (one summary line on stdout), 1
// when something differs (one report on stderr: the files, how many
// elements differ, the worst one by index, its actual and expected values
// and the tolerance), 2 for a bad command line or an unreadable file.
//
//===----------------------------------------------------------------------===//

#include "runtime/support/Npy.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using namespace kiln;

namespace {

const char *const kUsage =
    "usage: npy-compare ACTUAL.npy EXPECTED.npy [--atol A] [--rtol R]\n"
    "  Every element must satisfy |actual - expected| <= A + R * |expected|\n"
    "  (floating point; A and R default to 0, i.e. exact). Expected values\n"
    "  that are +-inf, NaN or the dtype's lowest finite value (a mask) must\n"
    "  match exactly; integers and booleans always match exactly. Dtypes\n"
    "  and shapes must agree. Exit 0: match, 1: mismatch, 2: bad usage or\n"
    "  unreadable file.\n";

/// Reads a .npy file with the runtime's reader; numpy's |i1 and |u1, which
/// that reader does not know, are read as the one-byte |b1 and retyped.
Expected<Tensor> readForCompare(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return makeError(path, ": cannot open: ", std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(file)),
                    std::istreambuf_iterator<char>());
  if (file.bad())
    return makeError(path, ": cannot read: ", std::strerror(errno));
  std::optional<DType> retype;
  // The header follows the magic, the version and its own length (2 bytes
  // in format 1.0, 4 in 2.0 and 3.0); parseNpy reports malformed files.
  if (bytes.size() >= 12 && bytes.compare(0, 6, "\x93NUMPY") == 0) {
    const auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
    size_t prefix = p[6] == 1 ? 10 : 12;
    size_t length = p[8] | size_t(p[9]) << 8;
    if (p[6] != 1)
      length |= size_t(p[10]) << 16 | size_t(p[11]) << 24;
    std::string header = bytes.substr(prefix, length);
    for (auto [descr, type] : {std::pair{"'|i1'", DType::I8},
                               std::pair{"'|u1'", DType::U8}}) {
      size_t at = header.find(descr);
      if (at != std::string::npos) {
        bytes.replace(prefix + at, 5, "'|b1'");
        retype = type;
        break;
      }
    }
  }
  Expected<Tensor> tensor = parseNpy(bytes.data(), bytes.size(), path);
  if (tensor && retype)
    tensor->dtype = *retype;
  return tensor;
}

bool parseTolerance(const char *text, double &value) {
  char *end = nullptr;
  errno = 0;
  value = std::strtod(text, &end);
  return *text && end && *end == '\0' && errno == 0 && std::isfinite(value) &&
         value >= 0;
}

double floatAt(const Tensor &t, size_t i) {
  const void *data = t.data();
  switch (t.dtype) {
  case DType::F32:
    return static_cast<const float *>(data)[i];
  case DType::F64:
    return static_cast<const double *>(data)[i];
  case DType::F16:
    return halfToFloat(static_cast<const uint16_t *>(data)[i]);
  case DType::BF16:
    return bfloat16ToFloat(static_cast<const uint16_t *>(data)[i]);
  default:
    return 0;
  }
}

int64_t intAt(const Tensor &t, size_t i) {
  const void *data = t.data();
  switch (t.dtype) {
  case DType::I64:
    return static_cast<const int64_t *>(data)[i];
  case DType::I32:
    return static_cast<const int32_t *>(data)[i];
  case DType::I8:
    return static_cast<const int8_t *>(data)[i];
  case DType::U8:
  case DType::I1:
    return static_cast<const uint8_t *>(data)[i];
  default:
    return 0;
  }
}

/// The lowest finite value of a floating-point dtype.
double lowestOf(DType type) {
  switch (type) {
  case DType::F64:
    return std::numeric_limits<double>::lowest();
  case DType::F16:
    return -65504.0;
  case DType::BF16:
    return bfloat16ToFloat(0xff7f);
  default:
    return std::numeric_limits<float>::lowest();
  }
}

std::string formatIndex(const Shape &shape, size_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] ? static_cast<int64_t>(flat % shape[d]) : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  std::string out = "[";
  for (size_t d = 0; d < index.size(); ++d)
    out += (d ? "," : "") + std::to_string(index[d]);
  return out + "]";
}

std::string formatFloat(double value, DType type) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, type == DType::F64 ? "%.17g" : "%.9g",
                value);
  return buffer;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<const char *> files;
  double atol = 0, rtol = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--atol" || arg == "--rtol") {
      double &slot = arg == "--atol" ? atol : rtol;
      if (i + 1 >= argc || !parseTolerance(argv[i + 1], slot)) {
        std::fprintf(stderr,
                     "error: %s expects a non-negative number, got '%s'\n%s",
                     arg.c_str(), i + 1 < argc ? argv[i + 1] : "", kUsage);
        return 2;
      }
      ++i;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      std::fprintf(stderr, "error: unknown option '%s'\n%s", arg.c_str(),
                   kUsage);
      return 2;
    }
    files.push_back(argv[i]);
  }
  if (files.size() != 2) {
    std::fprintf(stderr, "error: expected two .npy files, got %zu\n%s",
                 files.size(), kUsage);
    return 2;
  }
  const char *actualPath = files[0], *expectedPath = files[1];
  Expected<Tensor> actual = readForCompare(actualPath);
  Expected<Tensor> expected = readForCompare(expectedPath);
  for (auto *result : {&actual, &expected}) {
    if (!*result) {
      std::fprintf(stderr, "error: %s\n", result->message().c_str());
      return 2;
    }
  }
  if (actual->dtype != expected->dtype || actual->shape != expected->shape) {
    std::fprintf(stderr, "error: %s is %s but %s is %s\n", actualPath,
                 formatType(actual->dtype, actual->shape).c_str(),
                 expectedPath,
                 formatType(expected->dtype, expected->shape).c_str());
    return 1;
  }

  const DType type = expected->dtype;
  const bool floating = isFloatingPoint(type);
  const size_t count = expected->numElements();
  const double lowest = floating ? lowestOf(type) : 0;
  size_t mismatches = 0, worst = 0;
  double worstExcess = -1; // How far past its allowance; inf: exact miss.
  double maxAbsError = 0, maxRelError = 0;
  for (size_t i = 0; i < count; ++i) {
    double excess;
    if (!floating) {
      excess = intAt(*actual, i) == intAt(*expected, i) ? 0 : INFINITY;
    } else {
      double a = floatAt(*actual, i), e = floatAt(*expected, i);
      if (std::isnan(e)) {
        excess = std::isnan(a) ? 0 : INFINITY;
      } else if (!std::isfinite(e) || e == lowest) {
        excess = a == e ? 0 : INFINITY;
      } else {
        double error = std::fabs(a - e);
        if (std::isnan(error))
          error = INFINITY;
        maxAbsError = std::max(maxAbsError, error);
        if (e != 0)
          maxRelError = std::max(maxRelError, error / std::fabs(e));
        double allowed = atol + rtol * std::fabs(e);
        excess = error <= allowed ? 0 : error - allowed;
      }
    }
    if (excess > 0) {
      ++mismatches;
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
  }

  std::string tolerance =
      floating ? "atol " + formatFloat(atol, DType::F32) + ", rtol " +
                     formatFloat(rtol, DType::F32)
               : std::string("exact");
  if (mismatches == 0) {
    if (floating)
      std::printf("%s: %zu elements match (max abs error %.3g, max rel error "
                  "%.3g; %s)\n",
                  actualPath, count, maxAbsError, maxRelError,
                  tolerance.c_str());
    else
      std::printf("%s: %zu elements match exactly\n", actualPath, count);
    return 0;
  }

  std::string a, e, allowed;
  if (floating) {
    double av = floatAt(*actual, worst), ev = floatAt(*expected, worst);
    a = formatFloat(av, type);
    e = formatFloat(ev, type);
    if (std::isfinite(ev) && ev != lowest)
      allowed = "abs error " + formatFloat(std::fabs(av - ev), DType::F32) +
                ", allowed " +
                formatFloat(atol + rtol * std::fabs(ev), DType::F32);
    else
      allowed = "the expected value must match exactly";
  } else {
    a = std::to_string(intAt(*actual, worst));
    e = std::to_string(intAt(*expected, worst));
    allowed = "integers must match exactly";
  }
  std::fprintf(stderr,
               "error: %s differs from %s in %zu of %zu elements (%s); worst "
               "at %s: actual %s, expected %s (%s)\n",
               actualPath, expectedPath, mismatches, count, tolerance.c_str(),
               formatIndex(expected->shape, worst).c_str(), a.c_str(),
               e.c_str(), allowed.c_str());
  return 1;
}
