#include "daemon/store/run_store.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errno_status.h"
#include "common/logging.h"
#include "common/paths.h"
#include "common/status_macros.h"
#include "daemon/store/energy_sum.h"
#include "daemon/store/schema.h"
#include "daemon/store/sqlite.h"
#include "daemon/store/token_layers.h"

namespace eprof::store {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;


// mkdir -p for the database's directory.
absl::Status MakeParentDirs(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return absl::OkStatus();
  std::string dir = path.substr(0, slash);
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoToStatus(errno, absl::StrCat("cannot create database directory ", prefix));
    }
  }
  return absl::OkStatus();
}

std::string SummaryBlob(const v1::RunSummary& summary) { return summary.SerializeAsString(); }

constexpr size_t kPreviewBytes = 256;

// Cuts `text` to at most kPreviewBytes at a UTF-8 character boundary; true when it cut.
bool CutToPreview(std::string* text) {
  if (text->size() <= kPreviewBytes) return false;
  size_t end = kPreviewBytes;
  while (end > 0 && (static_cast<unsigned char>((*text)[end]) & 0xC0) == 0x80) --end;
  text->resize(end);
  return true;
}

void BindSummaryColumns(Statement& st, const v1::RunSummary& s, int first) {
  st.Bind(first + 0, static_cast<int64_t>(s.created_at_unix_ms()));
  st.Bind(first + 1, static_cast<int64_t>(s.status()));
  st.Bind(first + 2, s.model().name().empty() ? s.request().model() : s.model().name());
  st.Bind(first + 3, s.experiment());
  st.Bind(first + 4, static_cast<int64_t>(s.detail()));
  st.Bind(first + 5, static_cast<int64_t>(s.start_ns()));
  st.Bind(first + 6, static_cast<int64_t>(s.end_ns()));
  st.Bind(first + 7, static_cast<int64_t>(s.input_tokens()));
  st.Bind(first + 8, static_cast<int64_t>(s.output_tokens()));
  st.Bind(first + 9, s.total_energy().total_mj());
  st.Bind(first + 10, s.joules_per_token());
  st.Bind(first + 11, s.decode_tokens_per_s());
  st.BindBlob(first + 12, SummaryBlob(s));
}

absl::Status WriteTags(Database* db, const v1::RunSummary& s) {
  EPROF_ASSIGN_OR_RETURN(Statement del, db->Prepare("DELETE FROM run_tags WHERE run_id = ?"));
  del.Bind(1, s.run_id());
  EPROF_RETURN_IF_ERROR(del.Run());
  EPROF_ASSIGN_OR_RETURN(Statement ins,
                         db->Prepare("INSERT OR IGNORE INTO run_tags(run_id, tag) VALUES (?, ?)"));
  for (const std::string& tag : s.tags()) {
    ins.Bind(1, s.run_id());
    ins.Bind(2, tag);
    EPROF_RETURN_IF_ERROR(ins.Run());
  }
  return absl::OkStatus();
}

void AccumulateLayers(const v1::TokenRecord& token, std::map<int, v1::LayerMetrics>* sum) {
  for (const v1::LayerMetrics& l : token.layers()) {
    v1::LayerMetrics& s = (*sum)[l.layer()];
    s.set_layer(l.layer());
    s.set_duration_ns(s.duration_ns() + l.duration_ns());
    AddEnergy(l.energy(), s.mutable_energy());
    for (const v1::ComponentMetrics& c : l.components()) {
      v1::ComponentMetrics* target = nullptr;
      for (v1::ComponentMetrics& existing : *s.mutable_components()) {
        if (existing.component() == c.component()) target = &existing;
      }
      if (target == nullptr) {
        target = s.add_components();
        target->set_component(c.component());
      }
      target->set_duration_ns(target->duration_ns() + c.duration_ns());
      AddEnergy(c.energy(), target->mutable_energy());
    }
  }
}

bool IsGenerationPhase(v1::Phase p) { return p == v1::PHASE_PREFILL || p == v1::PHASE_DECODE; }

bool IsFinal(v1::RunStatus s) {
  return s == v1::RUN_STATUS_COMPLETED || s == v1::RUN_STATUS_CANCELLED ||
         s == v1::RUN_STATUS_FAILED || s == v1::RUN_STATUS_INTERRUPTED;
}

// The one rule for a phase's layers: prefill's and decode's are the sums of their tokens'
// layers (durations and energies; statistics do not add up), layers in order, the parts outside
// the layers (-1) last. Other phases have none.
void SumPhaseLayers(const google::protobuf::RepeatedPtrField<v1::TokenRecord>& tokens,
                    v1::PhaseRecord* p) {
  p->clear_layers();
  if (!IsGenerationPhase(p->phase())) return;
  std::map<int, v1::LayerMetrics> sum;
  for (const v1::TokenRecord& t : tokens) {
    if (t.phase() == p->phase()) AccumulateLayers(t, &sum);
  }
  for (auto& [layer, metrics] : sum) {
    if (layer >= 0) *p->add_layers() = std::move(metrics);
  }
  if (auto outside = sum.find(-1); outside != sum.end()) {
    *p->add_layers() = std::move(outside->second);
  }
}

}  // namespace

std::string RunStore::ResolvePath(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("EPROF_DB"); env != nullptr && *env != '\0') return env;
  return DefaultDataDir() + "/eprof.db";
}

int RunStore::LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

RunStore::RunStore(std::string path, std::unique_ptr<Database> db, std::optional<LockFile> lock)
    : path_(std::move(path)), lock_(std::move(lock)), db_(std::move(db)) {}

RunStore::~RunStore() = default;

absl::StatusOr<std::unique_ptr<RunStore>> RunStore::Open(const std::string& path) {
  std::optional<LockFile> db_lock;
  if (path != ":memory:") {
    EPROF_RETURN_IF_ERROR(MakeParentDirs(path));
    // The lock goes beside the real file, so that two names for one database (a symbolic link)
    // take one lock.
    std::error_code ec;
    std::filesystem::path real = std::filesystem::weakly_canonical(path, ec);
    const std::string lock_path = (ec ? path : real.string()) + ".lock";
    EPROF_ASSIGN_OR_RETURN(
        db_lock, LockFile::Acquire(lock_path,
                                absl::StrCat("it has database ", path,
                                             " open (one database, one eprofd): stop that "
                                             "eprofd first, or give this one another --db")));
  }
  EPROF_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
  std::unique_ptr<RunStore> store(new RunStore(path, std::move(db), std::move(db_lock)));
  absl::MutexLock lock(&store->mu_);
  Database* d = store->db_.get();
  EPROF_RETURN_IF_ERROR(d->Exec("PRAGMA foreign_keys = ON"));
  if (path != ":memory:") {
    EPROF_ASSIGN_OR_RETURN(Statement wal, d->Prepare("PRAGMA journal_mode = WAL"));
    EPROF_RETURN_IF_ERROR(wal.Step().status());
  }
  // WAL with NORMAL sync is durable across process crashes (what we protect against: a killed
  // daemon), losing at most the last transactions on power loss.
  EPROF_RETURN_IF_ERROR(d->Exec("PRAGMA synchronous = NORMAL"));
  EPROF_RETURN_IF_ERROR(store->Migrate());
  return store;
}

absl::Status RunStore::Migrate() { return MigrateToLatest(db_.get(), path_); }

absl::StatusOr<bool> RunStore::RunExists(const std::string& run_id) {
  EPROF_ASSIGN_OR_RETURN(Statement q, db_->Prepare("SELECT 1 FROM runs WHERE id = ?"));
  q.Bind(1, run_id);
  return q.Step();
}

absl::StatusOr<int> RunStore::MarkUnfinishedInterrupted() {
  absl::MutexLock lock(&mu_);
  Database* d = db_.get();
  Transaction tx(d);
  EPROF_RETURN_IF_ERROR(tx.Begin());
  EPROF_ASSIGN_OR_RETURN(Statement q,
                         d->Prepare("SELECT id, summary FROM runs WHERE status IN (?, ?)"));
  q.Bind(1, static_cast<int64_t>(v1::RUN_STATUS_RUNNING));
  q.Bind(2, static_cast<int64_t>(v1::RUN_STATUS_QUEUED));
  std::vector<v1::RunSummary> unfinished;
  std::vector<std::string> unreadable;
  for (;;) {
    EPROF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    v1::RunSummary s;
    if (s.ParseFromString(q.ColumnText(1))) {
      unfinished.push_back(std::move(s));
    } else {
      unreadable.push_back(q.ColumnText(0));
    }
  }
  q.Reset();
  // A summary that cannot be read is kept as it is (GetRun reports it as data loss); only its
  // status changes, so that the run no longer looks as if it were running.
  EPROF_ASSIGN_OR_RETURN(Statement status_only,
                         d->Prepare("UPDATE runs SET status = ? WHERE id = ?"));
  for (const std::string& id : unreadable) {
    EPROF_LOG(WARNING) << "run " << id << " was left unfinished and its stored summary is "
                       << "unreadable: marked interrupted, summary kept as it was";
    status_only.Bind(1, static_cast<int64_t>(v1::RUN_STATUS_INTERRUPTED));
    status_only.Bind(2, id);
    EPROF_RETURN_IF_ERROR(status_only.Run());
  }
  EPROF_ASSIGN_OR_RETURN(Statement up,
                         d->Prepare("UPDATE runs SET status = ?, summary = ? WHERE id = ?"));
  for (v1::RunSummary& s : unfinished) {
    s.set_status(v1::RUN_STATUS_INTERRUPTED);
    if (s.stop_reason().empty()) s.set_stop_reason("interrupted");
    v1::Warning* w = s.add_warnings();
    w->set_code("interrupted");
    w->set_message(
        "eprofd stopped during this run (crash or kill); the figures cover only what was saved "
        "before it stopped");
    up.Bind(1, static_cast<int64_t>(v1::RUN_STATUS_INTERRUPTED));
    up.BindBlob(2, SummaryBlob(s));
    up.Bind(3, s.run_id());
    EPROF_RETURN_IF_ERROR(up.Run());
  }
  EPROF_RETURN_IF_ERROR(tx.Commit());
  return static_cast<int>(unfinished.size() + unreadable.size());
}

absl::Status RunStore::CreateRun(const v1::RunSummary& summary) {
  if (summary.run_id().empty()) return absl::InvalidArgumentError("CreateRun: run_id is empty");
  absl::MutexLock lock(&mu_);
  Database* d = db_.get();
  Transaction tx(d);
  EPROF_RETURN_IF_ERROR(tx.Begin());
  EPROF_ASSIGN_OR_RETURN(bool exists, RunExists(summary.run_id()));
  if (exists) {
    return absl::FailedPreconditionError(absl::StrCat("run ", summary.run_id(), " already exists"));
  }
  EPROF_ASSIGN_OR_RETURN(
      Statement ins,
      d->Prepare("INSERT INTO runs(id, created_at_unix_ms, status, model, experiment, detail, "
                 "start_ns, end_ns, input_tokens, output_tokens, total_energy_mj, "
                 "joules_per_token, decode_tokens_per_s, summary) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  ins.Bind(1, summary.run_id());
  BindSummaryColumns(ins, summary, 2);
  EPROF_RETURN_IF_ERROR(ins.Run());
  EPROF_RETURN_IF_ERROR(WriteTags(d, summary));
  return tx.Commit();
}

absl::Status RunStore::UpdateSummary(const v1::RunSummary& summary) {
  absl::MutexLock lock(&mu_);
  Database* d = db_.get();
  Transaction tx(d);
  EPROF_RETURN_IF_ERROR(tx.Begin());
  EPROF_ASSIGN_OR_RETURN(
      Statement up,
      d->Prepare("UPDATE runs SET created_at_unix_ms = ?, status = ?, model = ?, experiment = ?, "
                 "detail = ?, start_ns = ?, end_ns = ?, input_tokens = ?, output_tokens = ?, "
                 "total_energy_mj = ?, joules_per_token = ?, decode_tokens_per_s = ?, "
                 "summary = ? WHERE id = ?"));
  BindSummaryColumns(up, summary, 1);
  up.Bind(14, summary.run_id());
  EPROF_RETURN_IF_ERROR(up.Run());
  if (d->Changes() == 0) return absl::NotFoundError(absl::StrCat("no run ", summary.run_id()));
  EPROF_RETURN_IF_ERROR(WriteTags(d, summary));
  if (IsFinal(summary.status())) EPROF_RETURN_IF_ERROR(StorePhaseLayers(summary.run_id()));
  return tx.Commit();
}

absl::Status RunStore::StorePhaseLayers(const std::string& run_id) {
  Database* d = db_.get();
  v1::RunParts parts;
  parts.set_tokens(true);
  parts.set_components(true);
  v1::GetRunResponse run;
  EPROF_RETURN_IF_ERROR(ReadTokens(run_id, parts, &run));
  EPROF_ASSIGN_OR_RETURN(Statement q,
                         d->Prepare("SELECT phase, record FROM phases WHERE run_id = ?"));
  q.Bind(1, run_id);
  std::vector<std::pair<int64_t, v1::PhaseRecord>> phases;
  for (;;) {
    EPROF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    v1::PhaseRecord p;
    if (!p.ParseFromString(q.ColumnText(1))) {
      return absl::DataLossError(absl::StrCat("run ", run_id, ": a stored phase is unreadable"));
    }
    if (IsGenerationPhase(p.phase())) phases.emplace_back(q.ColumnInt(0), std::move(p));
  }
  EPROF_ASSIGN_OR_RETURN(
      Statement up, d->Prepare("UPDATE phases SET record = ? WHERE run_id = ? AND phase = ?"));
  for (auto& [column, p] : phases) {
    SumPhaseLayers(run.tokens(), &p);
    up.Bind(1, p.SerializeAsString());
    up.Bind(2, run_id);
    up.Bind(3, column);
    EPROF_RETURN_IF_ERROR(up.Run());
  }
  return absl::OkStatus();
}

absl::Status RunStore::AppendRows(const std::string& run_id, const RunRows& rows) {
  if (rows.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  Database* d = db_.get();
  Transaction tx(d);
  EPROF_RETURN_IF_ERROR(tx.Begin());
  EPROF_ASSIGN_OR_RETURN(bool exists, RunExists(run_id));
  if (!exists) return absl::NotFoundError(absl::StrCat("no run ", run_id));
  if (!rows.samples.empty()) {
    EPROF_ASSIGN_OR_RETURN(
        Statement ins,
        d->Prepare("INSERT OR REPLACE INTO power_readings(run_id, seq, t_end_ns, window_ns, "
                   "source, channel, energy_mj, power_mw, quality) VALUES (?,?,?,?,?,?,?,?,?)"));
    for (const v1::PowerSample& s : rows.samples) {
      for (const v1::Reading& r : s.readings()) {
        ins.Bind(1, run_id);
        ins.Bind(2, static_cast<int64_t>(s.seq()));
        ins.Bind(3, static_cast<int64_t>(s.t_end_ns()));
        ins.Bind(4, static_cast<int64_t>(s.window_ns()));
        ins.Bind(5, s.source());
        ins.Bind(6, r.channel());
        ins.Bind(7, r.energy_mj());
        ins.Bind(8, r.power_mw());
        ins.Bind(9, static_cast<int64_t>(r.quality()));
        EPROF_RETURN_IF_ERROR(ins.Run());
      }
    }
  }
  if (!rows.phases.empty()) {
    EPROF_ASSIGN_OR_RETURN(
        Statement ins,
        d->Prepare("INSERT OR REPLACE INTO phases(run_id, phase, start_ns, end_ns, total_mj, "
                   "dynamic_mj, attribution, record) VALUES (?,?,?,?,?,?,?,?)"));
    for (const v1::PhaseRecord& p : rows.phases) {
      v1::PhaseRecord record = p;
      record.clear_layers();
      ins.Bind(1, run_id);
      ins.Bind(2, static_cast<int64_t>(p.phase()));
      ins.Bind(3, static_cast<int64_t>(p.start_ns()));
      ins.Bind(4, static_cast<int64_t>(p.end_ns()));
      ins.Bind(5, p.energy().total_mj());
      ins.Bind(6, p.energy().dynamic_mj());
      ins.Bind(7, static_cast<int64_t>(p.energy().attribution()));
      ins.BindBlob(8, record.SerializeAsString());
      EPROF_RETURN_IF_ERROR(ins.Run());
    }
  }
  EPROF_RETURN_IF_ERROR(WriteTokens(run_id, rows.tokens, rows.token_layers));
  return tx.Commit();
}

absl::Status RunStore::WriteTokens(const std::string& run_id,
                                   const std::vector<v1::TokenRecord>& tokens,
                                   const std::vector<std::string>& token_layers) {
  if (tokens.empty()) return absl::OkStatus();
  if (!token_layers.empty() && token_layers.size() != tokens.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "run ", run_id, ": ", token_layers.size(), " stored-form layer rows for ", tokens.size(),
        " tokens (RunRows.token_layers is empty or has one entry per token)"));
  }
  Database* d = db_.get();
  EPROF_ASSIGN_OR_RETURN(
      Statement tok,
      d->Prepare("INSERT OR REPLACE INTO tokens(run_id, idx, token_id, text, phase, start_ns, "
                 "end_ns, total_mj, dynamic_mj, attribution, quality, probability, channels) "
                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  EPROF_ASSIGN_OR_RETURN(
      Statement lay,
      d->Prepare("INSERT OR REPLACE INTO token_layers(run_id, token_idx, layers) VALUES (?,?,?)"));
  std::string layers_bytes;
  TokenLayers scratch;  // reused by every token of the batch
  for (size_t i = 0; i < tokens.size(); ++i) {
    const v1::TokenRecord& t = tokens[i];
    const std::string* packed = token_layers.empty() ? nullptr : &token_layers[i];
    if (packed != nullptr && !packed->empty() && t.layers_size() > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("run ", run_id, ": token ", t.index(),
                       " has its layers both in its record and in their stored form"));
    }
    if (!std::isfinite(t.probability())) {
      // SQLite stores NaN as NULL, which the column refuses with a message that blames the
      // database: say what is wrong instead.
      return absl::InvalidArgumentError(absl::StrCat(
          "run ", run_id, ": token ", t.index(), " has a probability that is not a finite number "
          "(the model produced NaN or infinite logits)"));
    }
    v1::Energy channels;
    *channels.mutable_channels() = t.energy().channels();
    tok.Bind(1, run_id);
    tok.Bind(2, static_cast<int64_t>(t.index()));
    tok.Bind(3, static_cast<int64_t>(t.token_id()));
    tok.Bind(4, t.text());
    tok.Bind(5, static_cast<int64_t>(t.phase()));
    tok.Bind(6, static_cast<int64_t>(t.start_ns()));
    tok.Bind(7, static_cast<int64_t>(t.end_ns()));
    tok.Bind(8, t.energy().total_mj());
    tok.Bind(9, t.energy().dynamic_mj());
    tok.Bind(10, static_cast<int64_t>(t.energy().attribution()));
    tok.Bind(11, static_cast<int64_t>(t.energy().quality()));
    tok.Bind(12, t.probability());
    tok.BindBlob(13, channels.SerializeAsString());
    EPROF_RETURN_IF_ERROR(tok.Run());
    if (t.layers_size() > 0) {
      EncodeTokenLayers(t, &scratch, &layers_bytes);
      packed = &layers_bytes;
    }
    if (packed == nullptr || packed->empty()) continue;
    lay.Bind(1, run_id);
    lay.Bind(2, static_cast<int64_t>(t.index()));
    lay.BindBlob(3, *packed);
    EPROF_RETURN_IF_ERROR(lay.Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::RunSummary> RunStore::GetSummary(const std::string& run_id) {
  absl::MutexLock lock(&mu_);
  EPROF_ASSIGN_OR_RETURN(Statement q, db_->Prepare("SELECT summary FROM runs WHERE id = ?"));
  q.Bind(1, run_id);
  EPROF_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no run ", run_id));
  v1::RunSummary s;
  if (!s.ParseFromString(q.ColumnText(0))) {
    return absl::DataLossError(absl::StrCat("run ", run_id, ": stored summary is unreadable"));
  }
  s.set_prompt_bytes(static_cast<uint32_t>(s.request().prompt().size()));
  return s;
}

absl::Status RunStore::ReadTokens(const std::string& run_id, const v1::RunParts& parts,
                                  v1::GetRunResponse* out) {
  Database* d = db_.get();
  EPROF_ASSIGN_OR_RETURN(
      Statement q,
      d->Prepare("SELECT idx, token_id, text, phase, start_ns, end_ns, total_mj, dynamic_mj, "
                 "attribution, quality, probability, channels FROM tokens WHERE run_id = ? "
                 "ORDER BY idx"));
  q.Bind(1, run_id);
  std::map<int64_t, v1::TokenRecord*> by_index;
  for (;;) {
    EPROF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    v1::TokenRecord* t = out->add_tokens();
    t->set_index(static_cast<uint32_t>(q.ColumnInt(0)));
    t->set_token_id(static_cast<int32_t>(q.ColumnInt(1)));
    t->set_text(q.ColumnText(2));
    t->set_phase(static_cast<v1::Phase>(q.ColumnInt(3)));
    t->set_start_ns(q.ColumnInt(4));
    t->set_end_ns(q.ColumnInt(5));
    v1::Energy* e = t->mutable_energy();
    if (!q.ColumnIsNull(11)) e->ParseFromString(q.ColumnText(11));  // per-channel figures
    e->set_total_mj(q.ColumnDouble(6));
    e->set_dynamic_mj(q.ColumnDouble(7));
    e->set_attribution(static_cast<v1::Attribution>(q.ColumnInt(8)));
    e->set_quality(static_cast<v1::Quality>(q.ColumnInt(9)));
    t->set_probability(q.ColumnDouble(10));
  }
  for (v1::TokenRecord& t : *out->mutable_tokens()) by_index[t.index()] = &t;
  if (!parts.layers() && !parts.components() && !parts.deep()) return absl::OkStatus();

  EPROF_ASSIGN_OR_RETURN(
      Statement ql, d->Prepare("SELECT token_idx, layers FROM token_layers WHERE run_id = ?"));
  ql.Bind(1, run_id);
  const bool with_components = parts.components() || parts.deep();
  for (;;) {
    EPROF_ASSIGN_OR_RETURN(bool row, ql.Step());
    if (!row) break;
    auto it = by_index.find(ql.ColumnInt(0));
    if (it == by_index.end()) continue;
    EPROF_RETURN_IF_ERROR(
        DecodeTokenLayers(ql.ColumnText(1), with_components, parts.deep(), run_id, it->second));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::GetRunResponse> RunStore::GetRun(const std::string& run_id,
                                                    const v1::RunParts& requested) {
  EPROF_ASSIGN_OR_RETURN(v1::RunSummary summary, GetSummary(run_id));
  v1::RunParts parts = requested;
  if (parts.ByteSizeLong() == 0) {  // unset = everything
    parts.set_phases(true);
    parts.set_tokens(true);
    parts.set_layers(true);
    parts.set_components(true);
    parts.set_deep(true);
    parts.set_power_samples(true);
  }
  // Inner parts imply the parts they sit in.
  if (parts.deep()) parts.set_components(true);
  if (parts.components()) parts.set_layers(true);

  absl::MutexLock lock(&mu_);
  v1::GetRunResponse out;
  *out.mutable_summary() = std::move(summary);
  Database* d = db_.get();
  if (parts.phases() || parts.layers()) {
    EPROF_ASSIGN_OR_RETURN(
        Statement q,
        d->Prepare("SELECT record FROM phases WHERE run_id = ? ORDER BY start_ns, phase"));
    q.Bind(1, run_id);
    for (;;) {
      EPROF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      v1::PhaseRecord* p = out.add_phases();
      if (!p->ParseFromString(q.ColumnText(0))) {
        return absl::DataLossError(absl::StrCat("run ", run_id, ": a stored phase is unreadable"));
      }
    }
  }
  // A finished run's prefill and decode carry their layer sums (UpdateSummary stored them); a
  // run still going, or stored before they were, has them summed here from its tokens.
  bool sum_now = false;
  for (v1::PhaseRecord& p : *out.mutable_phases()) {
    if (!parts.layers()) {
      p.clear_layers();
    } else if (IsGenerationPhase(p.phase()) && p.layers_size() == 0) {
      sum_now = true;
    }
  }
  if (parts.tokens() || sum_now) {
    v1::RunParts read = parts;
    if (!sum_now && parts.omit_token_layers()) {  // tokens without layers: none to read
      read.set_layers(false);
      read.set_components(false);
      read.set_deep(false);
    }
    EPROF_RETURN_IF_ERROR(ReadTokens(run_id, read, &out));
  }
  for (v1::PhaseRecord& p : *out.mutable_phases()) {
    if (sum_now && IsGenerationPhase(p.phase()) && p.layers_size() == 0) {
      SumPhaseLayers(out.tokens(), &p);
    } else if (!parts.components()) {
      for (v1::LayerMetrics& l : *p.mutable_layers()) l.clear_components();
    }
  }
  if (!parts.tokens()) out.clear_tokens();
  if (!parts.layers() || parts.omit_token_layers()) {
    for (v1::TokenRecord& t : *out.mutable_tokens()) t.clear_layers();
  }
  if (parts.power_samples()) {
    EPROF_ASSIGN_OR_RETURN(
        Statement q,
        d->Prepare("SELECT seq, t_end_ns, window_ns, source, channel, energy_mj, power_mw, "
                   "quality FROM power_readings WHERE run_id = ? ORDER BY seq, channel"));
    q.Bind(1, run_id);
    v1::PowerSample* current = nullptr;
    for (;;) {
      EPROF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      uint64_t seq = static_cast<uint64_t>(q.ColumnInt(0));
      if (current == nullptr || current->seq() != seq) {
        current = out.add_power_samples();
        current->set_seq(seq);
        current->set_t_end_ns(q.ColumnInt(1));
        current->set_window_ns(q.ColumnInt(2));
        current->set_source(q.ColumnText(3));
      }
      v1::Reading* r = current->add_readings();
      r->set_channel(q.ColumnText(4));
      r->set_energy_mj(q.ColumnDouble(5));
      r->set_power_mw(q.ColumnDouble(6));
      r->set_quality(static_cast<v1::Quality>(q.ColumnInt(7)));
    }
  }
  return out;
}

absl::StatusOr<v1::ListRunsResponse> RunStore::ListRuns(const v1::ListRunsRequest& request) {
  int page_size = request.page_size() == 0 ? kDefaultPageSize : static_cast<int>(request.page_size());
  if (page_size < 1 || page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size ", request.page_size(), " is out of range [1, ", kMaxPageSize, "]"));
  }
  int64_t offset = 0;
  if (!request.page_token().empty() &&
      (!absl::SimpleAtoi(request.page_token(), &offset) || offset < 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token '", request.page_token(), "' is not one this server returned"));
  }
  std::string where = "WHERE 1";
  struct Arg {
    bool is_text;
    std::string text;
    int64_t number;
  };
  std::vector<Arg> args;
  if (!request.model().empty()) {
    where += " AND model = ?";
    args.push_back({true, request.model(), 0});
  }
  if (!request.id_prefix().empty()) {
    const std::string& prefix = request.id_prefix();
    bool hex = prefix.size() <= 32;
    for (char c : prefix) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!hex) {
      return absl::InvalidArgumentError(absl::StrCat(
          "id_prefix '", absl::CHexEscape(prefix),
          "' is not the start of a run id (1 to 32 lowercase hex digits)"));
    }
    where += " AND substr(id, 1, ?) = ?";
    args.push_back({false, "", static_cast<int64_t>(prefix.size())});
    args.push_back({true, prefix, 0});
  }
  if (!request.experiment().empty()) {
    where += " AND experiment = ?";
    args.push_back({true, request.experiment(), 0});
  }
  if (request.since_unix_ms() != 0) {
    where += " AND created_at_unix_ms >= ?";
    args.push_back({false, "", request.since_unix_ms()});
  }
  if (request.until_unix_ms() != 0) {
    where += " AND created_at_unix_ms < ?";
    args.push_back({false, "", request.until_unix_ms()});
  }
  if (request.statuses_size() > 0) {
    std::vector<std::string> marks(request.statuses_size(), "?");
    where += absl::StrCat(" AND status IN (", absl::StrJoin(marks, ","), ")");
    for (int s : request.statuses()) args.push_back({false, "", s});
  }
  if (request.tags_size() > 0) {
    std::vector<std::string> marks(request.tags_size(), "?");
    where += absl::StrCat(" AND (SELECT COUNT(DISTINCT tag) FROM run_tags t WHERE t.run_id = "
                          "runs.id AND t.tag IN (", absl::StrJoin(marks, ","), ")) = ?");
    for (const std::string& tag : request.tags()) args.push_back({true, tag, 0});
    std::set<std::string> distinct(request.tags().begin(), request.tags().end());
    args.push_back({false, "", static_cast<int64_t>(distinct.size())});
  }
  std::string order;
  switch (request.sort()) {
    case v1::RUN_SORT_UNSPECIFIED:
    case v1::RUN_SORT_CREATED_AT: order = "created_at_unix_ms"; break;
    case v1::RUN_SORT_TOTAL_ENERGY: order = "total_energy_mj"; break;
    case v1::RUN_SORT_JOULES_PER_TOKEN: order = "joules_per_token"; break;
    case v1::RUN_SORT_DECODE_TOKENS_PER_S: order = "decode_tokens_per_s"; break;
    case v1::RUN_SORT_MODEL: order = "model"; break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "sort ", static_cast<int>(request.sort()),
          " is unknown: use RUN_SORT_CREATED_AT (1), RUN_SORT_TOTAL_ENERGY (2), "
          "RUN_SORT_JOULES_PER_TOKEN (3), RUN_SORT_DECODE_TOKENS_PER_S (4) or RUN_SORT_MODEL (5)"));
  }
  std::string dir = request.ascending() ? "ASC" : "DESC";
  auto bind_all = [&](Statement& st) {
    int i = 1;
    for (const Arg& a : args) {
      if (a.is_text) st.Bind(i++, a.text);
      else st.Bind(i++, a.number);
    }
    return i;
  };

  absl::MutexLock lock(&mu_);
  Database* d = db_.get();
  v1::ListRunsResponse out;
  EPROF_ASSIGN_OR_RETURN(Statement count, d->Prepare("SELECT COUNT(*) FROM runs " + where));
  bind_all(count);
  EPROF_ASSIGN_OR_RETURN(bool has, count.Step());
  int64_t total = has ? count.ColumnInt(0) : 0;
  out.set_total_count(static_cast<uint32_t>(total));
  EPROF_ASSIGN_OR_RETURN(
      Statement q,
      d->Prepare(absl::StrCat("SELECT summary, id FROM runs ", where, " ORDER BY ", order, " ",
                              dir, ", created_at_unix_ms ", dir, ", id ", dir, " LIMIT ? OFFSET ?")));
  int next = bind_all(q);
  q.Bind(next, static_cast<int64_t>(page_size));
  q.Bind(next + 1, offset);
  int64_t rows_read = 0;  // the page's rows, the unreadable ones included
  for (;;) {
    EPROF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ++rows_read;
    v1::RunSummary summary;
    if (!summary.ParseFromString(q.ColumnText(0))) {
      // One damaged row must not hide every other run: it is left out of the page (GetRun on
      // its id reports the damage) and named in the log.
      EPROF_LOG(WARNING) << "run " << q.ColumnText(1)
                         << ": stored summary is unreadable; left out of the list";
      continue;
    }
    v1::RunSummary* run = out.add_runs();
    *run = std::move(summary);
    // A list carries previews: a few long prompts must not push a page past gRPC's limit.
    run->set_prompt_bytes(static_cast<uint32_t>(run->request().prompt().size()));
    if (CutToPreview(run->mutable_request()->mutable_prompt())) run->set_prompt_truncated(true);
    if (CutToPreview(run->mutable_output_text())) run->set_output_text_truncated(true);
  }
  if (offset + rows_read < total) out.set_next_page_token(absl::StrCat(offset + rows_read));
  return out;
}

absl::Status RunStore::DeleteRun(const std::string& run_id) {
  absl::MutexLock lock(&mu_);
  Database* d = db_.get();
  Transaction tx(d);
  EPROF_RETURN_IF_ERROR(tx.Begin());
  EPROF_ASSIGN_OR_RETURN(Statement del, d->Prepare("DELETE FROM runs WHERE id = ?"));
  del.Bind(1, run_id);
  EPROF_RETURN_IF_ERROR(del.Run());
  if (d->Changes() == 0) return absl::NotFoundError(absl::StrCat("no run ", run_id));
  return tx.Commit();
}

absl::Status RunStore::IntegrityCheck() {
  absl::MutexLock lock(&mu_);
  EPROF_ASSIGN_OR_RETURN(Statement q, db_->Prepare("PRAGMA integrity_check"));
  EPROF_ASSIGN_OR_RETURN(bool row, q.Step());
  std::string result = row ? q.ColumnText(0) : "no result";
  if (result != "ok") {
    return absl::DataLossError(absl::StrCat("database ", path_, " integrity check: ", result));
  }
  return absl::OkStatus();
}

absl::Status RunStore::SetMaxPageCountForTest(int64_t pages) {
  absl::MutexLock lock(&mu_);
  EPROF_ASSIGN_OR_RETURN(Statement q,
                         db_->Prepare(absl::StrCat("PRAGMA max_page_count = ", pages)));
  return q.Step().status();
}

}  // namespace eprof::store
