// The probability of the sampled token, computed on eprofd's inference thread after every decode
// step: the AVX2 kernel (SoftmaxAtAvx2, what TokenProbability uses on x86) against its libtorch
// baseline; and greedy sampling's argmax (ArgmaxAvx2) against std::max_element. On a vocabulary
// the size of the demo checkpoint's (49,152) and of Llama 3's (128,256).
//
//   build/bin/softmax_bench
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "daemon/engine/model.h"
#include "daemon/engine/softmax.h"

namespace {

// Median of 7 timings of `reps` calls, µs per call.
template <typename F>
double MicrosPerCall(F f, int reps) {
  std::vector<double> us;
  double sink = 0;
  for (int i = 0; i < 20; ++i) sink += f();  // warm
  for (int t = 0; t < 7; ++t) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) sink += f();
    auto t1 = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / reps);
  }
  if (sink == -1) std::printf(" ");
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

}  // namespace

int main() {
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::printf("softmax(logits)[id], the token probability eprofd records per decode step (median of 7)\n");
  for (size_t vocab : {size_t{49152}, size_t{128256}}) {
    std::vector<float> logits(vocab);
    for (float& x : logits) x = dist(rng);
    const int32_t id = 77;
    logits[id] = 12.0f;
    const double torch_us = MicrosPerCall([&] { return eprof::engine::TokenProbabilityLibtorch(logits, id); }, 500);
    if (!eprof::engine::SoftmaxAtAvx2(logits.data(), logits.size(), id)) {
      std::printf("  vocabulary %zu: libtorch %.1f us; no AVX2/FMA here, TokenProbability uses libtorch\n",
                  vocab, torch_us);
      continue;
    }
    const double avx2_us = MicrosPerCall(
        [&] { return *eprof::engine::SoftmaxAtAvx2(logits.data(), logits.size(), id); }, 500);
    std::printf("  vocabulary %6zu: AVX2 %5.1f us vs libtorch %5.1f us (%.1fx); p = %.9f vs %.9f\n", vocab,
                avx2_us, torch_us, torch_us / avx2_us,
                *eprof::engine::SoftmaxAtAvx2(logits.data(), logits.size(), id),
                eprof::engine::TokenProbabilityLibtorch(logits, id));
  }
  std::printf("argmax(logits), greedy sampling's pick after every decode step (median of 7)\n");
  for (size_t vocab : {size_t{49152}, size_t{128256}}) {
    std::vector<float> logits(vocab);
    for (float& x : logits) x = dist(rng);
    logits[vocab / 3] = 12.0f;
    const double scalar_us = MicrosPerCall(
        [&] { return static_cast<double>(std::max_element(logits.begin(), logits.end()) - logits.begin()); },
        500);
    if (!eprof::engine::ArgmaxAvx2(logits.data(), logits.size())) {
      std::printf("  vocabulary %zu: std::max_element %.1f us; no AVX2 here\n", vocab, scalar_us);
      continue;
    }
    const double avx2_us = MicrosPerCall(
        [&] { return static_cast<double>(*eprof::engine::ArgmaxAvx2(logits.data(), logits.size())); }, 500);
    std::printf("  vocabulary %6zu: AVX2 %5.1f us vs std::max_element %5.1f us (%.1fx); index %zu vs %zu\n",
                vocab, avx2_us, scalar_us, scalar_us / avx2_us,
                *eprof::engine::ArgmaxAvx2(logits.data(), logits.size()),
                static_cast<size_t>(std::max_element(logits.begin(), logits.end()) - logits.begin()));
  }
  return 0;
}
