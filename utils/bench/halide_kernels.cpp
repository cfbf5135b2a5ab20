//===- halide_kernels.cpp - Halide kernels against the hand-written ones --===//
//
// Times each kernel family of the Halide backend at the shapes of BERT-base
// and GPT-2 small against the runtime's hand-written kernel for the same call
// (what `--backend llvm` links) and, for the linear layers, against OpenBLAS
// and oneDNN:
//
//   halide    the kernel kiln-halide would emit for that call site: the spec
//             the compiler writes (codegen/halide/ConvertToHalideCalls.cpp),
//             built by kiln::halide::buildKernel for the features
//             `kiln compile` picks on this CPU (avx2, fma, avx512,
//             avx512_bf16, avx512_vnni where present; --features F+F+...
//             overrides) through makeTarget (HalideCompat.h), and
//             JIT-compiled (Pipeline::compile_to_callable: the JIT's
//             low-overhead call). Its parallel loops run on
//             kiln::ThreadPool::global(), as in a generated executable
//             (runtime/halide/HalideGlue.cpp): a custom do_par_for hands the
//             iterations out one at a time.
//   kiln      the hand-written kernel through its C interface
//             (_mlir_ciface_kiln_linear_panels_f32, _attention_f32,
//             _attention_lengths_f32, _layer_norm_f32, _rms_norm_f32).
//   openblas  cblas_sgemm on the plain weight [K, N] (cblas_sgemv for
//             M = 1): the product alone, without bias or activation.
//   onednn    a oneDNN matmul with the bias and the activation as post-ops,
//             its weights reordered once into the layout it asks for (as
//             Kiln packs its panels once at load).
//
// Operands are laid out as in the compiled models: linear weights in panels
// 32 wide (`tfm-pack-weights` with AVX-512), attention's Q, K, V and output
// as head-swap views of [B, S, H, D] tensors (the decode rows read the KV
// cache, [1, H, context, D]), padding masks with every key visible unless
// the row says otherwise. Both Kiln columns see the same buffers; the last
// column is the largest |halide - kiln| over the output, relative to
// max |kiln|. One-row products (M = 1, decoding) cycle through copies of
// their weight totalling 128 MiB, four times the L3, so each call reads the
// weight from memory as a decode step does; the other operands stay in the
// caches between calls, as they mostly do in a model.
//
// Each cell is the median of --runs timed runs per implementation, taken in
// --rounds rounds that interleave the implementations; a run repeats the
// call until it lasts >= --min-ms. Rows with more than one thread sleep
// 100 ms before each implementation's round, so that the previous library's
// spinning workers have gone to sleep; every round then starts with untimed
// calls for --warm-ms (20): right after such a pause a 2-thread call can
// take several times its steady time (the woken cores and pool workers
// ramping up), and in a model the kernels run back to back. GEMMs
// report GFLOP/s (2 M N K; attention 4 H D per visible query-key pair) and
// their fraction of --peak-gflops per core times the threads (255: the
// 512-bit fp32 FMA peak of this machine's cores, as shared/tools/roofline.cpp
// measures it); the M = 1 products, decode attention and the row-wise
// kernels report GB/s (each operand read or written once) and their fraction
// of the triad bandwidth (--triad-gbs, 1 and 2 threads). Operands that stay
// in L2 or L3 between runs can go past the triad.
// Softmax has no hand-written kernel (`--backend llvm` lowers it to loops).
//
// Optional CMake target (configured only where OpenBLAS and oneDNN are
// found; `make bench-deps` installs them; not built by default):
//
//   cmake -S . -B build && cmake --build build --target halide_kernel_bench
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
//       build/bin/halide_kernel_bench [--threads N] [--runs 25] [--rounds 5]
//       [--min-ms 1] [--warm-ms 20] [--filter TEXT]
//       [--features avx2+fma+avx512]
//       [--peak-gflops 255] [--triad-gbs 39,47]
//
// Without --threads, every row runs with 1 and then 2 threads. --filter keeps
// the rows whose name contains TEXT (e.g. "linear", "attention", "M=1 ").
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/generator/HalideCompat.h"
#include "codegen/halide/generator/Kernels.h"
#include "runtime/kernels/Attention.h"
#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/Norm.h"
#include "runtime/threads/ThreadPool.h"

#include "Halide.h"
#include <cblas.h>
#include <dlfcn.h>
#include <dnnl.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern "C" void openblas_set_num_threads(int);

namespace {

using kiln::halide::DType;
using kiln::halide::KernelArg;
using kiln::halide::KernelSpec;
namespace contract = kiln::contract;

//===----------------------------------------------------------------------===//
// Options and timing
//===----------------------------------------------------------------------===//

struct Options {
  std::vector<int> threads = {1, 2};
  int runs = 25;
  int rounds = 5;
  double minMs = 1.0;
  double warmMs = 20.0;
  std::string filter;
  double peakPerCore = 255.0;
  double triad[2] = {39.0, 47.0};
};

double seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// 64-byte aligned floats (or int64s), zero-filled.
template <typename T> struct Array {
  explicit Array(size_t n) : size(n) {
    size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    data =
        static_cast<T *>(std::aligned_alloc(64, std::max<size_t>(bytes, 64)));
    std::memset(static_cast<void *>(data), 0, bytes);
  }
  ~Array() { std::free(data); }
  Array(const Array &) = delete;
  Array &operator=(const Array &) = delete;
  T *data;
  size_t size;
};
using Floats = Array<float>;

void fillRandom(Floats &a, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (size_t i = 0; i < a.size; ++i)
    a.data[i] = dist(rng);
}

/// A strided view, outermost dimension first.
struct View {
  void *data;
  std::vector<int64_t> sizes, strides;
};

View dense(void *data, std::vector<int64_t> sizes) {
  std::vector<int64_t> strides(sizes.size(), 1);
  for (int d = static_cast<int>(sizes.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * sizes[d + 1];
  return {data, sizes, strides};
}

template <int R> KilnMemRef<R> memref(const View &v) {
  KilnMemRef<R> m;
  m.allocated = m.aligned = static_cast<float *>(v.data);
  m.offset = 0;
  for (int d = 0; d < R; ++d) {
    m.sizes[d] = v.sizes[d];
    m.strides[d] = v.strides[d];
  }
  return m;
}

//===----------------------------------------------------------------------===//
// Halide kernels, JIT-compiled, on Kiln's pool
//===----------------------------------------------------------------------===//

using HalideTask = int (*)(Halide::JITUserContext *, int, uint8_t *);

/// halide_do_par_for on kiln::ThreadPool::global(), as HalideGlue.cpp does
/// it for generated executables: iterations handed out one at a time.
int parallelForOnPool(Halide::JITUserContext *context, HalideTask task, int min,
                      int size, uint8_t *closure) {
  kiln::ThreadPool &pool = kiln::ThreadPool::global();
  int team = std::min(size, pool.numThreads());
  if (team <= 1) {
    for (int i = 0; i < size; ++i)
      if (int result = task(context, min + i, closure))
        return result;
    return 0;
  }
  std::atomic<int> next{0}, failure{0};
  pool.run(team, [&](int, int) {
    for (int i = next.fetch_add(1); i < size; i = next.fetch_add(1))
      if (int result = task(context, min + i, closure)) {
        int expected = 0;
        failure.compare_exchange_strong(expected, result);
      }
  });
  return failure.load();
}

void halideError(Halide::JITUserContext *, const char *message) {
  std::fprintf(stderr, "error: Halide kernel: %s\n", message);
  std::exit(1);
}

/// The kernel target's features: what `kiln compile` asks for on this CPU
/// (utils/kiln/kiln.cpp), unless --features says otherwise.
std::vector<std::string> &kernelFeatures() {
  static std::vector<std::string> features = [] {
    std::vector<std::string> host;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
      host.push_back("avx2");
    if (__builtin_cpu_supports("fma"))
      host.push_back("fma");
    if (__builtin_cpu_supports("avx512f"))
      host.push_back("avx512");
    if (__builtin_cpu_supports("avx512bf16"))
      host.push_back("avx512_bf16");
    if (__builtin_cpu_supports("avx512vnni"))
      host.push_back("avx512_vnni");
    return host;
  }();
  return features;
}

const Halide::Target &halideTarget() {
  static Halide::Target target = [] {
    kiln::halide::KernelTarget spec;
    spec.features = kernelFeatures();
    kiln::Expected<Halide::Target> made =
        kiln::halide::makeTarget(spec, /*withRuntime=*/true);
    if (!made) {
      std::fprintf(stderr, "error: %s\n", made.message().c_str());
      std::exit(1);
    }
    return *made;
  }();
  return target;
}

/// One call site's Halide kernel with its buffers bound.
class HalideKernel {
public:
  HalideKernel(const KernelSpec &spec, const std::vector<View> &views) {
    kiln::Expected<kiln::halide::BuiltKernel> built =
        kiln::halide::buildKernel(spec, halideTarget());
    if (!built) {
      std::fprintf(stderr, "error: %s\n", built.message().c_str());
      std::exit(1);
    }
    summary = built->scheduleSummary;
    double start = seconds();
    callable = built->pipeline().compile_to_callable(built->arguments(),
                                                     halideTarget());
    compileSeconds = seconds() - start;
    context.handlers.custom_do_par_for = parallelForOnPool;
    context.handlers.custom_error = halideError;
    for (size_t i = 0; i < views.size(); ++i) {
      const View &v = views[i];
      int rank = static_cast<int>(v.sizes.size());
      std::vector<halide_dimension_t> dims(rank);
      for (int d = 0; d < rank; ++d) // Halide's dimension 0 is innermost
        dims[d] = halide_dimension_t(0, static_cast<int>(v.sizes[rank - 1 - d]),
                                     static_cast<int>(v.strides[rank - 1 - d]));
      halide_type_t type = spec.args[i].dtype == DType::I64
                               ? halide_type_t(halide_type_int, 64)
                               : halide_type_t(halide_type_float, 32);
      buffers.emplace_back(type, v.data, rank, dims.data());
    }
    for (auto &buffer : buffers)
      raw.push_back(buffer.raw_buffer());
  }

  void operator()() {
    halide_buffer_t **b = raw.data();
    int result = -1;
    switch (raw.size()) {
    case 2:
      result = callable(&context, b[0], b[1]);
      break;
    case 3:
      result = callable(&context, b[0], b[1], b[2]);
      break;
    case 4:
      result = callable(&context, b[0], b[1], b[2], b[3]);
      break;
    case 5:
      result = callable(&context, b[0], b[1], b[2], b[3], b[4]);
      break;
    case 6:
      result = callable(&context, b[0], b[1], b[2], b[3], b[4], b[5]);
      break;
    default:
      std::fprintf(stderr, "error: %zu kernel arguments\n", raw.size());
      std::exit(1);
    }
    if (result) {
      std::fprintf(stderr, "error: Halide kernel returned %d\n", result);
      std::exit(1);
    }
  }

  /// Points argument `index` at `data` (same shape and strides).
  void setData(size_t index, void *data) {
    raw[index]->host = static_cast<uint8_t *>(data);
  }

  std::string summary;
  double compileSeconds = 0;

private:
  Halide::Callable callable;
  Halide::JITUserContext context;
  std::vector<Halide::Runtime::Buffer<void>> buffers;
  std::vector<halide_buffer_t *> raw;
};

KernelArg arg(const char *name, std::vector<int64_t> shape,
              DType dtype = DType::F32) {
  KernelArg a;
  a.name = name;
  a.dtype = dtype;
  a.shape = std::move(shape);
  return a;
}

KernelSpec makeSpec(const char *op, std::vector<KernelArg> args,
                    nlohmann::json attrs) {
  KernelSpec spec;
  spec.op = op;
  spec.args = std::move(args);
  spec.attrs = std::move(attrs);
  spec.target.features = kernelFeatures();
  if (kiln::Error error = kiln::halide::checkKernelSpec(spec)) {
    std::fprintf(stderr, "error: %s\n", error.message().c_str());
    std::exit(1);
  }
  return spec;
}

//===----------------------------------------------------------------------===//
// Thread counts of the four libraries
//===----------------------------------------------------------------------===//

/// oneDNN runs on libgomp: its omp_set_num_threads, looked up in libgomp
/// itself (the Kiln runtime has an OpenMP shim of the same names).
void setOpenMPThreads(int threads) {
  static auto set = [] {
    void *gomp = dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD);
    return gomp ? reinterpret_cast<void (*)(int)>(
                      dlsym(gomp, "omp_set_num_threads"))
                : nullptr;
  }();
  if (!set) {
    std::fprintf(stderr, "error: oneDNN's libgomp is not loaded\n");
    std::exit(1);
  }
  set(threads);
}

void setThreads(int threads) {
  kiln::ThreadPool::global().setNumThreads(threads);
  Halide::Internal::JITSharedRuntime::set_num_threads(threads);
  openblas_set_num_threads(threads);
  setOpenMPThreads(threads);
}

//===----------------------------------------------------------------------===//
// Rows
//===----------------------------------------------------------------------===//

struct Impl {
  std::string name;
  std::function<void()> call;
};

enum class Metric { GFlops, GBytes };

struct Row {
  std::string name;
  Metric metric;
  double work; ///< FLOPs or bytes per call
  std::vector<Impl> impls;
  /// max |halide - kiln| / max |kiln| after one call of each; < 0: none.
  std::function<double()> check;
};

double relativeDifference(const float *a, const float *b, size_t n) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < n; ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

dnnl::engine &dnnlEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

/// A linear layer: out [M, N] = act(x [M, K] W [K, N] + bias). Products of
/// one row (decoding) cycle through identical copies of the weight that
/// together exceed the L3 several times, so that every call reads its weight
/// from memory, as a decode step (12 layers of weights) does.
class LinearCase {
public:
  LinearCase(int64_t m, int64_t k, int64_t n, const char *activation)
      : m(m), k(k), n(n), p((n + kWidth - 1) / kWidth),
        copies(m == 1 ? static_cast<int>((kColdBytes + 4 * k * n - 1) /
                                         (4 * k * n))
                      : 1),
        activation(activation), x(m * k), weight(copies * k * n),
        panels(copies * p * k * kWidth), bias(n), outHalide(m * n),
        outKiln(m * n), outBlas(m * n), outDnnl(m * n) {
    fillRandom(x, 1);
    fillRandom(weight, 2, 1.0f / std::sqrt(static_cast<float>(k)));
    fillRandom(bias, 3, 0.1f);
    for (int c = 1; c < copies; ++c)
      std::memcpy(weightCopy(c), weight.data, 4 * k * n);
    for (int c = 0; c < copies; ++c) {
      KilnMemRef<2> w = memref<2>(dense(weightCopy(c), {k, n}));
      KilnMemRef<3> pm = memref<3>(dense(panelCopy(c), {p, k, kWidth}));
      _mlir_ciface_kiln_pack_panels_f32(&w, &pm, /*inOut=*/1);
    }

    View xView = dense(x.data, {m, k}), biasView = dense(bias.data, {n});
    View panelView = dense(panels.data, {p, k, kWidth});
    KernelSpec spec = makeSpec("linear",
                               {arg("x", {m, k}), arg("weight", {p, k, kWidth}),
                                arg("bias", {n}), arg("out", {m, n})},
                               {{"weight_layout", "panels"},
                                {"has_bias", true},
                                {"activation", activation}});
    halide = std::make_unique<HalideKernel>(
        spec, std::vector<View>{xView, panelView, biasView,
                                dense(outHalide.data, {m, n})});
    kx = memref<2>(xView);
    kp = memref<3>(panelView);
    kb = memref<1>(biasView);
    ko = memref<2>(dense(outKiln.data, {m, n}));
    code = activationCode(activation);
    setUpDnnl();
  }

  static std::string label(int64_t m, int64_t k, int64_t n,
                           const std::string &activation) {
    return "linear M=" + std::to_string(m) + " K=" + std::to_string(k) +
           " N=" + std::to_string(n) + " " + activation;
  }

  Row row() {
    Row r;
    r.name = label(m, k, n, activation);
    if (m == 1) { // bandwidth bound: the weight dominates
      r.metric = Metric::GBytes;
      r.work = 4.0 * (k * n + k + 2 * n);
    } else {
      r.metric = Metric::GFlops;
      r.work = 2.0 * m * n * k;
    }
    r.impls.push_back({"halide", [this] {
                         halide->setData(1, panelCopy(next(0)));
                         (*halide)();
                       }});
    r.impls.push_back({"kiln", [this] {
                         kp.allocated = kp.aligned = panelCopy(next(1));
                         _mlir_ciface_kiln_linear_panels_f32(
                             &kx, &kp, &kb, &ko, 0, 1,
                             static_cast<int64_t>(code));
                       }});
    r.impls.push_back({"openblas", [this] {
                         float *w = weightCopy(next(2));
                         if (m == 1)
                           cblas_sgemv(CblasRowMajor, CblasTrans, k, n, 1.0f, w,
                                       n, x.data, 1, 0.0f, outBlas.data, 1);
                         else
                           cblas_sgemm(CblasRowMajor, CblasNoTrans,
                                       CblasNoTrans, m, n, k, 1.0f, x.data, k,
                                       w, n, 0.0f, outBlas.data, n);
                       }});
    r.impls.push_back({"onednn", [this] {
                         matmul.execute(stream,
                                        {{DNNL_ARG_SRC, src},
                                         {DNNL_ARG_WEIGHTS, wts[next(3)]},
                                         {DNNL_ARG_BIAS, dbias},
                                         {DNNL_ARG_DST, dst}});
                         stream.wait();
                       }});
    r.check = [this] {
      double dnnlDiff =
          relativeDifference(outDnnl.data, outKiln.data, outKiln.size);
      if (dnnlDiff > 1e-3)
        std::printf("warning: %s: onednn differs from kiln by %.1e\n",
                    activation.c_str(), dnnlDiff);
      return relativeDifference(outHalide.data, outKiln.data, outKiln.size);
    };
    return r;
  }

private:
  static constexpr int64_t kWidth = 32;
  /// The weight copies of a one-row product: 4 x the 32 MiB L3.
  static constexpr int64_t kColdBytes = int64_t(128) << 20;

  static contract::Activation activationCode(const std::string &name) {
    if (name == "gelu")
      return contract::Activation::Gelu;
    if (name == "gelu_tanh")
      return contract::Activation::GeluTanh;
    return contract::Activation::None;
  }

  float *weightCopy(int c) { return weight.data + c * k * n; }
  float *panelCopy(int c) { return panels.data + c * p * k * kWidth; }
  /// The weight copy implementation `impl` uses next.
  int next(int impl) {
    int c = cursor[impl];
    cursor[impl] = (c + 1) % copies;
    return c;
  }

  void setUpDnnl() {
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    dnnl::memory::desc srcMd({m, k}, dt::f32, tag::ab);
    dnnl::memory::desc wtsAny({k, n}, dt::f32, tag::any);
    dnnl::memory::desc wtsPlain({k, n}, dt::f32, tag::ab);
    dnnl::memory::desc biasMd({1, n}, dt::f32, tag::ab);
    dnnl::memory::desc dstMd({m, n}, dt::f32, tag::ab);
    dnnl::post_ops ops;
    dnnl::algorithm algorithm = activation == "gelu"
                                    ? dnnl::algorithm::eltwise_gelu_erf
                                    : dnnl::algorithm::eltwise_gelu_tanh;
    if (activation != "none") {
#if DNNL_VERSION_MAJOR >= 3
      ops.append_eltwise(algorithm, 0.0f, 0.0f);
#else
      ops.append_eltwise(1.0f, algorithm, 0.0f, 0.0f);
#endif
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    dnnl::engine &engine = dnnlEngine();
#if DNNL_VERSION_MAJOR >= 3
    dnnl::matmul::primitive_desc pd(engine, srcMd, wtsAny, biasMd, dstMd, attr);
#else
    dnnl::matmul::primitive_desc pd(
        dnnl::matmul::desc(srcMd, wtsAny, biasMd, dstMd), attr, engine);
#endif
    matmul = dnnl::matmul(pd);
    src = dnnl::memory(srcMd, engine, x.data);
    dbias = dnnl::memory(biasMd, engine, bias.data);
    dst = dnnl::memory(dstMd, engine, outDnnl.data);
    stream = dnnl::stream(engine);
    for (int c = 0; c < copies; ++c) {
      dnnl::memory plain(wtsPlain, engine, weightCopy(c));
      wts.emplace_back(pd.weights_desc(), engine);
      dnnl::reorder(plain, wts.back()).execute(stream, plain, wts.back());
    }
    stream.wait();
  }

  int64_t m, k, n, p;
  int copies;
  int cursor[4] = {0, 0, 0, 0};
  std::string activation;
  Floats x, weight, panels, bias, outHalide, outKiln, outBlas, outDnnl;
  std::unique_ptr<HalideKernel> halide;
  KilnMemRef<2> kx, ko;
  KilnMemRef<3> kp;
  KilnMemRef<1> kb;
  contract::Activation code;
  dnnl::matmul matmul;
  dnnl::memory src, dbias, dst;
  std::vector<dnnl::memory> wts;
  dnnl::stream stream;
};

/// GPT-2's tied LM head on the last position: logits [1, V] = x [1, D] W^T
/// with the embedding W [V, D] as is ("out_in": no bias, no panels; its 154
/// MB exceed the L3). Both backends get it unpacked: the llvm path computes
/// it with kiln_matmul_f32 on W transposed.
class LmHeadCase {
public:
  LmHeadCase(int64_t k, int64_t n)
      : k(k), n(n), x(k), weight(n * k), outHalide(n), outKiln(n), outBlas(n),
        outDnnl(n) {
    fillRandom(x, 31);
    fillRandom(weight, 32, 0.05f);
    View xView = dense(x.data, {1, k}), wView = dense(weight.data, {n, k});
    halide = std::make_unique<HalideKernel>(
        makeSpec("linear",
                 {arg("x", {1, k}), arg("weight", {n, k}), arg("out", {1, n})},
                 {{"weight_layout", "out_in"},
                  {"has_bias", false},
                  {"activation", "none"}}),
        std::vector<View>{xView, wView, dense(outHalide.data, {1, n})});
    kx = memref<2>(xView);
    kw = memref<2>(wView);
    ko = memref<2>(dense(outKiln.data, {1, n}));

    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    dnnl::engine &engine = dnnlEngine();
    dnnl::memory::desc srcMd({1, k}, dt::f32, tag::ab);
    dnnl::memory::desc wtsAny({k, n}, dt::f32, tag::any);
    dnnl::memory::desc dstMd({1, n}, dt::f32, tag::ab);
#if DNNL_VERSION_MAJOR >= 3
    dnnl::matmul::primitive_desc pd(engine, srcMd, wtsAny, dstMd);
#else
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(srcMd, wtsAny, dstMd),
                                    engine);
#endif
    matmul = dnnl::matmul(pd);
    src = dnnl::memory(srcMd, engine, x.data);
    dst = dnnl::memory(dstMd, engine, outDnnl.data);
    stream = dnnl::stream(engine);
    dnnl::memory plain({{k, n}, dt::f32, tag::ba}, engine, weight.data);
    wts = dnnl::memory(pd.weights_desc(), engine);
    dnnl::reorder(plain, wts).execute(stream, plain, wts);
    stream.wait();
  }

  Row row() {
    Row r;
    r.name = label(k, n);
    r.metric = Metric::GBytes;
    r.work = 4.0 * (n * k + k + n);
    r.impls.push_back({"halide", [this] { (*halide)(); }});
    r.impls.push_back({"kiln", [this] {
                         std::memset(outKiln.data, 0, 4 * n);
                         _mlir_ciface_kiln_matmul_f32(&kx, &kw, &ko, 0, 1);
                       }});
    r.impls.push_back({"openblas", [this] {
                         cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f,
                                     weight.data, k, x.data, 1, 0.0f,
                                     outBlas.data, 1);
                       }});
    r.impls.push_back({"onednn", [this] {
                         matmul.execute(stream, {{DNNL_ARG_SRC, src},
                                                 {DNNL_ARG_WEIGHTS, wts},
                                                 {DNNL_ARG_DST, dst}});
                         stream.wait();
                       }});
    r.check = [this] {
      return relativeDifference(outHalide.data, outKiln.data, outKiln.size);
    };
    return r;
  }

  static std::string label(int64_t k, int64_t n) {
    return "lm_head M=1 K=" + std::to_string(k) + " N=" + std::to_string(n) +
           " out_in";
  }

private:
  int64_t k, n;
  Floats x, weight, outHalide, outKiln, outBlas, outDnnl;
  std::unique_ptr<HalideKernel> halide;
  KilnMemRef<2> kx, kw, ko;
  dnnl::matmul matmul;
  dnnl::memory src, wts, dst;
  dnnl::stream stream;
};

/// Attention per (batch, head). Prefill rows: Q, K, V and O are head-swap
/// views of [B, S, H, D] tensors. Decode rows (sq = 1): Q and O likewise,
/// K and V the [B, H, context, D] cache.
class AttentionCase {
public:
  AttentionCase(std::string label, int64_t b, int64_t h, int64_t sq, int64_t sk,
                int64_t d, const char *mask, int64_t length = 0)
      : label(std::move(label)), b(b), h(h), sq(sq), sk(sk), d(d), mask(mask),
        length(length ? length : sk), q(b * sq * h * d), k(b * sk * h * d),
        v(b * sk * h * d), outHalide(b * sq * h * d), outKiln(b * sq * h * d),
        lengths(b) {
    fillRandom(q, 11);
    fillRandom(k, 12);
    fillRandom(v, 13);
    for (int64_t i = 0; i < b; ++i)
      lengths.data[i] = this->length;
    bool decode = sq == 1;
    View qv = headSwap(q.data, sq), ov = headSwap(outHalide.data, sq),
         okv = headSwap(outKiln.data, sq);
    View kv = decode ? dense(k.data, {b, h, sk, d}) : headSwap(k.data, sk);
    View vv = decode ? dense(v.data, {b, h, sk, d}) : headSwap(v.data, sk);
    scale = 1.0f / std::sqrt(static_cast<float>(d));
    std::vector<KernelArg> args = {arg("query", {b, h, sq, d}),
                                   arg("key", {b, h, sk, d}),
                                   arg("value", {b, h, sk, d})};
    std::vector<View> views = {qv, kv, vv};
    bool padding = this->mask == "padding";
    if (padding) {
      args.push_back(arg("lengths", {b}, DType::I64));
      views.push_back(dense(lengths.data, {b}));
    }
    args.push_back(arg("out", {b, h, sq, d}));
    views.push_back(ov);
    halide = std::make_unique<HalideKernel>(
        makeSpec("attention", args, {{"mask", mask}, {"scale", scale}}), views);
    kq = memref<4>(qv);
    kk = memref<4>(kv);
    kvv = memref<4>(vv);
    ko = memref<4>(okv);
    kl.allocated = kl.aligned = lengths.data;
    kl.offset = 0;
    kl.sizes[0] = b;
    kl.strides[0] = 1;
  }

  Row row() {
    Row r;
    r.name = label;
    // Query-key pairs the mask leaves visible.
    double pairs = 0;
    for (int64_t i = 0; i < sq; ++i)
      pairs += mask == "causal" ? static_cast<double>(sk - sq + i + 1)
                                : static_cast<double>(std::min(length, sk));
    if (sq == 1) { // bandwidth bound: the visible keys and values
      r.metric = Metric::GBytes;
      r.work = 4.0 * b * h * d * (2 * pairs + 2);
    } else {
      r.metric = Metric::GFlops;
      r.work = 4.0 * b * h * d * pairs;
    }
    r.impls.push_back({"halide", [this] { (*halide)(); }});
    r.impls.push_back(
        {"kiln", [this] {
           if (mask == "padding")
             _mlir_ciface_kiln_attention_lengths_f32(&kq, &kk, &kvv, &kl, &ko,
                                                     scale);
           else
             _mlir_ciface_kiln_attention_f32(
                 &kq, &kk, &kvv, &ko,
                 static_cast<int64_t>(mask == "causal"
                                          ? contract::AttentionMask::Causal
                                          : contract::AttentionMask::None),
                 scale);
         }});
    r.check = [this] {
      return relativeDifference(outHalide.data, outKiln.data, outKiln.size);
    };
    return r;
  }

private:
  /// [B, H, S, D] view of a [B, S, H, D] tensor.
  View headSwap(float *data, int64_t s) {
    return {data, {b, h, s, d}, {s * h * d, d, h * d, 1}};
  }

  std::string label;
  int64_t b, h, sq, sk, d;
  std::string mask;
  int64_t length;
  Floats q, k, v, outHalide, outKiln;
  Array<int64_t> lengths;
  float scale;
  std::unique_ptr<HalideKernel> halide;
  KilnMemRef<4> kq, kk, kvv, ko;
  KilnIndexMemRef1 kl;
};

/// layer_norm with a residual, rms_norm or softmax over [M, D].
class RowwiseCase {
public:
  RowwiseCase(const char *op, int64_t m, int64_t d)
      : op(op), m(m), d(d), x(m * d), residual(m * d), gamma(d), beta(d),
        outHalide(m * d), outKiln(m * d) {
    fillRandom(x, 21);
    fillRandom(residual, 22);
    fillRandom(gamma, 23);
    fillRandom(beta, 24);
    View xv = dense(x.data, {m, d}), rv = dense(residual.data, {m, d}),
         gv = dense(gamma.data, {d}), bv = dense(beta.data, {d}),
         ov = dense(outHalide.data, {m, d});
    if (this->op == "layer_norm") {
      halide = std::make_unique<HalideKernel>(
          makeSpec("layer_norm",
                   {arg("x", {m, d}), arg("residual", {m, d}),
                    arg("weight", {d}), arg("bias", {d}), arg("out", {m, d})},
                   {{"has_residual", true}, {"epsilon", kEpsilon}}),
          std::vector<View>{xv, rv, gv, bv, ov});
    } else if (this->op == "rms_norm") {
      halide = std::make_unique<HalideKernel>(
          makeSpec("rms_norm",
                   {arg("x", {m, d}), arg("weight", {d}), arg("out", {m, d})},
                   {{"epsilon", kEpsilon}}),
          std::vector<View>{xv, gv, ov});
    } else {
      halide = std::make_unique<HalideKernel>(
          makeSpec("softmax", {arg("x", {m, d}), arg("out", {m, d})},
                   nlohmann::json::object()),
          std::vector<View>{xv, ov});
    }
    kx = memref<2>(xv);
    kr = memref<2>(rv);
    kg = memref<1>(gv);
    kb = memref<1>(bv);
    ko = memref<2>(dense(outKiln.data, {m, d}));
  }

  static std::string label(const std::string &op, int64_t m, int64_t d) {
    return (op == "layer_norm" ? "layer_norm+residual" : op) +
           " M=" + std::to_string(m) + " D=" + std::to_string(d);
  }

  Row row() {
    Row r;
    r.name = label(op, m, d);
    r.metric = Metric::GBytes;
    int64_t tensors = op == "layer_norm" ? 3 : 2;
    int64_t vectors = op == "layer_norm" ? 2 : op == "rms_norm" ? 1 : 0;
    r.work = 4.0 * (tensors * m * d + vectors * d);
    r.impls.push_back({"halide", [this] { (*halide)(); }});
    if (op == "layer_norm")
      r.impls.push_back({"kiln", [this] {
                           _mlir_ciface_kiln_layer_norm_f32(&kx, &kr, &kg, &kb,
                                                            &ko, kEpsilon, 1);
                         }});
    else if (op == "rms_norm")
      r.impls.push_back({"kiln", [this] {
                           _mlir_ciface_kiln_rms_norm_f32(&kx, &kg, &ko,
                                                          kEpsilon);
                         }});
    if (op != "softmax")
      r.check = [this] {
        return relativeDifference(outHalide.data, outKiln.data, outKiln.size);
      };
    return r;
  }

private:
  static constexpr float kEpsilon = 1e-5f;
  std::string op;
  int64_t m, d;
  Floats x, residual, gamma, beta, outHalide, outKiln;
  std::unique_ptr<HalideKernel> halide;
  KilnMemRef<2> kx, kr, ko;
  KilnMemRef<1> kg, kb;
};

//===----------------------------------------------------------------------===//
// Timing and the table
//===----------------------------------------------------------------------===//

/// Seconds per call of `call`: `runs` runs, each repeating the call `reps`
/// times.
std::vector<double> timeRuns(const std::function<void()> &call, int reps,
                             int runs) {
  std::vector<double> times;
  for (int run = 0; run < runs; ++run) {
    double start = seconds();
    for (int i = 0; i < reps; ++i)
      call();
    times.push_back((seconds() - start) / reps);
  }
  return times;
}

const char *kImpls[] = {"halide", "kiln", "openblas", "onednn"};

void runRow(Row &row, int threads, const Options &options) {
  setThreads(threads);
  // Before an implementation's round: with several threads, a pause for the
  // previous library's spinning workers to sleep; then calls for at least
  // --warm-ms, until the cores are awake and running again (a pool's
  // workers woken from a sleep, like an idle vCPU, take milliseconds to
  // reach their steady speed; in a model the kernels run back to back).
  auto prepare = [&](Impl &impl) {
    if (threads > 1)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    double start = seconds();
    do
      impl.call();
    while (seconds() - start < options.warmMs * 1e-3);
  };
  // Repetitions per run, from one call of each implementation after that.
  std::vector<int> reps;
  for (Impl &impl : row.impls) {
    prepare(impl);
    double start = seconds();
    impl.call();
    double once = std::max(seconds() - start, 1e-7);
    reps.push_back(std::max(1, static_cast<int>(options.minMs * 1e-3 / once)));
  }
  double check = row.check ? row.check() : -1;

  std::vector<std::vector<double>> times(row.impls.size());
  int perRound = (options.runs + options.rounds - 1) / options.rounds;
  for (int round = 0; round < options.rounds; ++round)
    for (size_t i = 0; i < row.impls.size(); ++i) {
      prepare(row.impls[i]);
      std::vector<double> t = timeRuns(row.impls[i].call, reps[i], perRound);
      times[i].insert(times[i].end(), t.begin(), t.end());
    }

  bool flops = row.metric == Metric::GFlops;
  double limit = flops ? options.peakPerCore * threads
                       : options.triad[std::min(threads, 2) - 1];
  std::printf("%-44s %-7s", row.name.c_str(), flops ? "GFLOP/s" : "GB/s");
  for (const char *name : kImpls) {
    size_t i = 0;
    while (i < row.impls.size() && row.impls[i].name != name)
      ++i;
    if (i == row.impls.size()) {
      std::printf(" %25s", "-");
      continue;
    }
    double t = median(times[i]);
    double rate = row.work / t * 1e-9;
    std::printf(" %9.4f ms %6.1f %4.0f%%", t * 1e3, rate, 100 * rate / limit);
  }
  double ratio = median(times[1 % times.size()]) / median(times[0]);
  if (row.impls.size() > 1)
    std::printf(" %6.2f", ratio);
  else
    std::printf(" %6s", "-");
  if (check >= 0)
    std::printf(" %8.1e", check);
  std::printf("\n");
  std::fflush(stdout);
}

void usage() {
  std::fprintf(stderr,
               "usage: halide_kernel_bench [--threads N] [--runs R] "
               "[--rounds K] [--min-ms T] [--warm-ms T] [--filter TEXT] "
               "[--features F+F] "
               "[--peak-gflops P] "
               "[--triad-gbs B1,B2]\n");
  std::exit(2);
}

Options parseOptions(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h" || i + 1 >= argc)
      usage();
    const char *value = argv[++i];
    if (flag == "--threads")
      options.threads = {std::max(1, std::atoi(value))};
    else if (flag == "--runs")
      options.runs = std::max(1, std::atoi(value));
    else if (flag == "--rounds")
      options.rounds = std::max(1, std::atoi(value));
    else if (flag == "--min-ms")
      options.minMs = std::atof(value);
    else if (flag == "--warm-ms")
      options.warmMs = std::atof(value);
    else if (flag == "--features") {
      std::vector<std::string> &features = kernelFeatures();
      features.clear();
      std::string list = value;
      for (size_t start = 0; start <= list.size();) {
        size_t end = std::min(list.find('+', start), list.size());
        if (end > start)
          features.push_back(list.substr(start, end - start));
        start = end + 1;
      }
    } else if (flag == "--filter")
      options.filter = value;
    else if (flag == "--peak-gflops")
      options.peakPerCore = std::atof(value);
    else if (flag == "--triad-gbs") {
      if (std::sscanf(value, "%lf,%lf", &options.triad[0], &options.triad[1]) ==
          1)
        options.triad[1] = options.triad[0];
    } else
      usage();
  }
  options.rounds = std::min(options.rounds, options.runs);
  return options;
}

} // namespace

int main(int argc, char **argv) {
  Options options = parseOptions(argc, argv);
  auto wanted = [&](const std::string &name) {
    return options.filter.empty() ||
           name.find(options.filter) != std::string::npos;
  };

  // Every case first (JIT compiles, weight packing), then the timings.
  std::vector<std::unique_ptr<LinearCase>> linears;
  std::vector<std::unique_ptr<AttentionCase>> attentions;
  std::vector<std::unique_ptr<RowwiseCase>> rowwise;
  std::vector<Row> rows;
  double compileStart = seconds();
  auto addLinear = [&](int64_t m, int64_t k, int64_t n, const char *act) {
    if (!wanted(LinearCase::label(m, k, n, act)))
      return;
    linears.push_back(std::make_unique<LinearCase>(m, k, n, act));
    rows.push_back(linears.back()->row());
  };
  // BERT-base (batch 1 and batch 8 of 128 tokens): attention out, QKV,
  // intermediate (GELU), output; GPT-2 small decoding: c_attn, attn c_proj,
  // c_fc (GELU tanh), mlp c_proj.
  for (int64_t m : {128, 1024}) {
    addLinear(m, 768, 768, "none");
    addLinear(m, 768, 2304, "none");
    addLinear(m, 768, 3072, "gelu");
    addLinear(m, 3072, 768, "none");
  }
  addLinear(1, 768, 2304, "none");
  addLinear(1, 768, 768, "none");
  addLinear(1, 768, 3072, "gelu_tanh");
  addLinear(1, 3072, 768, "none");
  std::vector<std::unique_ptr<LmHeadCase>> lmHeads;
  if (wanted(LmHeadCase::label(768, 50257))) {
    lmHeads.push_back(std::make_unique<LmHeadCase>(768, 50257));
    rows.push_back(lmHeads.back()->row());
  }

  auto addAttention = [&](std::string label, int64_t b, int64_t sq, int64_t sk,
                          const char *mask, int64_t length = 0) {
    if (!wanted(label))
      return;
    attentions.push_back(std::make_unique<AttentionCase>(label, b, 12, sq, sk,
                                                         64, mask, length));
    rows.push_back(attentions.back()->row());
  };
  for (int64_t b : {1, 8})
    for (const char *mask : {"none", "padding", "causal"})
      addAttention("attention B=" + std::to_string(b) + " H=12 S=128 D=64 " +
                       mask,
                   b, 128, 128, mask);
  addAttention("attention decode Sk=128 causal", 1, 1, 128, "causal");
  addAttention("attention decode Sk=1024 causal", 1, 1, 1024, "causal");
  // GPT-2's own decode call: the whole cache, the first 128 keys valid.
  addAttention("attention decode cache=1024 len=128 padding", 1, 1, 1024,
               "padding", 128);

  auto addRowwise = [&](const char *op, int64_t m, int64_t d) {
    if (!wanted(RowwiseCase::label(op, m, d)))
      return;
    rowwise.push_back(std::make_unique<RowwiseCase>(op, m, d));
    rows.push_back(rowwise.back()->row());
  };
  for (int64_t m : {128, 1024})
    addRowwise("layer_norm", m, 768);
  for (int64_t m : {128, 1024})
    addRowwise("rms_norm", m, 768);
  addRowwise("softmax", 12 * 128, 128);

  std::printf("Halide kernels (JIT, target %s) against the hand-written ones, "
              "%sand oneDNN %d.%d.%d; %zu kernels set up in %.1f s\n",
              halideTarget().to_string().c_str(), OPENBLAS_VERSION,
              dnnl_version()->major, dnnl_version()->minor,
              dnnl_version()->patch, rows.size(), seconds() - compileStart);
  std::printf("median of %d runs (%d rounds, each after %.0f ms of calls) per "
              "cell, each run >= %.1f ms; %% of %.0f GFLOP/s per core or of "
              "the triad (%.0f GB/s 1 thread, %.0f GB/s 2 threads)\n",
              options.runs, options.rounds, options.warmMs, options.minMs,
              options.peakPerCore, options.triad[0], options.triad[1]);
  std::printf("h/k = kiln time / halide time (> 1: Halide faster); diff = max "
              "|halide - kiln| / max |kiln|\n");
  for (int threads : options.threads) {
    std::printf("\n%d thread(s)\n%-44s %-7s", threads, "kernel", "rate");
    for (const char *name : kImpls)
      std::printf(" %25s", name);
    std::printf(" %6s %8s\n", "h/k", "diff");
    for (Row &row : rows)
      runRow(row, threads, options);
  }
  return 0;
}
