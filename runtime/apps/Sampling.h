//===- Sampling.h - Choosing the next token from logits ---------*- C++ -*-===//
//
// Greedy decoding and temperature / top-k / top-p sampling, in the order
// Hugging Face `generate` applies them: logits / temperature, keep the top k,
// keep the smallest set of most likely tokens whose probability reaches p,
// renormalise, draw. Random numbers come from std::mt19937_64 through a
// fixed 53-bit conversion, so a seed gives the same tokens on every platform.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_APPS_SAMPLING_H
#define KILN_RUNTIME_APPS_SAMPLING_H

#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace kiln {

struct SamplingOptions {
  /// 0: greedy. Otherwise logits are divided by it before the softmax.
  double temperature = 0;
  /// Keep the k most likely tokens (ties: lower id first); 0 = off.
  int64_t topK = 0;
  /// Keep the smallest set of most likely tokens whose probabilities sum to
  /// at least p (always at least one token); 1 = off.
  double topP = 1;
};

/// The id of the largest logit; ties go to the lowest id (like
/// torch.argmax). NaN logits are ignored; 0 when every logit is NaN.
int32_t argmaxToken(const float *logits, size_t count);

/// The distribution a sampling step draws from: (id, probability) pairs with
/// non-zero probabilities summing to 1. Sorted by decreasing probability
/// (ties: lower id first) when top-k or top-p is on, else in id order.
/// Greedy options (temperature 0) give the argmax with probability 1.
std::vector<std::pair<int32_t, double>>
samplingDistribution(const float *logits, size_t count,
                     const SamplingOptions &options);

/// A uniform double in [0, 1) from the top 53 bits of one draw.
double uniformUnit(std::mt19937_64 &rng);

/// The next token: argmaxToken for temperature 0, else a draw (one rng call)
/// from samplingDistribution.
int32_t sampleToken(const float *logits, size_t count,
                    const SamplingOptions &options, std::mt19937_64 &rng);

} // namespace kiln

#endif // KILN_RUNTIME_APPS_SAMPLING_H
