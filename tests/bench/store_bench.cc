// How long the store takes to save a run the size of a 1,000-token profile at detail
// `components` on the `demo` checkpoint (30 layers + the outside-layers pseudo-layer, 12
// components each): tokens, layers, components and 10 Hz power samples over 60 s, written the
// way eprofd writes them (a batch every 16 tokens), into a real file. Target: < 0.5 s in all.
// Timed twice, each into its own new database: with each token's layers already in their stored
// form (RunRows.token_layers, as eprofd's profiler hands them over: the target's figure), and,
// for comparison, in the token's record (the store encodes them).
//
//   build/bin/store_bench [--tokens N] [--db PATH]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "daemon/store/run_store.h"
#include "daemon/store/token_layers.h"

namespace {

using eprof::store::RunRows;
using eprof::store::RunStore;
namespace v1 = eprof::v1;

constexpr int kLayers = 30;
constexpr v1::Component kComponents[] = {
    v1::COMPONENT_INPUT_NORM, v1::COMPONENT_Q_PROJ, v1::COMPONENT_K_PROJ,
    v1::COMPONENT_V_PROJ, v1::COMPONENT_ROTARY, v1::COMPONENT_ATTENTION,
    v1::COMPONENT_O_PROJ, v1::COMPONENT_POST_ATTENTION_NORM, v1::COMPONENT_GATE_PROJ,
    v1::COMPONENT_UP_PROJ, v1::COMPONENT_MLP_ACT, v1::COMPONENT_DOWN_PROJ};

v1::TokenRecord MakeToken(uint32_t index) {
  v1::TokenRecord t;
  t.set_index(index);
  t.set_token_id(static_cast<int32_t>(index * 7 % 49152));
  t.set_text(" word");
  t.set_phase(index == 0 ? v1::PHASE_PREFILL : v1::PHASE_DECODE);
  t.set_start_ns(index * 40'000'000LL);
  t.set_end_ns((index + 1) * 40'000'000LL);
  t.mutable_energy()->set_total_mj(400);
  t.mutable_energy()->set_dynamic_mj(150);
  for (int layer = -1; layer < kLayers; ++layer) {
    v1::LayerMetrics* l = t.add_layers();
    l->set_layer(layer);
    l->set_duration_ns(1'200'000);
    l->mutable_energy()->set_total_mj(12.5);
    l->mutable_energy()->set_dynamic_mj(4.5);
    for (v1::Component c : kComponents) {
      v1::ComponentMetrics* cm = l->add_components();
      cm->set_component(c);
      cm->set_duration_ns(100'000);
      cm->mutable_energy()->set_total_mj(1.0);
      cm->mutable_energy()->set_dynamic_mj(0.4);
    }
  }
  return t;
}

struct Saved {
  double tokens_s = 0;  // the token batches
  double total_s = 0;   // and the samples and the final summary
  double size_mib = 0;
};

// Saves one run of `batches` and `samples` into a new database at `db`, timed; removes it.
absl::StatusOr<Saved> SaveRun(const std::string& db, const std::vector<RunRows>& batches,
                              const RunRows& samples) {
  Saved saved;
  {
    auto store = RunStore::Open(db);
    if (!store.ok()) return store.status();
    v1::RunSummary summary;
    summary.set_run_id("bench");
    summary.set_status(v1::RUN_STATUS_RUNNING);
    summary.mutable_model()->set_name("demo");
    if (auto s = (*store)->CreateRun(summary); !s.ok()) return s;
    auto t0 = std::chrono::steady_clock::now();
    for (const RunRows& rows : batches) {
      if (auto s = (*store)->AppendRows("bench", rows); !s.ok()) return s;
    }
    auto t1 = std::chrono::steady_clock::now();
    if (auto s = (*store)->AppendRows("bench", samples); !s.ok()) return s;
    summary.set_status(v1::RUN_STATUS_COMPLETED);
    if (auto s = (*store)->UpdateSummary(summary); !s.ok()) return s;
    auto t2 = std::chrono::steady_clock::now();
    saved.tokens_s = std::chrono::duration<double>(t1 - t0).count();
    saved.total_s = std::chrono::duration<double>(t2 - t0).count();
  }
  saved.size_mib = std::filesystem::file_size(db) / 1048576.0;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  return saved;
}

}  // namespace

int main(int argc, char** argv) {
  int tokens = 1000;
  std::string db = absl::StrCat("/tmp/eprof-store-bench-", getpid(), ".db");
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--tokens") == 0) tokens = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--db") == 0) db = argv[i + 1];
  }

  // Build the rows first: only the writing is timed.
  std::vector<RunRows> records, packed;
  constexpr int kBatch = 16;
  eprof::store::TokenLayers scratch;
  for (int first = 0; first < tokens; first += kBatch) {
    RunRows rows, stored_form;
    for (int i = first; i < std::min(tokens, first + kBatch); ++i) {
      rows.tokens.push_back(MakeToken(i));
      v1::TokenRecord t = rows.tokens.back();
      eprof::store::EncodeTokenLayers(t, &scratch, &stored_form.token_layers.emplace_back());
      t.clear_layers();
      stored_form.tokens.push_back(std::move(t));
    }
    records.push_back(std::move(rows));
    packed.push_back(std::move(stored_form));
  }
  RunRows samples;
  for (int i = 0; i < 600; ++i) {
    v1::PowerSample s;
    s.set_seq(i);
    s.set_t_end_ns((i + 1) * 100'000'000LL);
    s.set_window_ns(100'000'000);
    s.set_source("rapl");
    for (const char* ch : {"package-0", "core", "uncore", "dram"}) {
      v1::Reading* r = s.add_readings();
      r->set_channel(ch);
      r->set_energy_mj(1000);
      r->set_power_mw(10000);
    }
    samples.samples.push_back(s);
  }
  size_t component_rows = static_cast<size_t>(tokens) * (kLayers + 1) * std::size(kComponents);

  absl::StatusOr<Saved> as_eprofd = SaveRun(db, packed, samples);
  absl::StatusOr<Saved> as_records = as_eprofd.ok() ? SaveRun(db, records, samples) : as_eprofd;
  if (!as_records.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", std::string(as_records.status().message()).c_str());
    return 1;
  }
  std::printf("store_bench: %d tokens, %d layers, %zu component records, %zu power samples\n", tokens,
              kLayers + 1, component_rows, samples.samples.size());
  std::printf("  tokens+layers+components: %.3f s (%.0f component records/s, %.2f ms per 16-token "
              "batch); from records with their layers, as other writers give them: %.3f s\n",
              as_eprofd->tokens_s, component_rows / as_eprofd->tokens_s,
              1000 * as_eprofd->tokens_s / packed.size(), as_records->tokens_s);
  std::printf("  whole run saved:          %.3f s   (target < 0.5 s: %s); from records: %.3f s\n",
              as_eprofd->total_s, as_eprofd->total_s < 0.5 ? "met" : "NOT met",
              as_records->total_s);
  std::printf("  database size:            %.1f MiB (from records: %.1f MiB)\n", as_eprofd->size_mib,
              as_records->size_mib);
  return 0;
}
