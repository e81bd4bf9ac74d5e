#include "daemon/store/schema.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "daemon/store/token_layers.h"

namespace eprof::store {

const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> kMigrations = {
      // 0 → 1: the first schema.
      R"sql(
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  created_at_unix_ms INTEGER NOT NULL,
  status INTEGER NOT NULL,
  model TEXT NOT NULL,
  experiment TEXT NOT NULL DEFAULT '',
  detail INTEGER NOT NULL DEFAULT 0,
  start_ns INTEGER NOT NULL DEFAULT 0,
  end_ns INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  total_energy_mj REAL NOT NULL DEFAULT 0,
  joules_per_token REAL NOT NULL DEFAULT 0,
  decode_tokens_per_s REAL NOT NULL DEFAULT 0,
  summary BLOB NOT NULL
);
CREATE INDEX runs_by_created ON runs(created_at_unix_ms);
CREATE INDEX runs_by_model ON runs(model, created_at_unix_ms);
CREATE INDEX runs_by_experiment ON runs(experiment, created_at_unix_ms);
CREATE INDEX runs_by_status ON runs(status);

CREATE TABLE run_tags (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX run_tags_by_tag ON run_tags(tag, run_id);

CREATE TABLE phases (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  phase INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  total_mj REAL NOT NULL,
  dynamic_mj REAL NOT NULL,
  attribution INTEGER NOT NULL,
  record BLOB NOT NULL,
  PRIMARY KEY (run_id, phase)
) WITHOUT ROWID;

CREATE TABLE tokens (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  token_id INTEGER NOT NULL,
  text TEXT NOT NULL,
  phase INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  total_mj REAL NOT NULL,
  dynamic_mj REAL NOT NULL,
  attribution INTEGER NOT NULL,
  quality INTEGER NOT NULL,
  probability REAL NOT NULL,
  channels BLOB,
  PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;

CREATE TABLE layer_metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  token_idx INTEGER NOT NULL,
  layer INTEGER NOT NULL,
  duration_ns INTEGER NOT NULL,
  total_mj REAL NOT NULL,
  dynamic_mj REAL NOT NULL,
  attribution INTEGER NOT NULL,
  detail BLOB,
  PRIMARY KEY (run_id, token_idx, layer)
) WITHOUT ROWID;

CREATE TABLE power_readings (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  t_end_ns INTEGER NOT NULL,
  window_ns INTEGER NOT NULL,
  source TEXT NOT NULL,
  channel TEXT NOT NULL,
  energy_mj REAL NOT NULL,
  power_mw REAL NOT NULL,
  quality INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq, channel)
) WITHOUT ROWID;
)sql",
      // 1 → 2: a token's layer and component metrics in one row (eprof.store.TokenLayers)
      // instead of one row per layer. RunStore::Migrate moves the rows of layer_metrics into
      // it and drops layer_metrics.
      R"sql(
CREATE TABLE token_layers (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  token_idx INTEGER NOT NULL,
  layers BLOB NOT NULL,
  PRIMARY KEY (run_id, token_idx)
);
)sql",
  };
  return kMigrations;
}

namespace {

// Schema 1 → 2: every (run, token)'s layer_metrics rows become one token_layers row, then
// layer_metrics goes. Runs inside the migration's transaction: a failure leaves version 1.
absl::Status MoveLayerRowsToTokenLayers(Database* d) {
  EPROF_ASSIGN_OR_RETURN(
      Statement q,
      d->Prepare("SELECT run_id, token_idx, layer, duration_ns, total_mj, dynamic_mj, attribution, "
                 "detail FROM layer_metrics "
                 // per token: transformer layers in order, the outside-layers part (-1) last
                 "ORDER BY run_id, token_idx, layer < 0, layer"));
  EPROF_ASSIGN_OR_RETURN(
      Statement ins, d->Prepare("INSERT INTO token_layers(run_id, token_idx, layers) VALUES (?,?,?)"));
  std::string run_id;
  int64_t token_idx = -1;
  v1::TokenRecord token;
  TokenLayers scratch;
  std::string bytes;
  auto flush = [&]() -> absl::Status {
    if (token.layers_size() == 0) return absl::OkStatus();
    EncodeTokenLayers(token, &scratch, &bytes);
    ins.Bind(1, run_id);
    ins.Bind(2, token_idx);
    ins.BindBlob(3, bytes);
    token.clear_layers();
    return ins.Run();
  };
  for (;;) {
    EPROF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    std::string row_run = q.ColumnText(0);
    const int64_t row_token = q.ColumnInt(1);
    if (row_run != run_id || row_token != token_idx) {
      EPROF_RETURN_IF_ERROR(flush());
      run_id = std::move(row_run);
      token_idx = row_token;
    }
    v1::LayerMetrics* l = token.add_layers();
    if (!q.ColumnIsNull(7) && !l->ParseFromString(q.ColumnText(7))) {
      return absl::DataLossError(absl::StrCat("run ", run_id, ": stored metrics of token ",
                                              token_idx, " layer ", q.ColumnInt(2),
                                              " are unreadable"));
    }
    l->set_layer(static_cast<int32_t>(q.ColumnInt(2)));
    l->set_duration_ns(q.ColumnInt(3));
    l->mutable_energy()->set_total_mj(q.ColumnDouble(4));
    l->mutable_energy()->set_dynamic_mj(q.ColumnDouble(5));
    l->mutable_energy()->set_attribution(static_cast<v1::Attribution>(q.ColumnInt(6)));
  }
  EPROF_RETURN_IF_ERROR(flush());
  q.Reset();
  return d->Exec("DROP TABLE layer_metrics");
}


}  // namespace

absl::Status MigrateToLatest(Database* d, const std::string& path) {
  {
    // A database without eprof's version table that holds tables of its own belongs to another
    // application: adding eprof's tables to it would change someone else's file.
    EPROF_ASSIGN_OR_RETURN(
        Statement q, d->Prepare("SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                "AND name = 'schema_version'), (SELECT group_concat(name, ', ') "
                                "FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                "name NOT LIKE 'sqlite_%' LIMIT 5))"));
    EPROF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row && q.ColumnInt(0) == 0 && !q.ColumnIsNull(1) && !q.ColumnText(1).empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is a SQLite database of another application (its tables: ", q.ColumnText(1),
          "), not eprof's; eprofd leaves it unchanged: give --db a new file or an eprof "
          "database"));
    }
  }
  EPROF_RETURN_IF_ERROR(d->Exec(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  EPROF_ASSIGN_OR_RETURN(Statement q, d->Prepare("SELECT MAX(version) FROM schema_version"));
  EPROF_ASSIGN_OR_RETURN(bool row, q.Step());
  int version = row && !q.ColumnIsNull(0) ? static_cast<int>(q.ColumnInt(0)) : 0;
  q.Reset();
  const auto& migrations = Migrations();
  if (version > static_cast<int>(migrations.size())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", path, " has schema version ", version, ", newer than this eprofd knows (",
        migrations.size(), "): upgrade eprof, or choose another --db"));
  }
  for (int v = version; v < static_cast<int>(migrations.size()); ++v) {
    // Fresh databases run every migration at once and quietly; an existing one says so, since
    // rewriting its rows (version 2 re-encodes every token's layers) can take seconds.
    if (version > 0) {
      EPROF_LOG(INFO) << "database " << path << ": migrating from schema version " << v << " to "
                      << v + 1;
    }
    Transaction tx(d);
    EPROF_RETURN_IF_ERROR(tx.Begin());
    absl::Status step = d->Exec(migrations[v]);
    if (step.ok() && v + 1 == 2) step = MoveLayerRowsToTokenLayers(d);
    if (!step.ok()) {  // the transaction rolls back: nothing of this step stays
      return absl::Status(
          step.code(),
          absl::StrCat("database ", path, ": migration to schema version ", v + 1,
                       " failed and changed nothing (the database stays at version ", v,
                       ", its runs intact): ", step.message(),
                       ". Use it with the eprofd that wrote it, or start eprofd with another --db"));
    }
    EPROF_RETURN_IF_ERROR(d->Exec("DELETE FROM schema_version"));
    EPROF_RETURN_IF_ERROR(d->Exec(absl::StrCat("INSERT INTO schema_version VALUES (", v + 1, ")")));
    EPROF_RETURN_IF_ERROR(tx.Commit());
  }
  return absl::OkStatus();
}


}  // namespace eprof::store
