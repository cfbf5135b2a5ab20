//===- Tune.cpp - Timing a kernel spec on both backends -------------------===//

#include "codegen/halide/generator/Tune.h"

#include "codegen/halide/generator/HalideCompat.h"
#include "codegen/halide/generator/Kernels.h"
#include "runtime/Contract.h"
#include "runtime/kernels/Attention.h"
#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/Norm.h"
#include "runtime/threads/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>

extern "C" int halide_do_par_for(void *, int (*)(void *, int, uint8_t *), int,
                                 int, uint8_t *);

namespace kiln::halide {

namespace {

using Clock = std::chrono::steady_clock;

/// Median milliseconds of `run`: three warm-up calls, then calls until
/// 0.2 s or 200 calls have passed (at least 7).
double medianMs(const std::function<void()> &run) {
  for (int i = 0; i < 3; ++i)
    run();
  std::vector<double> times;
  Clock::time_point begin = Clock::now();
  while (times.size() < 7 ||
         (times.size() < 200 &&
          Clock::now() - begin < std::chrono::milliseconds(200))) {
    Clock::time_point start = Clock::now();
    run();
    times.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start)
            .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

/// Row-major storage of one spec argument, random in [-1, 1] (lengths: the
/// full key count, the costliest case).
struct Storage {
  std::vector<float> f32;
  std::vector<int64_t> i64;
  std::vector<int64_t> shape;
};

Storage makeStorage(const KernelArg &arg, std::mt19937 &random,
                    int64_t lengthValue) {
  Storage storage{{}, {}, arg.shape};
  int64_t count = 1;
  for (int64_t d : arg.shape)
    count *= d;
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  if (arg.dtype == DType::I64)
    storage.i64.assign(count, lengthValue);
  else
    for (int64_t i = 0; i < count; ++i)
      storage.f32.push_back(uniform(random));
  return storage;
}

/// A dense Halide view of `storage` (dimensions reversed).
Halide::Buffer<> halideView(Storage &storage) {
  std::vector<int> sizes(storage.shape.rbegin(), storage.shape.rend());
  if (!storage.i64.empty())
    return Halide::Buffer<int64_t>(storage.i64.data(), sizes);
  return Halide::Buffer<float>(storage.f32.data(), sizes);
}

template <int R> KilnMemRef<R> memref(Storage &storage) {
  KilnMemRef<R> m{storage.f32.data(), storage.f32.data(), 0, {}, {}};
  int64_t stride = 1;
  for (int d = R - 1; d >= 0; --d) {
    m.sizes[d] = storage.shape[d];
    m.strides[d] = stride;
    stride *= storage.shape[d];
  }
  return m;
}

int64_t activationCode(const std::string &name) {
  using contract::Activation;
  static const std::pair<const char *, Activation> codes[] = {
      {"none", Activation::None},
      {"gelu", Activation::Gelu},
      {"gelu_tanh", Activation::GeluTanh},
      {"quick_gelu", Activation::QuickGelu},
      {"silu", Activation::Silu},
      {"relu", Activation::Relu},
      {"tanh", Activation::Tanh}};
  for (auto [text, code] : codes)
    if (name == text)
      return static_cast<int64_t>(code);
  return -1;
}

/// The hand-written kernel the LLVM path calls for `spec`, bound to
/// `storage`, or nothing.
std::function<void()> llvmKernel(const KernelSpec &spec,
                                 std::vector<Storage> &storage) {
  Storage &out = storage.back();
  if (spec.op == "linear" &&
      spec.attr<std::string>("weight_layout", "") == "panels") {
    bool bias = spec.attr("has_bias", false);
    int64_t activation =
        activationCode(spec.attr<std::string>("activation", "none"));
    return [&storage, &out, bias, activation] {
      KilnMemRef<2> a = memref<2>(storage[0]), c = memref<2>(out);
      KilnMemRef<3> b = memref<3>(storage[1]);
      KilnMemRef<1> biasRef = memref<1>(storage[bias ? 2 : 0]);
      _mlir_ciface_kiln_linear_panels_f32(&a, &b, &biasRef, &c, 0, bias,
                                          activation);
    };
  }
  if (spec.op == "matmul" && spec.args[0].shape[0] == spec.args[1].shape[0]) {
    int64_t ta = spec.attr("transpose_lhs", false),
            tb = spec.attr("transpose_rhs", false);
    return [&storage, &out, ta, tb] {
      // The LLVM path fills the output with zeros, then accumulates.
      std::fill(out.f32.begin(), out.f32.end(), 0.0f);
      KilnMemRef<3> a = memref<3>(storage[0]), b = memref<3>(storage[1]),
                    c = memref<3>(out);
      _mlir_ciface_kiln_batch_matmul_f32(&a, &b, &c, ta, tb);
    };
  }
  if (spec.op == "attention") {
    float scale = spec.attrs["scale"].get<float>();
    std::string mask = spec.attr<std::string>("mask", "none");
    return [&storage, &out, scale, mask] {
      KilnMemRef<4> q = memref<4>(storage[0]), k = memref<4>(storage[1]),
                    v = memref<4>(storage[2]), o = memref<4>(out);
      if (mask == "padding") {
        Storage &lengths = storage[3];
        KilnIndexMemRef1 l{
            lengths.i64.data(), lengths.i64.data(), 0, {lengths.shape[0]}, {1}};
        _mlir_ciface_kiln_attention_lengths_f32(&q, &k, &v, &l, &o, scale);
      } else {
        auto code = mask == "causal" ? contract::AttentionMask::Causal
                                     : contract::AttentionMask::None;
        _mlir_ciface_kiln_attention_f32(&q, &k, &v, &o,
                                        static_cast<int64_t>(code), scale);
      }
    };
  }
  if (spec.op == "layer_norm") {
    bool residual = spec.attr("has_residual", false);
    float epsilon = spec.attrs["epsilon"].get<float>();
    return [&storage, &out, residual, epsilon] {
      size_t i = 0;
      KilnMemRef<2> x = memref<2>(storage[i++]);
      KilnMemRef<2> r = residual ? memref<2>(storage[i++]) : x;
      KilnMemRef<1> g = memref<1>(storage[i++]), b = memref<1>(storage[i++]);
      KilnMemRef<2> o = memref<2>(out);
      _mlir_ciface_kiln_layer_norm_f32(&x, &r, &g, &b, &o, epsilon, residual);
    };
  }
  if (spec.op == "rms_norm") {
    float epsilon = spec.attrs["epsilon"].get<float>();
    return [&storage, &out, epsilon] {
      KilnMemRef<2> x = memref<2>(storage[0]), o = memref<2>(out);
      KilnMemRef<1> g = memref<1>(storage[1]);
      _mlir_ciface_kiln_rms_norm_f32(&x, &g, &o, epsilon);
    };
  }
  return nullptr;
}

} // namespace

Expected<TuneResult> tuneKernel(const KernelSpec &spec, int threads) {
  if (threads > 0)
    ThreadPool::global().setNumThreads(threads);
  Expected<Halide::Target> target = makeTarget(spec.target, true);
  if (!target)
    return target.takeError();
  Expected<BuiltKernel> kernel = buildKernel(spec, *target);
  if (!kernel)
    return kernel.takeError();

  std::mt19937 random(7);
  int64_t keys = spec.op == "attention" ? spec.args[1].shape[2] : 0;
  std::vector<Storage> storage;
  for (const KernelArg &arg : spec.args)
    storage.push_back(makeStorage(arg, random, keys));

  Halide::Pipeline pipeline = kernel->pipeline();
  // Parallel loops on Kiln's pool, as in a generated executable.
  pipeline.jit_handlers().custom_do_par_for = reinterpret_cast<int (*)(
      Halide::JITUserContext *,
      int (*)(Halide::JITUserContext *, int, uint8_t *), int, int, uint8_t *)>(
      &halide_do_par_for);
  pipeline.compile_jit(*target);
  for (size_t i = 0; i + 1 < spec.args.size(); ++i)
    kernel->inputs[i].set(halideView(storage[i]));
  Halide::Buffer<> output = halideView(storage.back());
  TuneResult result;
  result.halideMs = medianMs([&] { pipeline.realize(output); });
  if (std::function<void()> llvm = llvmKernel(spec, storage))
    result.llvmMs = medianMs(llvm);
  return result;
}

} // namespace kiln::halide
