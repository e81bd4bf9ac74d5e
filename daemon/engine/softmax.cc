#include "daemon/engine/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace eprof::engine {
namespace {

#if defined(__x86_64__)
// e^x for x <= 0 (Cephes' expf: x = n ln2 + r, |r| <= ln2 / 2, e^r by a degree-5 polynomial,
// 2^n put into the exponent). Below -87.34 the result is clamped at e^-87.34 (~1.2e-38, the
// smallest normal float's neighbourhood) instead of 0; summed with the max's own 1 it is lost.
__attribute__((target("avx2,fma"))) inline __m256 ExpNonPositive(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.336544f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = x - n ln2, with ln2 split in two so that n * ln2_hi is exact.
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

__attribute__((target("avx2,fma"))) std::optional<double> SoftmaxAtAvx2Impl(const float* x, size_t n,
                                                                             size_t id) {
  // Independent accumulators (four maxima, four sums), so that the loops are not bound by the
  // latency of one chain of max / add instructions.
  __m256 vmax[4] = {_mm256_set1_ps(-INFINITY), _mm256_set1_ps(-INFINITY),
                    _mm256_set1_ps(-INFINITY), _mm256_set1_ps(-INFINITY)};
  __m256 unordered = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) {
      const __m256 v = _mm256_loadu_ps(x + i + 8 * k);
      vmax[k] = _mm256_max_ps(vmax[k], v);
      unordered = _mm256_or_ps(unordered, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));  // NaN lanes
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    vmax[0] = _mm256_max_ps(vmax[0], v);
    unordered = _mm256_or_ps(unordered, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  vmax[0] = _mm256_max_ps(_mm256_max_ps(vmax[0], vmax[1]), _mm256_max_ps(vmax[2], vmax[3]));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmax[0]);
  float max = *std::max_element(lanes, lanes + 8);
  bool nan = _mm256_movemask_ps(unordered) != 0;
  for (; i < n; ++i) {
    nan = nan || std::isnan(x[i]);
    max = std::max(max, x[i]);
  }
  if (nan || !std::isfinite(max)) return std::nullopt;

  const __m256 vm = _mm256_set1_ps(max);
  __m256d sums[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(),
                    _mm256_setzero_pd()};
  for (i = 0; i + 16 <= n; i += 16) {
    const __m256 e0 = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    const __m256 e1 = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm));
    sums[0] = _mm256_add_pd(sums[0], _mm256_cvtps_pd(_mm256_castps256_ps128(e0)));
    sums[1] = _mm256_add_pd(sums[1], _mm256_cvtps_pd(_mm256_extractf128_ps(e0, 1)));
    sums[2] = _mm256_add_pd(sums[2], _mm256_cvtps_pd(_mm256_castps256_ps128(e1)));
    sums[3] = _mm256_add_pd(sums[3], _mm256_cvtps_pd(_mm256_extractf128_ps(e1, 1)));
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 e = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    sums[0] = _mm256_add_pd(sums[0], _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    sums[1] = _mm256_add_pd(sums[1], _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  alignas(32) double partial[4];
  _mm256_store_pd(partial, _mm256_add_pd(_mm256_add_pd(sums[0], sums[1]), _mm256_add_pd(sums[2], sums[3])));
  double sum = partial[0] + partial[1] + partial[2] + partial[3];
  for (; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - max);
  return std::exp(static_cast<double>(x[id]) - max) / sum;
}

__attribute__((target("avx2"))) std::optional<size_t> ArgmaxAvx2Impl(const float* x, size_t n) {
  // Pass 1: the maximum, and whether any element is a NaN (max_ps would hide it).
  __m256 max8 = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 nan8 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    max8 = _mm256_max_ps(max8, v);
    nan8 = _mm256_or_ps(nan8, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  if (_mm256_movemask_ps(nan8) != 0) return std::nullopt;
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, max8);
  float max = lanes[0];
  for (float l : lanes) max = std::max(max, l);
  for (size_t j = i; j < n; ++j) {
    if (std::isnan(x[j])) return std::nullopt;
    max = std::max(max, x[j]);
  }
  // Pass 2: its first position.
  const __m256 want = _mm256_set1_ps(max);
  for (i = 0; i + 8 <= n; i += 8) {
    const int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), want, _CMP_EQ_OQ));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
  for (; i < n; ++i) {
    if (x[i] == max) return i;
  }
  return std::nullopt;  // unreachable: max is one of the elements
}
#endif

}  // namespace

std::optional<size_t> ArgmaxAvx2(const float* x, size_t n) {
#if defined(__x86_64__)
  static const bool supported = __builtin_cpu_supports("avx2");
  if (!supported || n == 0) return std::nullopt;
  return ArgmaxAvx2Impl(x, n);
#else
  (void)x;
  (void)n;
  return std::nullopt;
#endif
}

std::optional<double> SoftmaxAtAvx2(const float* x, size_t n, size_t id) {
#if defined(__x86_64__)
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!supported || id >= n) return std::nullopt;
  return SoftmaxAtAvx2Impl(x, n, id);
#else
  (void)x;
  (void)n;
  (void)id;
  return std::nullopt;
#endif
}

}  // namespace eprof::engine
