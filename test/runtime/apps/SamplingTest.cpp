//===- SamplingTest.cpp - Greedy, temperature, top-k and top-p ------------===//

#include "runtime/apps/Sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace kiln;

namespace {

using Distribution = std::vector<std::pair<int32_t, double>>;

std::vector<int32_t> ids(const Distribution &d) {
  std::vector<int32_t> out;
  for (const auto &entry : d)
    out.push_back(entry.first);
  return out;
}

double sum(const Distribution &d) {
  double total = 0;
  for (const auto &entry : d)
    total += entry.second;
  return total;
}

SamplingOptions sampling(double temperature, int64_t topK = 0,
                         double topP = 1) {
  SamplingOptions options;
  options.temperature = temperature;
  options.topK = topK;
  options.topP = topP;
  return options;
}

} // namespace

TEST(SamplingTest, Argmax) {
  float logits[] = {1, 3, 2, 3};
  EXPECT_EQ(argmaxToken(logits, 4), 1); // ties: the lowest id
  float nan = std::numeric_limits<float>::quiet_NaN();
  float withNan[] = {nan, -1, nan, -0.5f};
  EXPECT_EQ(argmaxToken(withNan, 4), 3);
  float allNan[] = {nan, nan};
  EXPECT_EQ(argmaxToken(allNan, 2), 0);
  float inf = std::numeric_limits<float>::infinity();
  float infinite[] = {-inf, -inf, -inf};
  EXPECT_EQ(argmaxToken(infinite, 3), 0);
}

TEST(SamplingTest, TemperatureOnly) {
  float logits[] = {0, std::log(2.0f), std::log(4.0f), -INFINITY};
  Distribution d = samplingDistribution(logits, 4, sampling(1));
  EXPECT_EQ(ids(d), (std::vector<int32_t>{0, 1, 2})); // id order, no -inf
  EXPECT_NEAR(d[0].second, 1.0 / 7, 1e-6);
  EXPECT_NEAR(d[2].second, 4.0 / 7, 1e-6);
  EXPECT_NEAR(sum(d), 1, 1e-12);

  // Temperature 2 flattens: weights 1, sqrt 2, 2.
  d = samplingDistribution(logits, 4, sampling(2));
  EXPECT_NEAR(d[1].second / d[0].second, std::sqrt(2.0), 1e-5);

  // Temperature 0 is greedy.
  d = samplingDistribution(logits, 4, sampling(0));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0], (std::pair<int32_t, double>{2, 1.0}));
}

TEST(SamplingTest, TopK) {
  float logits[] = {1, 3, 3, 2, -1};
  Distribution d = samplingDistribution(logits, 5, sampling(1, 2));
  EXPECT_EQ(ids(d), (std::vector<int32_t>{1, 2}));
  EXPECT_NEAR(d[0].second, 0.5, 1e-12);
  d = samplingDistribution(logits, 5, sampling(1, 1));
  EXPECT_EQ(ids(d), (std::vector<int32_t>{1})); // ties: the lowest id
  d = samplingDistribution(logits, 5, sampling(1, 3));
  EXPECT_EQ(ids(d), (std::vector<int32_t>{1, 2, 3}));
  // k >= vocabulary: off (id order).
  d = samplingDistribution(logits, 5, sampling(1, 5));
  EXPECT_EQ(ids(d), (std::vector<int32_t>{0, 1, 2, 3, 4}));
  d = samplingDistribution(logits, 5, sampling(1, 100));
  EXPECT_EQ(d.size(), 5u);
}

TEST(SamplingTest, TopP) {
  // Probabilities 0.5, 0.2, 0.3 at temperature 1.
  float logits[] = {std::log(0.5f), std::log(0.2f), std::log(0.3f)};
  EXPECT_EQ(ids(samplingDistribution(logits, 3, sampling(1, 0, 0.49))),
            (std::vector<int32_t>{0}));
  EXPECT_EQ(ids(samplingDistribution(logits, 3, sampling(1, 0, 0.51))),
            (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(ids(samplingDistribution(logits, 3, sampling(1, 0, 0.79))),
            (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(ids(samplingDistribution(logits, 3, sampling(1, 0, 0.81))),
            (std::vector<int32_t>{0, 2, 1}));
  // p = 0 still keeps the most likely token; p = 1 is off.
  Distribution d = samplingDistribution(logits, 3, sampling(1, 0, 0));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].first, 0);
  EXPECT_EQ(d[0].second, 1.0);
  EXPECT_EQ(ids(samplingDistribution(logits, 3, sampling(1, 0, 1))),
            (std::vector<int32_t>{0, 1, 2}));
  // Renormalised over what is kept.
  d = samplingDistribution(logits, 3, sampling(1, 0, 0.6));
  EXPECT_NEAR(d[0].second, 0.625, 1e-6);
  EXPECT_NEAR(d[1].second, 0.375, 1e-6);

  // After top-k 2 the kept pair is 0.625 / 0.375: top-p applies to that.
  EXPECT_EQ(ids(samplingDistribution(logits, 3, sampling(1, 2, 0.6))),
            (std::vector<int32_t>{0}));
  EXPECT_EQ(ids(samplingDistribution(logits, 3, sampling(1, 2, 0.65))),
            (std::vector<int32_t>{0, 2}));

  // Equal probabilities: the lowest ids are kept first.
  float flat[] = {0, 0, 0, 0};
  EXPECT_EQ(ids(samplingDistribution(flat, 4, sampling(1, 0, 0.5))),
            (std::vector<int32_t>{0, 1}));
}

TEST(SamplingTest, DrawsFollowTheDistribution) {
  float logits[] = {std::log(0.5f), std::log(0.2f), std::log(0.3f)};
  std::mt19937_64 rng(42);
  int counts[3] = {0, 0, 0};
  const int draws = 20000;
  for (int i = 0; i < draws; ++i)
    ++counts[sampleToken(logits, 3, sampling(1), rng)];
  EXPECT_NEAR(counts[0] / double(draws), 0.5, 0.02);
  EXPECT_NEAR(counts[1] / double(draws), 0.2, 0.02);
  EXPECT_NEAR(counts[2] / double(draws), 0.3, 0.02);

  // The same seed gives the same tokens.
  std::mt19937_64 a(7), b(7);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(sampleToken(logits, 3, sampling(0.7, 0, 0.9), a),
              sampleToken(logits, 3, sampling(0.7, 0, 0.9), b));

  // top-k 1 is greedy whatever the draws.
  float ties[] = {0.5f, 2, 1, 2};
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(sampleToken(ties, 4, sampling(3, 1), rng), 1);
  // Greedy does not draw.
  std::mt19937_64 c(9), d(9);
  EXPECT_EQ(sampleToken(ties, 4, sampling(0), c), 1);
  EXPECT_EQ(c(), d());

  for (int i = 0; i < 1000; ++i) {
    double u = uniformUnit(rng);
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}
