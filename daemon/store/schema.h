// The run store's SQLite schema, as an ordered list of migrations. Migration i (1-based) takes
// the database from version i-1 to version i; a fresh database runs them all. Never edit a
// released migration: append a new one.
//
// Layout (version 1):
//   runs             one row per run: filter/sort columns + the RunSummary proto (summary blob)
//   run_tags         (run_id, tag)
//   phases           one row per (run, phase): figures + the PhaseRecord proto without layers
//   tokens           one row per generated token: figures + per-channel energies (Energy blob)
//   layer_metrics    one row per (run, token, layer); token 0 is the prefill forward pass.
//                    `detail` holds the layer's components, activation and attention
//                    statistics as an eprof.v1.LayerMetrics proto (only those fields set).
//                    One row per component instead made a 1,000-token run of the demo model
//                    (372,000 component rows) take 0.85 s to save against a 0.5 s target.
//   power_readings   one row per (run, sample seq, channel)
// Every child table references runs(id) ON DELETE CASCADE.
#ifndef EPROF_DAEMON_STORE_SCHEMA_H_
#define EPROF_DAEMON_STORE_SCHEMA_H_

#include <vector>

namespace eprof::store {

// kMigrations[i] brings the schema from version i to i + 1.
const std::vector<const char*>& Migrations();

}  // namespace eprof::store

#endif  // EPROF_DAEMON_STORE_SCHEMA_H_
