//===- Sampling.cpp - Choosing the next token from logits -----------------===//

#include "runtime/apps/Sampling.h"

#include <algorithm>
#include <cmath>

namespace kiln {

int32_t argmaxToken(const float *logits, size_t count) {
  int32_t best = -1;
  for (size_t i = 0; i < count; ++i) {
    if (std::isnan(logits[i]))
      continue;
    if (best < 0 || logits[i] > logits[best])
      best = static_cast<int32_t>(i);
  }
  return best < 0 ? 0 : best;
}

std::vector<std::pair<int32_t, double>>
samplingDistribution(const float *logits, size_t count,
                     const SamplingOptions &options) {
  std::vector<std::pair<int32_t, double>> kept;
  if (count == 0)
    return kept;
  if (!(options.temperature > 0)) {
    kept.push_back({argmaxToken(logits, count), 1.0});
    return kept;
  }
  // Unnormalised softmax weights of logits / T, relative to the largest.
  double top = -INFINITY;
  for (size_t i = 0; i < count; ++i)
    if (!std::isnan(logits[i]))
      top = std::max(top, static_cast<double>(logits[i]));
  if (!std::isfinite(top)) {
    // Every logit is NaN or -inf (or one is +inf): nothing to weigh.
    kept.push_back({argmaxToken(logits, count), 1.0});
    return kept;
  }
  kept.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    double logit = logits[i];
    if (std::isnan(logit))
      continue;
    double weight = std::exp((logit - top) / options.temperature);
    if (weight > 0)
      kept.push_back({static_cast<int32_t>(i), weight});
  }
  if (kept.empty()) {
    kept.push_back({argmaxToken(logits, count), 1.0});
    return kept;
  }

  auto moreLikely = [](const std::pair<int32_t, double> &a,
                       const std::pair<int32_t, double> &b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  bool sorted = false;
  if (options.topK > 0 && static_cast<uint64_t>(options.topK) < kept.size()) {
    auto middle = kept.begin() + options.topK;
    std::partial_sort(kept.begin(), middle, kept.end(), moreLikely);
    kept.erase(middle, kept.end());
    sorted = true;
  }
  if (options.topP < 1) {
    if (!sorted)
      std::sort(kept.begin(), kept.end(), moreLikely);
    double total = 0;
    for (const auto &entry : kept)
      total += entry.second;
    double threshold = options.topP * total, sum = 0;
    size_t keep = 0;
    while (keep < kept.size()) {
      sum += kept[keep++].second;
      if (sum >= threshold)
        break;
    }
    kept.resize(std::max<size_t>(keep, 1));
  }
  double total = 0;
  for (const auto &entry : kept)
    total += entry.second;
  for (auto &entry : kept)
    entry.second /= total;
  return kept;
}

double uniformUnit(std::mt19937_64 &rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

int32_t sampleToken(const float *logits, size_t count,
                    const SamplingOptions &options, std::mt19937_64 &rng) {
  if (!(options.temperature > 0))
    return argmaxToken(logits, count);
  std::vector<std::pair<int32_t, double>> distribution =
      samplingDistribution(logits, count, options);
  if (distribution.empty())
    return 0;
  double target = uniformUnit(rng), sum = 0;
  for (const auto &entry : distribution) {
    sum += entry.second;
    if (target < sum)
      return entry.first;
  }
  return distribution.back().first;
}

} // namespace kiln
