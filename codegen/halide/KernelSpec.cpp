//===- KernelSpec.cpp - Kernel specs as JSON, checked ---------------------===//

#include "codegen/halide/KernelSpec.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace kiln::halide {

using nlohmann::json;

const char *dtypeName(DType dtype) {
  return dtype == DType::I64 ? "i64" : "f32";
}

std::string KernelSpec::toJson() const {
  // nlohmann's json objects keep keys sorted, so equal specs print equally.
  json args_ = json::array();
  for (const KernelArg &arg : args)
    args_.push_back({{"name", arg.name},
                     {"dtype", dtypeName(arg.dtype)},
                     {"shape", arg.shape}});
  json root = {
      {"op", op},
      {"args", args_},
      {"attrs", attrs},
      {"target", {{"arch", target.arch}, {"features", target.features}}},
      {"schedule", schedule}};
  return root.dump();
}

std::string hashHex(const std::string &bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char hex[17];
  snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

std::string KernelSpec::functionName() const {
  return "kiln_hl_" + op + "_" + hashHex(toJson());
}

namespace {

bool isKnown(const std::string &value, const char *const *begin,
             const char *const *end) {
  return std::any_of(begin, end, [&](const char *k) { return value == k; });
}

/// Fails unless `attrs` has only `allowed` keys.
Error checkAttrKeys(const KernelSpec &spec,
                    std::initializer_list<const char *> allowed) {
  for (auto it = spec.attrs.begin(); it != spec.attrs.end(); ++it)
    if (std::none_of(allowed.begin(), allowed.end(),
                     [&](const char *k) { return it.key() == k; }))
      return makeError("kernel spec: attrs.", it.key(),
                       ": not an attribute of op '", spec.op, "'");
  return Error::success();
}

Error expectArgs(const KernelSpec &spec, size_t count) {
  if (spec.args.size() != count)
    return makeError("kernel spec: op '", spec.op, "' takes ", count,
                     " arguments here, got ", spec.args.size());
  return Error::success();
}

Error expectRank(const KernelArg &arg, size_t rank) {
  if (arg.shape.size() != rank)
    return makeError("kernel spec: argument '", arg.name, "' must have rank ",
                     rank, ", got ", arg.shape.size());
  return Error::success();
}

Error expectDims(const KernelArg &arg, std::vector<int64_t> dims) {
  if (arg.shape != dims) {
    std::string want, got;
    for (int64_t d : dims)
      want += (want.empty() ? "" : "x") + std::to_string(d);
    for (int64_t d : arg.shape)
      got += (got.empty() ? "" : "x") + std::to_string(d);
    return makeError("kernel spec: argument '", arg.name, "' must be ", want,
                     ", got ", got);
  }
  return Error::success();
}

#define KILN_TRY(expr)                                                         \
  do {                                                                         \
    if (Error error_ = (expr))                                                 \
      return error_;                                                           \
  } while (false)

Error checkLinear(const KernelSpec &s) {
  KILN_TRY(checkAttrKeys(s, {"weight_layout", "has_bias", "activation"}));
  bool bias = s.attr("has_bias", false);
  std::string layout = s.attr<std::string>("weight_layout", "out_in");
  std::string activation = s.attr<std::string>("activation", "none");
  if (!isKnown(activation, std::begin(kActivations), std::end(kActivations)))
    return makeError("kernel spec: attrs.activation: unknown '", activation,
                     "'");
  KILN_TRY(expectArgs(s, bias ? 4 : 3));
  const KernelArg &x = s.args[0], &w = s.args[1], &out = s.output();
  KILN_TRY(expectRank(x, 2));
  KILN_TRY(expectRank(out, 2));
  int64_t m = x.shape[0], k = x.shape[1], n = out.shape[1];
  KILN_TRY(expectDims(out, {m, n}));
  if (layout == "panels") {
    KILN_TRY(expectRank(w, 3));
    int64_t width = w.shape[2];
    KILN_TRY(expectDims(w, {(n + width - 1) / width, k, width}));
  } else if (layout == "in_out") {
    KILN_TRY(expectDims(w, {k, n}));
  } else if (layout == "out_in") {
    KILN_TRY(expectDims(w, {n, k}));
  } else {
    return makeError("kernel spec: attrs.weight_layout: unknown '", layout,
                     "' (panels, in_out, out_in)");
  }
  if (bias)
    KILN_TRY(expectDims(s.args[2], {n}));
  return Error::success();
}

Error checkMatmul(const KernelSpec &s) {
  KILN_TRY(checkAttrKeys(s, {"transpose_lhs", "transpose_rhs"}));
  KILN_TRY(expectArgs(s, 3));
  for (const KernelArg &arg : s.args)
    KILN_TRY(expectRank(arg, 3));
  const KernelArg &lhs = s.args[0], &rhs = s.args[1], &out = s.args[2];
  bool tl = s.attr("transpose_lhs", false), tr = s.attr("transpose_rhs", false);
  int64_t b = out.shape[0], m = out.shape[1], n = out.shape[2];
  int64_t k = lhs.shape[tl ? 1 : 2];
  int64_t bl = lhs.shape[0], br = rhs.shape[0];
  if ((bl != b && bl != 1) || (br != b && br != 1))
    return makeError("kernel spec: matmul batch of '", lhs.name, "' and '",
                     rhs.name, "' must be ", b, " or 1");
  KILN_TRY(expectDims(lhs, tl ? std::vector<int64_t>{bl, k, m}
                              : std::vector<int64_t>{bl, m, k}));
  KILN_TRY(expectDims(rhs, tr ? std::vector<int64_t>{br, n, k}
                              : std::vector<int64_t>{br, k, n}));
  return Error::success();
}

Error checkAttention(const KernelSpec &s) {
  KILN_TRY(checkAttrKeys(s, {"mask", "scale"}));
  std::string mask = s.attr<std::string>("mask", "none");
  if (mask != "none" && mask != "causal" && mask != "padding")
    return makeError("kernel spec: attrs.mask: unknown '", mask,
                     "' (none, causal, padding)");
  if (!s.attrs.contains("scale") || !s.attrs["scale"].is_number())
    return makeError("kernel spec: attrs.scale: expected a number");
  bool padding = mask == "padding";
  KILN_TRY(expectArgs(s, padding ? 5 : 4));
  const KernelArg &q = s.args[0], &k = s.args[1], &v = s.args[2];
  for (const KernelArg *arg : {&q, &k, &v, &s.output()})
    KILN_TRY(expectRank(*arg, 4));
  int64_t b = q.shape[0], h = q.shape[1], sq = q.shape[2], d = q.shape[3];
  int64_t sk = k.shape[2], dv = v.shape[3];
  KILN_TRY(expectDims(k, {b, h, sk, d}));
  KILN_TRY(expectDims(v, {b, h, sk, dv}));
  KILN_TRY(expectDims(s.output(), {b, h, sq, dv}));
  if (mask == "causal" && sq > sk)
    return makeError("kernel spec: causal attention with more queries (", sq,
                     ") than keys (", sk, ")");
  if (padding) {
    KILN_TRY(expectDims(s.args[3], {b}));
    if (s.args[3].dtype != DType::I64)
      return makeError("kernel spec: argument '", s.args[3].name,
                       "' must be i64");
  }
  return Error::success();
}

Error checkLayerNorm(const KernelSpec &s) {
  KILN_TRY(checkAttrKeys(s, {"has_residual", "epsilon"}));
  bool residual = s.attr("has_residual", false);
  KILN_TRY(expectArgs(s, residual ? 5 : 4));
  KILN_TRY(expectRank(s.args[0], 2));
  int64_t m = s.args[0].shape[0], d = s.args[0].shape[1];
  size_t i = 1;
  if (residual)
    KILN_TRY(expectDims(s.args[i++], {m, d}));
  KILN_TRY(expectDims(s.args[i++], {d}));
  KILN_TRY(expectDims(s.args[i++], {d}));
  return expectDims(s.output(), {m, d});
}

Error checkRmsNorm(const KernelSpec &s) {
  KILN_TRY(checkAttrKeys(s, {"epsilon"}));
  KILN_TRY(expectArgs(s, 3));
  KILN_TRY(expectRank(s.args[0], 2));
  int64_t m = s.args[0].shape[0], d = s.args[0].shape[1];
  KILN_TRY(expectDims(s.args[1], {d}));
  return expectDims(s.output(), {m, d});
}

Error checkSoftmax(const KernelSpec &s) {
  KILN_TRY(checkAttrKeys(s, {}));
  KILN_TRY(expectArgs(s, 2));
  KILN_TRY(expectRank(s.args[0], 2));
  return expectDims(s.output(), s.args[0].shape);
}

Error checkPatchEmbed(const KernelSpec &s) {
  KILN_TRY(checkAttrKeys(s, {"patch", "has_bias"}));
  bool bias = s.attr("has_bias", false);
  int64_t p = s.attr<int64_t>("patch", 0);
  if (p < 1)
    return makeError("kernel spec: attrs.patch: expected a positive size");
  KILN_TRY(expectArgs(s, bias ? 4 : 3));
  const KernelArg &image = s.args[0], &weight = s.args[1];
  KILN_TRY(expectRank(image, 4));
  int64_t b = image.shape[0], c = image.shape[1], h = image.shape[2],
          w = image.shape[3];
  if (h % p || w % p)
    return makeError("kernel spec: image ", h, "x", w,
                     " is not a whole number of ", p, "x", p, " patches");
  KILN_TRY(expectRank(weight, 4));
  int64_t e = weight.shape[0];
  KILN_TRY(expectDims(weight, {e, c, p, p}));
  if (bias)
    KILN_TRY(expectDims(s.args[2], {e}));
  return expectDims(s.output(), {b, (h / p) * (w / p), e});
}

Error checkElementwise(const KernelSpec &s) {
  KILN_TRY(checkAttrKeys(s, {"program"}));
  if (s.args.size() < 2)
    return makeError("kernel spec: elementwise needs an input and an output");
  const KernelArg &out = s.output();
  size_t inputs = s.args.size() - 1;
  for (size_t i = 0; i < inputs; ++i) {
    const KernelArg &arg = s.args[i];
    KILN_TRY(expectRank(arg, out.shape.size()));
    for (size_t d = 0; d < out.shape.size(); ++d)
      if (arg.shape[d] != out.shape[d] && arg.shape[d] != 1)
        return makeError("kernel spec: input '", arg.name, "' dimension ", d,
                         " does not broadcast to ", out.shape[d]);
  }
  const json &program =
      s.attrs.contains("program") ? s.attrs["program"] : json::array();
  if (!program.is_array() || program.empty())
    return makeError("kernel spec: attrs.program: expected a list of steps");
  static const char *binary[] = {"add", "sub", "mul", "div", "max", "min"};
  static const char *unary[] = {"neg",        "exp",   "tanh", "erf",
                                "sqrt",       "rsqrt", "gelu", "gelu_tanh",
                                "quick_gelu", "silu",  "relu"};
  for (size_t j = 0; j < program.size(); ++j) {
    const json &step = program[j];
    if (!step.is_array() || step.empty() || !step[0].is_string())
      return makeError("kernel spec: attrs.program[", j,
                       "]: expected [op, operand...]");
    std::string op = step[0];
    size_t want;
    if (isKnown(op, std::begin(binary), std::end(binary)))
      want = 2;
    else if (isKnown(op, std::begin(unary), std::end(unary)))
      want = 1;
    else if (op == "const") {
      if (step.size() != 2 || !step[1].is_number())
        return makeError("kernel spec: attrs.program[", j,
                         "]: const takes one number");
      continue;
    } else
      return makeError("kernel spec: attrs.program[", j, "]: unknown op '", op,
                       "'");
    if (step.size() != want + 1)
      return makeError("kernel spec: attrs.program[", j, "]: ", op, " takes ",
                       want, " operands");
    for (size_t o = 1; o < step.size(); ++o)
      if (!step[o].is_number_integer() || step[o].get<int64_t>() < 0 ||
          step[o].get<size_t>() >= inputs + j)
        return makeError("kernel spec: attrs.program[", j, "]: operand ", o,
                         " must name an input or an earlier step");
  }
  return Error::success();
}

} // namespace

Error checkKernelSpec(const KernelSpec &spec) {
  for (const KernelArg &arg : spec.args) {
    int64_t elements = 1;
    for (int64_t d : arg.shape) {
      if (d < 1 || d > kMaxBufferElements)
        return makeError("kernel spec: argument '", arg.name,
                         "' has a dimension out of [1, 2^31): ", d);
      elements *= d;
      if (elements > kMaxBufferElements)
        return makeError("kernel spec: argument '", arg.name,
                         "' has more elements than a Halide buffer holds "
                         "(2^31 - 1)");
    }
  }
  if (spec.args.empty())
    return makeError("kernel spec: no arguments");
  for (size_t i = 0; i + 1 < spec.args.size(); ++i)
    if (spec.args[i].dtype != DType::F32 && !(spec.op == "attention" && i == 3))
      return makeError("kernel spec: argument '", spec.args[i].name,
                       "' must be f32");
  if (spec.output().dtype != DType::F32)
    return makeError("kernel spec: the output must be f32");
  if (spec.op == "linear")
    return checkLinear(spec);
  if (spec.op == "matmul")
    return checkMatmul(spec);
  if (spec.op == "attention")
    return checkAttention(spec);
  if (spec.op == "layer_norm")
    return checkLayerNorm(spec);
  if (spec.op == "rms_norm")
    return checkRmsNorm(spec);
  if (spec.op == "softmax")
    return checkSoftmax(spec);
  if (spec.op == "patch_embed")
    return checkPatchEmbed(spec);
  if (spec.op == "elementwise")
    return checkElementwise(spec);
  return makeError("kernel spec: op: unknown '", spec.op, "'");
}

Expected<KernelSpec> KernelSpec::fromJson(const std::string &text) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object())
    return makeError("kernel spec: not a JSON object");
  KernelSpec spec;
  try {
    spec.op = root.at("op").get<std::string>();
    for (const json &arg : root.at("args")) {
      KernelArg parsed;
      parsed.name = arg.at("name").get<std::string>();
      std::string dtype = arg.at("dtype").get<std::string>();
      if (dtype == "f32")
        parsed.dtype = DType::F32;
      else if (dtype == "i64")
        parsed.dtype = DType::I64;
      else
        return makeError("kernel spec: argument '", parsed.name,
                         "': unknown dtype '", dtype, "'");
      parsed.shape = arg.at("shape").get<std::vector<int64_t>>();
      spec.args.push_back(std::move(parsed));
    }
    if (root.contains("attrs")) {
      spec.attrs = root["attrs"];
      if (!spec.attrs.is_object())
        return makeError("kernel spec: attrs: expected an object");
    }
    if (root.contains("target")) {
      const json &target = root["target"];
      spec.target.arch = target.at("arch").get<std::string>();
      spec.target.features =
          target.at("features").get<std::vector<std::string>>();
    }
    if (root.contains("schedule"))
      spec.schedule = root["schedule"].get<std::string>();
    // The checks read attributes with their expected types.
    if (Error error = checkKernelSpec(spec))
      return error;
  } catch (const json::exception &error) {
    return makeError("kernel spec: a field has the wrong type or is missing (",
                     error.what(), ")");
  }
  return spec;
}

} // namespace kiln::halide
