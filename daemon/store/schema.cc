#include "daemon/store/schema.h"

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

}  // namespace eprof::store
