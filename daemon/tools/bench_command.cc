// eprof-llm bench: prefill and decode throughput at each observer detail level, side by side in
// one process, each level's ratio to `none`, the machine's read bandwidth and the decode roofline
// (bandwidth ÷ weight bytes read per token). Prefill: one run per level per round, order
// rotating, best of --repeat. Decode: the levels take turns token by token inside one generation
// per round, summed over --repeat rounds.
//
// --rounds-from-stdin: load once, then run one decode round (prefill, then --new-tokens steps at
// level none) per line read from standard input, printing {"decode_tokens_per_s": X} for each;
// ends at end of input. For benchmarks that alternate this engine with another process (E D E D
// ...) in rounds short enough for this VM's drifting speed, without a process start per round.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <vector>

#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/command_args.h"
#include "daemon/engine/generator.h"
#include "daemon/engine/model.h"
#include "daemon/engine/threading.h"
#include "daemon/tools/tool_common.h"
#include "nlohmann/json.hpp"

namespace {

using namespace eprof;

// What a profiler's observer does at minimum: note each boundary's time and count it.
class CountingObserver final : public engine::Observer {
 public:
  void OnLayerBegin(int, int64_t t) override { Note(t); }
  void OnLayerEnd(int, int64_t t) override { Note(t); }
  void OnComponentBegin(engine::Component, int, int64_t t) override {
    Note(t);
    begin_ns_ = t;
  }
  void OnComponentEnd(engine::Component c, int, int64_t t) override {
    Note(t);
    component_ns_[static_cast<int>(c)] += t - begin_ns_;
  }
  // Time inside each component, ns, summed over the run (components level and above).
  const int64_t* component_ns() const { return component_ns_; }
  void OnActivationStats(engine::Component, int, const engine::ActivationStats& s) override {
    sum_ += s.mean_abs;
  }
  void OnAttentionStats(int, const std::vector<engine::AttentionHeadStats>& h) override {
    sum_ += h.empty() ? 0 : h[0].entropy_nats;
  }
  int64_t events() const { return events_; }

 private:
  void Note(int64_t t) {
    last_ns_ = t;
    ++events_;
  }
  int64_t last_ns_ = 0, events_ = 0, begin_ns_ = 0;
  int64_t component_ns_[32] = {};
  double sum_ = 0;
};

// Sums [p, p + n) with the widest loads this CPU has; each thread reads one sequential stream,
// the pattern that gets the most out of the memory system (and the one decode's GEMV uses), so
// the roofline is not flattered by a slow reader.
#if defined(__x86_64__)
__attribute__((target("avx2"))) float SumAvx2(const float* p, size_t n) {
  __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a = _mm256_add_ps(a, _mm256_loadu_ps(p + i));
    b = _mm256_add_ps(b, _mm256_loadu_ps(p + i + 8));
    c = _mm256_add_ps(c, _mm256_loadu_ps(p + i + 16));
    d = _mm256_add_ps(d, _mm256_loadu_ps(p + i + 24));
  }
  float out[8];
  _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
  float s = 0;
  for (float v : out) s += v;
  for (; i < n; ++i) s += p[i];
  return s;
}
#endif

float SumFloats(const float* p, size_t n) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) return SumAvx2(p, n);
#endif
  float a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

// Read bandwidth over a buffer much larger than the caches, all cores, median of 7 passes
// (the first is a warm-up), bytes/s. The median, not the best: single passes vary a lot on a
// shared machine and an outlier would inflate the roofline.
double MeasureReadBandwidth(size_t bytes, int threads) {
  std::vector<float> buf(bytes / sizeof(float));
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<float>(i & 1023);
  std::vector<double> rates;
  for (int round = 0; round < 8; ++round) {
    std::atomic<uint64_t> sink{0};
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    const size_t chunk = buf.size() / threads;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        ready.fetch_add(1);
        while (!go.load()) {
        }
        sink += static_cast<uint64_t>(SumFloats(buf.data() + t * chunk, chunk));
      });
    }
    while (ready.load() != threads) {
    }
    const auto t0 = std::chrono::steady_clock::now();
    go.store(true);
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (round > 0) rates.push_back(static_cast<double>(chunk * threads * sizeof(float)) / s);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

struct LevelResult {
  std::string name;
  engine::DetailLevel level;
  double prefill_tps = 0, decode_tps = 0;
  int64_t events_per_token = 0;
  std::vector<int64_t> component_ns;  // per Component value, decode steps only, all rounds
};

}  // namespace

int RunBenchCommand(int argc, char** argv) {
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "bench: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  eprof::CommandArgs args;
  if (absl::Status parsed = args.Parse(
          argc, argv,
          {{"model"}, {"prompt-tokens"}, {"new-tokens"}, {"detail"}, {"repeat"}, {"dtype"}, {"device"},
           {"torch-threads"}, {"blas-threads"}, {"gemv-threads"}, {"matmul"}, {"bandwidth-mb"},
           {"max-seq-len"}, {"json", 0, false}, {"rounds-from-stdin", 0, false}});
      !parsed.ok() || !(parsed = args.NoPositionals()).ok()) {
    return fail(parsed);
  }
  if (args.Has("help")) {
    eprof::tools::PrintCommandUsage("bench", stdout);
    return 0;
  }
  if (!args.Has("model")) {
    std::fprintf(stderr, "bench: --model is required\n");
    return 2;
  }
  auto prompt_tokens = args.GetInt("prompt-tokens", 64);
  auto new_tokens = args.GetInt("new-tokens", 32);
  auto repeat = args.GetInt("repeat", 3);
  auto torch_threads = args.GetInt("torch-threads", 1);
  auto blas_threads = args.GetInt("blas-threads", 0);
  auto gemv_threads = args.GetInt("gemv-threads", 0);
  auto bw_mb = args.GetInt("bandwidth-mb", 256);
  auto max_seq_len = args.GetInt("max-seq-len", 0);
  for (const absl::Status& s : {prompt_tokens.status(), new_tokens.status(), repeat.status(),
                                torch_threads.status(), blas_threads.status(), gemv_threads.status(),
                                bw_mb.status(), max_seq_len.status()}) {
    if (!s.ok()) return fail(s);
  }
  if (*repeat < 1) {
    std::fprintf(stderr, "bench: --repeat must be >= 1 (rounds of measurement)\n");
    return 2;
  }
  if (*prompt_tokens < 1 || *new_tokens < 2) {
    std::fprintf(stderr, "bench: --prompt-tokens must be >= 1 and --new-tokens >= 2\n");
    return 2;
  }
  static const std::map<std::string, engine::DetailLevel> kLevels = {
      {"none", engine::DetailLevel::kNone},         {"phases", engine::DetailLevel::kPhases},
      {"tokens", engine::DetailLevel::kTokens},     {"layers", engine::DetailLevel::kLayers},
      {"components", engine::DetailLevel::kComponents}, {"deep", engine::DetailLevel::kDeep}};
  std::vector<LevelResult> levels;
  bool have_none = false;
  for (absl::string_view name :
       absl::StrSplit(args.Get("detail", "none,phases,layers,components,deep"), ',', absl::SkipEmpty())) {
    auto it = kLevels.find(std::string(name));
    if (it == kLevels.end()) {
      std::fprintf(stderr, "bench: unknown detail level '%s' (none, phases, tokens, layers, components, deep)\n",
                   std::string(name).c_str());
      return 2;
    }
    have_none |= it->first == "none";
    levels.push_back({it->first, it->second});
  }
  if (!have_none) levels.insert(levels.begin(), {"none", engine::DetailLevel::kNone});

  const std::string matmul = args.Get("matmul", "eprof");
  if (matmul != "eprof" && matmul != "libtorch") {
    std::fprintf(stderr, "bench: --matmul must be eprof (eprof's pool) or libtorch\n");
    return 2;
  }
  engine::ThreadingInfo threading = engine::ConfigureThreading(
      {static_cast<int>(*torch_threads), static_cast<int>(*blas_threads),
       static_cast<int>(*gemv_threads), matmul == "eprof"});
  engine::LoadOptions lo;
  lo.dtype = args.Get("dtype", "float32");
  lo.device = args.Get("device", "cpu");
  // Interleaved decode (below) gives every level new_tokens steps in one generation. The KV
  // cache holds exactly that unless --max-seq-len asks for more: a server (eprofd) sizes it for
  // the model's context, and comparing with one must use the same cache.
  const int64_t needed = *prompt_tokens + *new_tokens * static_cast<int64_t>(levels.size()) + 1;
  if (*max_seq_len != 0 && *max_seq_len < needed) {
    std::fprintf(stderr,
                 "bench: --max-seq-len %lld is less than the %lld positions this run needs "
                 "(prompt + new tokens per level + 1); give 0 for exactly that\n",
                 static_cast<long long>(*max_seq_len), static_cast<long long>(needed));
    return 2;
  }
  lo.max_seq_len = *max_seq_len != 0 ? *max_seq_len : needed;
  auto loaded = engine::Model::Load(args.Get("model"), lo);
  if (!loaded.ok()) return fail(loaded.status());
  engine::Model* model = loaded->get();
  threading = engine::CurrentThreading();  // now that libtorch has mapped its BLAS

  std::vector<int32_t> prompt(*prompt_tokens);
  const int64_t id_range = std::min<int64_t>(model->config().vocab_size, 256);
  for (int64_t i = 0; i < *prompt_tokens; ++i) prompt[i] = static_cast<int32_t>((i * 37 + 11) % id_range);
  Clock* clock = Clock::Real();
  engine::GenerateParams gp;
  gp.max_new_tokens = *new_tokens;
  gp.use_model_eos = false;

  // Prefill: one generation per level, rounds rotating the order of the levels so that no level
  // always runs first or last; each level keeps its best round.
  auto prefill_once = [&](LevelResult& r, bool record) -> absl::Status {
    CountingObserver observer;
    model->SetObserver(r.level >= engine::DetailLevel::kLayers ? &observer : nullptr, r.level);
    engine::Generator gen(model, gp);
    const int64_t t0 = clock->NowNs();
    auto first = gen.Prefill(prompt);
    const int64_t t1 = clock->NowNs();
    model->SetObserver(nullptr, engine::DetailLevel::kNone);
    if (!first.ok()) return first.status();
    if (record) r.prefill_tps = std::max(r.prefill_tps, *prompt_tokens / ((t1 - t0) / 1e9));
    return absl::OkStatus();
  };
  // Decode: the levels take turns token by token within one generation, so that every level
  // sees the same machine. This VM's memory bandwidth drifts by ±20% from one second to the
  // next, more than the differences measured here; runs one after the other cannot tell 2% apart.
  // A level's figure is its steps over its time, summed over all rounds.
  std::vector<CountingObserver> observers(levels.size());
  std::vector<int64_t> decode_ns(levels.size(), 0), decode_steps(levels.size(), 0);
  auto decode_once = [&](size_t offset) -> absl::Status {
    engine::GenerateParams long_gp = gp;
    long_gp.max_new_tokens = *new_tokens * static_cast<int64_t>(levels.size()) + 1;
    engine::Generator gen(model, long_gp);
    auto first = gen.Prefill(prompt);
    if (!first.ok()) return first.status();
    int32_t token = *first;
    // Each cycle runs every level once, in a fresh random order, so that no level always
    // follows the same one (a `deep` step leaves the caches and the allocator busier).
    std::mt19937 rng(static_cast<uint32_t>(offset) + 1);
    std::vector<size_t> order(levels.size());
    for (size_t l = 0; l < order.size(); ++l) order[l] = l;
    for (int64_t i = 0; i < *new_tokens * static_cast<int64_t>(levels.size()); ++i) {
      if (i % static_cast<int64_t>(levels.size()) == 0) std::shuffle(order.begin(), order.end(), rng);
      const size_t l = order[static_cast<size_t>(i) % levels.size()];
      const LevelResult& r = levels[l];
      model->SetObserver(r.level >= engine::DetailLevel::kLayers ? &observers[l] : nullptr,
                         r.level);
      const int64_t t0 = clock->NowNs();
      auto next = gen.Step(token);
      const int64_t t1 = clock->NowNs();
      if (!next.ok()) return next.status();
      token = *next;
      decode_ns[l] += t1 - t0;
      ++decode_steps[l];
    }
    model->SetObserver(nullptr, engine::DetailLevel::kNone);
    return absl::OkStatus();
  };
  // Bandwidth before the runs and after every round. This VM's bandwidth drifts by ±30% over
  // seconds, so each round's decode (level none) is compared with the roofline of the higher of
  // the two measurements around it (the stricter), and the fraction reported is the median over
  // the rounds.
  if (args.Has("rounds-from-stdin")) {
    LevelResult warm{"none", engine::DetailLevel::kNone};
    if (absl::Status s = prefill_once(warm, false); !s.ok()) return fail(s);
    std::printf("{\"ready\": true}\n");
    std::fflush(stdout);
    char line[256];
    for (size_t round = 0; std::fgets(line, sizeof line, stdin) != nullptr; ++round) {
      const int64_t ns0 = decode_ns[0], steps0 = decode_steps[0];
      if (absl::Status s = decode_once(round); !s.ok()) return fail(s);
      std::printf("{\"decode_tokens_per_s\": %.6f}\n",
                  (decode_steps[0] - steps0) / ((decode_ns[0] - ns0) / 1e9));
      std::fflush(stdout);
    }
    return 0;
  }
  const int threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<double> bandwidths, none_round_tps;
  bandwidths.push_back(MeasureReadBandwidth(static_cast<size_t>(*bw_mb) << 20, threads));
  LevelResult warm{"none", engine::DetailLevel::kNone};
  if (absl::Status s = prefill_once(warm, false); !s.ok()) return fail(s);
  for (int64_t round = 0; round < *repeat; ++round) {
    for (size_t i = 0; i < levels.size(); ++i) {
      LevelResult& r = levels[(i + round) % levels.size()];
      if (absl::Status s = prefill_once(r, true); !s.ok()) return fail(s);
    }
    const int64_t ns0 = decode_ns[0], steps0 = decode_steps[0];
    if (absl::Status s = decode_once(static_cast<size_t>(round)); !s.ok()) return fail(s);
    none_round_tps.push_back((decode_steps[0] - steps0) / ((decode_ns[0] - ns0) / 1e9));
    bandwidths.push_back(MeasureReadBandwidth(static_cast<size_t>(*bw_mb) << 20, threads));
  }
  for (size_t l = 0; l < levels.size(); ++l) {
    LevelResult& r = levels[l];
    r.decode_tps = decode_steps[l] / (decode_ns[l] / 1e9);
    // Observers saw only decode steps.
    r.events_per_token = decode_steps[l] ? observers[l].events() / decode_steps[l] : 0;
    r.component_ns.assign(observers[l].component_ns(), observers[l].component_ns() + 32);
  }
  // The deterministic part of the hook cost: one boundary = one clock read + one virtual call.
  double boundary_ns = 0;
  {
    CountingObserver probe;
    engine::Observer* obs = &probe;
    constexpr int kCalls = 1000000;
    const int64_t b0 = clock->NowNs();
    for (int i = 0; i < kCalls; ++i) {
      obs->OnComponentBegin(engine::Component::kQProj, i & 31, clock->NowNs());
    }
    boundary_ns = static_cast<double>(clock->NowNs() - b0) / kCalls;
  }
  const double bandwidth = *std::max_element(bandwidths.begin(), bandwidths.end());
  const double bandwidth_low = *std::min_element(bandwidths.begin(), bandwidths.end());
  const double weight_bytes = static_cast<double>(model->weight_bytes_per_token());
  const double roofline_tps = bandwidth / weight_bytes;
  const LevelResult& none = levels[0];
  std::vector<double> round_fractions;
  for (size_t k = 0; k < none_round_tps.size(); ++k) {
    round_fractions.push_back(none_round_tps[k] * weight_bytes /
                              std::max(bandwidths[k], bandwidths[k + 1]));
  }
  std::vector<double> sorted_fractions = round_fractions;
  std::sort(sorted_fractions.begin(), sorted_fractions.end());
  const size_t n_fr = sorted_fractions.size();
  const double fraction = n_fr == 0 ? 0
                          : n_fr % 2 ? sorted_fractions[n_fr / 2]
                                     : (sorted_fractions[n_fr / 2 - 1] + sorted_fractions[n_fr / 2]) / 2;

  if (args.Has("json")) {
    nlohmann::json j;
    j["model"] = args.Get("model");
    j["family"] = engine::FamilyName(model->config().family);
    j["device"] = model->device();
    j["dtype"] = model->compute_dtype();
    j["prompt_tokens"] = *prompt_tokens;
    j["new_tokens"] = *new_tokens;
    j["max_seq_len"] = model->max_seq_len();
    j["repeat"] = *repeat;
    j["threading"] = {{"torch_threads", threading.torch_threads},
                      {"blas_threads", threading.blas_threads},
                      {"blas_library", threading.blas_library},
                      {"blas_config", threading.blas_config},
                      {"decode_gemv", threading.gemv}};
    for (const LevelResult& r : levels) {
      j["levels"].push_back({{"detail", r.name},
                             {"prefill_tokens_per_s", r.prefill_tps},
                             {"decode_tokens_per_s", r.decode_tps},
                             {"prefill_ratio_to_none", r.prefill_tps / none.prefill_tps},
                             {"decode_ratio_to_none", r.decode_tps / none.decode_tps},
                             {"observer_events_per_token", r.events_per_token}});
    }
    j["observer_boundary_cost_ns"] = boundary_ns;
    j["memory_read_bandwidth_gb_per_s"] = bandwidth / 1e9;
    j["weight_bytes_per_token"] = weight_bytes;
    j["decode_roofline_tokens_per_s"] = roofline_tps;
    j["decode_fraction_of_roofline"] = fraction;
    j["decode_fraction_of_roofline_by_round"] = round_fractions;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("model %s (%s, %lld layers), %s %s, prompt %lld tokens, %lld new tokens per level "
              "per round, KV cache of %lld positions, %lld rounds (prefill: best round; decode: "
              "levels interleaved token by token, all rounds)\n",
              args.Get("model").c_str(), engine::FamilyName(model->config().family),
              static_cast<long long>(model->config().num_layers), model->device().c_str(),
              model->compute_dtype().c_str(), static_cast<long long>(*prompt_tokens),
              static_cast<long long>(*new_tokens), static_cast<long long>(model->max_seq_len()),
              static_cast<long long>(*repeat));
  std::printf("threading: %s\n", threading.Describe().c_str());
  std::printf("%-11s %14s %14s %10s %10s %12s\n", "detail", "prefill tok/s", "decode tok/s",
              "prefill/x", "decode/x", "events/token");
  for (const LevelResult& r : levels) {
    std::printf("%-11s %14.1f %14.2f %10.3f %10.3f %12lld\n", r.name.c_str(), r.prefill_tps,
                r.decode_tps, r.prefill_tps / none.prefill_tps, r.decode_tps / none.decode_tps,
                static_cast<long long>(r.events_per_token));
  }
  std::printf("(x = none)\n");
  for (const LevelResult& r : levels) {
    if (r.level != engine::DetailLevel::kComponents) continue;
    int64_t total = 0;
    for (int64_t ns : r.component_ns) total += ns;
    if (total == 0) break;
    std::printf("decode time by component (components level):");
    for (int c = 0; c < 32; ++c) {
      if (r.component_ns[c] * 100 >= total) {
        std::printf(" %s %.1f%%", engine::ComponentName(static_cast<engine::Component>(c)),
                    100.0 * r.component_ns[c] / total);
      }
    }
    std::printf("\n");
  }
  for (const LevelResult& r : levels) {
    if (r.events_per_token == 0) continue;
    std::printf("%s: %lld boundaries/token × %.0f ns = %.1f µs/token = %.3f%% of a decode step "
                "(clock read + virtual call, measured alone)\n",
                r.name.c_str(), static_cast<long long>(r.events_per_token), boundary_ns,
                r.events_per_token * boundary_ns / 1e3,
                100.0 * r.events_per_token * boundary_ns / (1e9 / none.decode_tps));
  }
  std::printf("memory read bandwidth %.2f-%.2f GB/s (%d threads; %zu measurements, before the "
              "runs and after each round); weights read per token %.1f MB\n",
              bandwidth_low / 1e9, bandwidth / 1e9, threads, bandwidths.size(), weight_bytes / 1e6);
  std::printf("decode roofline %.2f-%.2f tok/s; reached %.1f%% (none; median over rounds, each "
              "against the higher bandwidth measured just before and after it:",
              bandwidth_low / weight_bytes, roofline_tps, 100.0 * fraction);
  for (double f : round_fractions) std::printf(" %.1f%%", 100.0 * f);
  std::printf(")\n");
  return 0;
}
