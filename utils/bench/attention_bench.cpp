//===- attention_bench.cpp - Flash attention against the unfused form -----===//
//
// Times kiln::kernels::attention (runtime/kernels/Attention.cpp) against the
// unfused computation on causal attention with 12 heads of d = 64 (GPT-2
// small): S = Q K^T materialized by kiln::kernels::sgemmBatched, then scale,
// causal mask and softmax (vectorized exp, rows split over the pool), then
// O = P V by sgemmBatched. Also times the non-causal BERT-base shape and
// decoding steps (one query against a 1024-position cache, of which the
// first L are filled), flash kernel only. With an additive bias on the
// scores, flash against unfused (scale + bias + softmax between the GEMMs):
// Swin's window attention (2 images x 64 windows, 3 heads of d = 32 over 49
// positions, a [1, 64 * 3, 49, 49] relative position bias shared by the
// batch) and T5's (8 heads of d = 64 over 128 positions, a [1, 8, 128, 128]
// bias). Interleaved, after a warm-up; the median of the runs is printed.
// Not part of the CMake build. Build and run from the repository root:
//
//   g++ -O3 -std=c++17 -mavx2 -mfma -pthread -I. -o /tmp/attention_bench \
//       utils/bench/attention_bench.cpp BUILD/lib/libkiln_kernels.a \
//       BUILD/lib/libkiln_threads.a BUILD/lib/libkiln_support.a -ldl
//   /tmp/attention_bench [runs, default 11]
//                        [threads: 0 = 1 and 2 (default), else that count]
//                        [bias: only the biased shapes]
//
// GFLOP/s count 4 * H * d * (visible query-key pairs) for both forms (the
// multiply-adds of Q K^T and P V that the mask leaves), so their ratio is the
// ratio of times; the unfused form also computes the masked half. Extra
// memory: the unfused form's score matrix (H * S * S floats) against the
// flash kernel's per-thread scratch (attentionScratchBytes, times threads).
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/Attention.h"
#include "runtime/kernels/Gemm.h"
#include "runtime/threads/ThreadPool.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

double seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// exp for x <= 0 (Cephes polynomial, as the kernel's): the unfused
/// softmax should not be slowed down by a scalar libm call per element.
inline __m256 exp256(__m256 x) {
  __m256 low = _mm256_set1_ps(-87.3365448f);
  __m256 under = _mm256_cmp_ps(x, low, _CMP_LT_OQ);
  x = _mm256_max_ps(low, x);
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  for (float c : {1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
                  1.6666665459e-1f, 5.0000001201e-1f})
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(c));
  y = _mm256_add_ps(_mm256_fmadd_ps(y, _mm256_mul_ps(r, r), r),
                    _mm256_set1_ps(1.0f));
  __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(under, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

/// Row i of scores (length s): scale, causal mask (keys > i get zero weight,
/// as the lowest-float mask gives), softmax in place.
void softmaxRow(float *row, int64_t i, int64_t s, float scale) {
  int64_t visible = i + 1;
  float mx = -INFINITY;
  for (int64_t j = 0; j < visible; ++j)
    mx = std::max(mx, row[j] * scale);
  __m256 vmx = _mm256_set1_ps(mx), vscale = _mm256_set1_ps(scale);
  __m256 vsum = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= visible; j += 8) {
    __m256 e = exp256(_mm256_fmsub_ps(_mm256_loadu_ps(row + j), vscale, vmx));
    _mm256_storeu_ps(row + j, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vsum);
  float sum = 0.0f;
  for (float v : lanes)
    sum += v;
  for (; j < visible; ++j)
    sum += row[j] = std::exp(row[j] * scale - mx);
  float inv = 1.0f / sum;
  for (j = 0; j < visible; ++j)
    row[j] *= inv;
  std::fill(row + visible, row + s, 0.0f);
}

struct Buffers {
  int64_t heads, sq, sk, d;
  std::vector<float> q, k, v, out;
  Buffers(int64_t heads, int64_t sq, int64_t sk, int64_t d)
      : heads(heads), sq(sq), sk(sk), d(d), q(size_t(heads * sq * d)),
        k(size_t(heads * sk * d)), v(size_t(heads * sk * d)),
        out(size_t(heads * sq * d)) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (auto *buf : {&q, &k, &v})
      for (float &x : *buf)
        x = dist(rng);
  }
  void flash(kiln::kernels::AttentionMask mask, const int64_t *lengths) {
    int64_t qs[4] = {heads * sq * d, sq * d, d, 1};
    int64_t ks[4] = {heads * sk * d, sk * d, d, 1};
    kiln::kernels::attention(1, heads, sq, sk, d, d, q.data(), qs, k.data(), ks,
                             v.data(), ks, out.data(), qs, mask, lengths, 1,
                             1.0f / std::sqrt(float(d)));
  }
};

/// Each timing repeats the call so that it lasts >= 20 ms.
template <typename F> double timeIt(F f, int reps) {
  double t0 = seconds();
  for (int r = 0; r < reps; ++r)
    f();
  return (seconds() - t0) / reps;
}

void runPrefill(int64_t s, bool causal, int threads, int runs) {
  const int64_t heads = 12, d = 64;
  kiln::ThreadPool &pool = kiln::ThreadPool::global();
  pool.setNumThreads(threads);
  Buffers buf(heads, s, s, d);
  std::vector<float> scores(size_t(heads * s * s));
  float scale = 1.0f / std::sqrt(float(d));
  auto mask = causal ? kiln::kernels::AttentionMask::Causal
                     : kiln::kernels::AttentionMask::None;
  auto flash = [&] { buf.flash(mask, nullptr); };
  auto unfused = [&] {
    // The GEMM accumulates: zero the scores (in parallel, like the rest).
    pool.parallelFor(heads * s, 16, [&](int64_t begin, int64_t end) {
      std::fill(scores.data() + begin * s, scores.data() + end * s, 0.0f);
    });
    kiln::kernels::sgemmBatched(heads, s, s, d, buf.q.data(), s * d, d, 1,
                                buf.k.data(), s * d, 1, d, scores.data(), s * s,
                                s, 1);
    pool.parallelFor(heads * s, 16, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        softmaxRow(scores.data() + r * s, causal ? r % s : s - 1, s, scale);
    });
    std::fill(buf.out.begin(), buf.out.end(), 0.0f);
    kiln::kernels::sgemmBatched(heads, s, d, s, scores.data(), s * s, s, 1,
                                buf.v.data(), s * d, d, 1, buf.out.data(),
                                s * d, d, 1);
  };
  double pairs = causal ? double(s) * double(s + 1) / 2 : double(s) * s;
  double flops = 4.0 * heads * d * pairs;
  // Warm up; check that both forms agree.
  flash();
  std::vector<float> flashOut = buf.out;
  unfused();
  double maxDiff = 0.0;
  for (size_t i = 0; i < flashOut.size(); ++i)
    maxDiff = std::max(maxDiff, double(std::fabs(flashOut[i] - buf.out[i])));
  int reps = std::max(1, int(20e-3 / (flops / 50e9 / threads)));
  std::vector<double> tf, tu;
  for (int r = 0; r < runs; ++r) {
    tf.push_back(timeIt(flash, reps));
    tu.push_back(timeIt(unfused, reps));
  }
  double f = median(tf), u = median(tu);
  double scoreBytes = 4.0 * double(heads) * double(s) * double(s);
  double tileBytes =
      double(kiln::kernels::attentionScratchBytes(d, d)) * threads;
  std::printf("%-6s S %4lld  %d thr | flash %8.3f ms %6.1f GFLOP/s | "
              "unfused %8.3f ms %6.1f GFLOP/s | x%5.2f | scores %8.2f MiB vs "
              "scratch %5.1f KiB | max |diff| %.1e\n",
              causal ? "causal" : "none", (long long)s, threads, f * 1e3,
              flops / f * 1e-9, u * 1e3, flops / u * 1e-9, u / f,
              scoreBytes / (1 << 20), tileBytes / 1024, maxDiff);
  std::fflush(stdout);
}

void runDecode(int64_t length, int threads, int runs) {
  const int64_t heads = 12, d = 64, cache = 1024;
  kiln::ThreadPool::global().setNumThreads(threads);
  Buffers buf(heads, 1, cache, d);
  int64_t lengths[1] = {length};
  auto flash = [&] {
    buf.flash(kiln::kernels::AttentionMask::Padding, lengths);
  };
  flash();
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    t.push_back(timeIt(flash, 2000));
  }
  double m = median(t);
  double bytes = 2.0 * 4.0 * double(heads * length * d);
  std::printf("decode Sq 1, cache %lld, length %4lld  %d thr | flash %7.2f "
              "us %6.1f GB/s of K and V\n",
              (long long)cache, (long long)length, threads, m * 1e6,
              bytes / m * 1e-9);
  std::fflush(stdout);
}

/// Scale, bias row and softmax in place over a row of s scores.
void softmaxBiasRow(float *row, const float *bias, int64_t s, float scale) {
  __m256 vscale = _mm256_set1_ps(scale), vmax = _mm256_set1_ps(-INFINITY);
  int64_t j = 0;
  for (; j + 8 <= s; j += 8) {
    __m256 x = _mm256_fmadd_ps(_mm256_loadu_ps(row + j), vscale,
                               _mm256_loadu_ps(bias + j));
    _mm256_storeu_ps(row + j, x);
    vmax = _mm256_max_ps(vmax, x);
  }
  alignas(32) float maxLanes[8];
  _mm256_store_ps(maxLanes, vmax);
  float mx = *std::max_element(maxLanes, maxLanes + 8);
  for (; j < s; ++j) {
    row[j] = std::fma(row[j], scale, bias[j]);
    mx = std::max(mx, row[j]);
  }
  __m256 vmx = _mm256_set1_ps(mx), vsum = _mm256_setzero_ps();
  for (j = 0; j + 8 <= s; j += 8) {
    __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + j), vmx));
    _mm256_storeu_ps(row + j, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vsum);
  float sum = 0.0f;
  for (float v : lanes)
    sum += v;
  for (; j < s; ++j)
    sum += row[j] = std::exp(row[j] - mx);
  float inv = 1.0f / sum;
  for (j = 0; j < s; ++j)
    row[j] *= inv;
}

/// Unmasked attention of `batch` x `heads` over s positions with a
/// [1, heads, s, s] bias shared by the batch: flash against unfused.
void runBiased(const char *label, int64_t batch, int64_t heads, int64_t s,
               int64_t d, int threads, int runs) {
  kiln::ThreadPool &pool = kiln::ThreadPool::global();
  pool.setNumThreads(threads);
  int64_t pairs = batch * heads;
  Buffers buf(pairs, s, s, d);
  std::vector<float> bias(size_t(heads * s * s)), scores(size_t(pairs * s * s));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  for (float &x : bias)
    x = dist(rng);
  float scale = 1.0f / std::sqrt(float(d));
  int64_t strides[4] = {heads * s * d, s * d, d, 1};
  int64_t biasStrides[4] = {0, s * s, s, 1};
  auto flash = [&] {
    kiln::kernels::attention(
        batch, heads, s, s, d, d, buf.q.data(), strides, buf.k.data(), strides,
        buf.v.data(), strides, buf.out.data(), strides, bias.data(),
        biasStrides, kiln::kernels::AttentionMask::None, nullptr, 0, scale);
  };
  // The bias's cost: the same call without it.
  auto flashNoBias = [&] {
    kiln::kernels::attention(
        batch, heads, s, s, d, d, buf.q.data(), strides, buf.k.data(), strides,
        buf.v.data(), strides, buf.out.data(), strides,
        kiln::kernels::AttentionMask::None, nullptr, 0, scale);
  };
  auto unfused = [&] {
    pool.parallelFor(pairs * s, 16, [&](int64_t begin, int64_t end) {
      std::fill(scores.data() + begin * s, scores.data() + end * s, 0.0f);
    });
    kiln::kernels::sgemmBatched(pairs, s, s, d, buf.q.data(), s * d, d, 1,
                                buf.k.data(), s * d, 1, d, scores.data(), s * s,
                                s, 1);
    pool.parallelFor(pairs * s, 16, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        int64_t head = (r / s) % heads, i = r % s;
        softmaxBiasRow(scores.data() + r * s, bias.data() + (head * s + i) * s,
                       s, scale);
      }
    });
    std::fill(buf.out.begin(), buf.out.end(), 0.0f);
    kiln::kernels::sgemmBatched(pairs, s, d, s, scores.data(), s * s, s, 1,
                                buf.v.data(), s * d, d, 1, buf.out.data(),
                                s * d, d, 1);
  };
  double flops = 4.0 * double(pairs) * double(d) * double(s) * double(s);
  flash();
  std::vector<float> flashOut = buf.out;
  unfused();
  double maxDiff = 0.0;
  for (size_t i = 0; i < flashOut.size(); ++i)
    maxDiff = std::max(maxDiff, double(std::fabs(flashOut[i] - buf.out[i])));
  int reps = std::max(1, int(20e-3 / (flops / 50e9 / threads)));
  std::vector<double> tf, tu, tn;
  for (int r = 0; r < runs; ++r) {
    tf.push_back(timeIt(flash, reps));
    tu.push_back(timeIt(unfused, reps));
    tn.push_back(timeIt(flashNoBias, reps));
  }
  double f = median(tf), u = median(tu), n = median(tn);
  std::printf("%-5s B %lld H %3lld S %3lld d %2lld + bias [1, %lld, %lld, "
              "%lld]  %d thr | flash %7.3f ms %6.1f GFLOP/s | unfused %7.3f "
              "ms %6.1f GFLOP/s | x%5.2f | flash without bias %7.3f ms | "
              "max |diff| %.1e\n",
              label, (long long)batch, (long long)heads, (long long)s,
              (long long)d, (long long)heads, (long long)s, (long long)s,
              threads, f * 1e3, flops / f * 1e-9, u * 1e3, flops / u * 1e-9,
              u / f, n * 1e3, maxDiff);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 11;
  int onlyThreads = argc > 2 ? std::atoi(argv[2]) : 0;
  bool onlyBias = argc > 3 && std::string(argv[3]) == "bias";
  std::printf("12 heads, d 64, median of %d runs; attention kernel: %s, "
              "GEMM: %s\n",
              runs, kiln::kernels::attentionIsaName(),
              kiln::kernels::activeIsaName());
  std::vector<int> threadCounts = {1, 2};
  if (onlyThreads > 0)
    threadCounts = {onlyThreads};
  for (int threads : threadCounts) {
    runBiased("swin", 2, 64 * 3, 49, 32, threads, runs);
    runBiased("t5", 1, 8, 128, 64, threads, runs);
    if (onlyBias)
      continue;
    for (int64_t s : {128, 512, 1024, 2048})
      runPrefill(s, true, threads, runs);
    runPrefill(128, false, threads, runs);
    for (int64_t length : {17, 256, 1024})
      runDecode(length, threads, runs);
  }
  return 0;
}
