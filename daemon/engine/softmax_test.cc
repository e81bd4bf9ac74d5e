#include "daemon/engine/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace eprof::engine {
namespace {

double Reference(const std::vector<float>& v, size_t id) {
  double max = v[0];
  for (float x : v) max = std::max<double>(max, x);
  double sum = 0;
  for (float x : v) sum += std::exp(static_cast<double>(x) - max);
  return std::exp(static_cast<double>(v[id]) - max) / sum;
}

bool Supported() { return SoftmaxAtAvx2(std::vector<float>{0.0f}.data(), 1, 0).has_value(); }

TEST(SoftmaxAtAvx2, MatchesADoublePrecisionSoftmaxOnAVocabulary) {
  if (!Supported()) GTEST_SKIP() << "no AVX2/FMA on this CPU: TokenProbability uses libtorch";
  std::mt19937 rng(11);
  for (float sigma : {0.01f, 1.0f, 4.0f, 20.0f}) {
    std::normal_distribution<float> dist(0.0f, sigma);
    std::vector<float> logits(49152);
    for (float& x : logits) x = dist(rng);
    logits[321] += 5 * sigma;
    for (size_t id : {size_t{321}, size_t{0}, size_t{49151}, size_t{4097}}) {
      const double want = Reference(logits, id);
      std::optional<double> got = SoftmaxAtAvx2(logits.data(), logits.size(), id);
      ASSERT_TRUE(got.has_value());
      EXPECT_NEAR(*got, want, 1e-6 * want + 1e-300) << "sigma " << sigma << " id " << id;
    }
  }
}

// Every exp the kernel computes, across its range: p = e^t / (1 + e^t) for x = {0, t}.
TEST(SoftmaxAtAvx2, EachExpIsAccurateFromZeroToTheUnderflowLimit) {
  if (!Supported()) GTEST_SKIP() << "no AVX2/FMA on this CPU";
  double worst = 0;
  for (double t = -87.0; t <= 0.0; t += 0.0137) {
    // Eight copies, so that the vector loop (not the scalar tail) computes them.
    std::vector<float> x(16, static_cast<float>(t));
    x[0] = 0.0f;
    const double et = std::exp(static_cast<double>(static_cast<float>(t)));
    const double want = et / (1.0 + 15.0 * et);
    std::optional<double> got = SoftmaxAtAvx2(x.data(), x.size(), 1);
    ASSERT_TRUE(got.has_value());
    worst = std::max(worst, std::abs(*got - want) / want);
  }
  EXPECT_LT(worst, 1e-6);
}

TEST(SoftmaxAtAvx2, OddLengthsUseTheScalarTail) {
  if (!Supported()) GTEST_SKIP() << "no AVX2/FMA on this CPU";
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  for (size_t n = 1; n <= 27; ++n) {
    std::vector<float> x(n);
    for (float& v : x) v = dist(rng);
    for (size_t id = 0; id < n; ++id) {
      std::optional<double> got = SoftmaxAtAvx2(x.data(), n, id);
      ASSERT_TRUE(got.has_value());
      EXPECT_NEAR(*got, Reference(x, id), 1e-6 * Reference(x, id)) << "n " << n << " id " << id;
    }
  }
}

TEST(SoftmaxAtAvx2, MaskedAndHugeLogits) {
  if (!Supported()) GTEST_SKIP() << "no AVX2/FMA on this CPU";
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> masked(24, -inf);
  masked[5] = 2.0f;
  masked[17] = 2.0f;
  EXPECT_DOUBLE_EQ(*SoftmaxAtAvx2(masked.data(), masked.size(), 5), 0.5);
  EXPECT_LT(*SoftmaxAtAvx2(masked.data(), masked.size(), 0), 1e-37);  // e^-inf: ~0
  std::vector<float> huge(16, -1000.0f);
  huge[3] = 1000.0f;
  huge[9] = 999.0f;  // no overflow: everything is relative to the max
  EXPECT_NEAR(*SoftmaxAtAvx2(huge.data(), huge.size(), 3), 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
}

TEST(SoftmaxAtAvx2, LeavesNaNInfiniteMaxAndOutOfRangeIdsToTheCaller) {
  if (!Supported()) GTEST_SKIP() << "no AVX2/FMA on this CPU";
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x(20, 1.0f);
  EXPECT_FALSE(SoftmaxAtAvx2(x.data(), x.size(), 20).has_value());
  for (size_t at : {size_t{2}, size_t{19}}) {  // in the vector loop and in the tail
    std::vector<float> nan = x;
    nan[at] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_FALSE(SoftmaxAtAvx2(nan.data(), nan.size(), 0).has_value()) << at;
    std::vector<float> big = x;
    big[at] = inf;
    EXPECT_FALSE(SoftmaxAtAvx2(big.data(), big.size(), 0).has_value()) << at;
  }
}


size_t FirstMax(const std::vector<float>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

bool ArgmaxSupported() { return ArgmaxAvx2(std::vector<float>{0.0f}.data(), 1).has_value(); }

TEST(ArgmaxAvx2, FindsWhatMaxElementFindsAtEveryLengthAndPosition) {
  if (!ArgmaxSupported()) GTEST_SKIP() << "no AVX2 on this CPU: greedy sampling uses max_element";
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  for (size_t n : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{17}, size_t{49152},
                   size_t{128257}}) {
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    // The maximum at the start, at the end of the last full vector, in the tail and in between.
    const size_t last_full = n >= 8 ? (n / 8) * 8 - 1 : 0;
    for (size_t at : {size_t{0}, n - 1, n / 2, last_full}) {
      std::vector<float> w = v;
      w[at] = 100.0f;
      EXPECT_EQ(ArgmaxAvx2(w.data(), n), FirstMax(w)) << "n " << n << " at " << at;
    }
    EXPECT_EQ(ArgmaxAvx2(v.data(), n), FirstMax(v)) << "n " << n;
  }
}

TEST(ArgmaxAvx2, TiesGoToTheFirstAndSignedZerosAreEqual) {
  if (!ArgmaxSupported()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::vector<float> v(40, -1.0f);
  v[13] = 2.0f;
  v[29] = 2.0f;
  v[37] = 2.0f;  // in the tail
  EXPECT_EQ(ArgmaxAvx2(v.data(), v.size()), 13u);
  std::vector<float> zeros(20, -3.0f);
  zeros[9] = -0.0f;
  zeros[4] = 0.0f;
  zeros[2] = -0.0f;
  EXPECT_EQ(ArgmaxAvx2(zeros.data(), zeros.size()), FirstMax(zeros));
  EXPECT_EQ(ArgmaxAvx2(zeros.data(), zeros.size()), 2u);
  std::vector<float> inf(33, std::numeric_limits<float>::lowest());
  inf[31] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ArgmaxAvx2(inf.data(), inf.size()), 31u);
  std::vector<float> all_minus_inf(12, -std::numeric_limits<float>::infinity());
  EXPECT_EQ(ArgmaxAvx2(all_minus_inf.data(), all_minus_inf.size()), 0u);
}

TEST(ArgmaxAvx2, LeavesNaNsAndEmptyInputToTheCaller) {
  if (!ArgmaxSupported()) GTEST_SKIP() << "no AVX2 on this CPU";
  for (size_t at : {size_t{0}, size_t{5}, size_t{16}, size_t{19}}) {
    std::vector<float> v(20, 1.0f);
    v[at] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_EQ(ArgmaxAvx2(v.data(), v.size()), std::nullopt) << "NaN at " << at;
  }
  EXPECT_EQ(ArgmaxAvx2(nullptr, 0), std::nullopt);
}

}  // namespace
}  // namespace eprof::engine
