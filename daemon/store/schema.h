// The run store's SQLite schema, as an ordered list of migrations. Migration i (1-based) takes
// the database from version i-1 to version i; a fresh database runs them all. Never edit a
// released migration: append a new one.
//
// Layout (version 2):
//   runs             one row per run: filter/sort columns + the RunSummary proto (summary blob)
//   run_tags         (run_id, tag)
//   phases           one row per (run, phase): figures + the PhaseRecord proto without layers
//   tokens           one row per generated token: figures + per-channel energies (Energy blob)
//   token_layers     one row per (run, token) with layers; token 0 is the prefill forward pass.
//                    `layers` is an eprof.store.TokenLayers proto (proto/eprof/store): every
//                    layer's and component's figures in packed arrays, deep statistics as
//                    LayerMetrics. A 1,000-token components run of the demo model is 1,000
//                    rows. Version 1 had one layer_metrics row per (run, token, layer) with a
//                    LayerMetrics blob: 31,000 rows, saved in 0.22 s, and their writer thread
//                    measurably slowed the decode it ran beside (daemon_bench, 2 cores).
//                    (One row per component before that took 0.85 s.)
//   power_readings   one row per (run, sample seq, channel)
// Every child table references runs(id) ON DELETE CASCADE.
#ifndef EPROF_DAEMON_STORE_SCHEMA_H_
#define EPROF_DAEMON_STORE_SCHEMA_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "daemon/store/sqlite.h"

namespace eprof::store {

// kMigrations[i] brings the schema from version i to i + 1.
const std::vector<const char*>& Migrations();

// Brings database `d` (at `path`, for messages) to the latest version, each migration in its own
// transaction. FAILED_PRECONDITION, changing nothing, for a database of another application (no
// schema_version table, tables of its own) or a newer schema; a failed migration leaves the
// database at the version before it, saying so.
absl::Status MigrateToLatest(Database* d, const std::string& path);

}  // namespace eprof::store

#endif  // EPROF_DAEMON_STORE_SCHEMA_H_
