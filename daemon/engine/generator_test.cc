#include "daemon/engine/generator.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "gtest/gtest.h"

namespace eprof::engine {
namespace {

TEST(SampleTokenTest, GreedyTakesTheArgmax) {
  std::mt19937_64 rng(1);
  EXPECT_EQ(SampleToken({0.1f, 3.0f, -2.0f, 2.9f}, SamplingParams{}, &rng), 1);
}

// Greedy sampling over a vocabulary takes the first largest logit, as std::max_element does,
// whichever path finds it (the AVX2 kernel; std::max_element when a logit is NaN).
TEST(SampleTokenTest, GreedyOverAVocabularyIsMaxElement) {
  std::mt19937_64 rng(1);
  std::vector<float> logits(49152);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>((i * 7919) % 1000);
  logits[40001] = 2000.0f;
  logits[40009] = 2000.0f;
  EXPECT_EQ(SampleToken(logits, SamplingParams{}, &rng), 40001);
  logits[5] = std::nanf("");
  const auto want = std::max_element(logits.begin(), logits.end()) - logits.begin();
  EXPECT_EQ(SampleToken(logits, SamplingParams{}, &rng), want);
}

TEST(SampleTokenTest, TopKOneAndTinyTopPAreGreedy) {
  std::mt19937_64 rng(7);
  const std::vector<float> logits = {0.5f, 1.0f, 0.9f, -1.0f};
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(SampleToken(logits, SamplingParams{1.0, 1, 1.0, 0}, &rng), 1);
    EXPECT_EQ(SampleToken(logits, SamplingParams{1.0, 0, 0.01, 0}, &rng), 1);
  }
}

TEST(SampleTokenTest, SeededAndFollowsTheDistribution) {
  const std::vector<float> logits = {0.0f, std::log(3.0f), -100.0f};
  std::mt19937_64 a(42), b(42);
  std::map<int, int> counts;
  for (int i = 0; i < 4000; ++i) {
    const int x = SampleToken(logits, SamplingParams{1.0, 0, 1.0, 0}, &a);
    EXPECT_EQ(x, SampleToken(logits, SamplingParams{1.0, 0, 1.0, 0}, &b));
    counts[x]++;
  }
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[1] / 4000.0, 0.75, 0.03);
  // top_k 2 with p(0) = 0.25: top_p 0.7 keeps only token 1.
  std::mt19937_64 c(3);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(SampleToken(logits, SamplingParams{1.0, 2, 0.7, 0}, &c), 1);
}

}  // namespace
}  // namespace eprof::engine
