// The SQLite store of profiling runs: one file, WAL mode, foreign keys on with ON DELETE CASCADE,
// a schema version with migrations (schema.h).
//
//   EPROF_ASSIGN_OR_RETURN(auto store, RunStore::Open(RunStore::ResolvePath(flag_db)));
//   EPROF_ASSIGN_OR_RETURN(int interrupted, store->MarkUnfinishedInterrupted());
//   EPROF_RETURN_IF_ERROR(store->CreateRun(summary));          // status RUNNING
//   EPROF_RETURN_IF_ERROR(store->AppendRows(id, rows));         // batches while the run goes on
//   EPROF_RETURN_IF_ERROR(store->UpdateSummary(final_summary)); // the end
//
// Every write is one transaction: a failure (disk full, read-only file) rolls it back and returns
// the error, leaving the database and every earlier run intact. A crash loses at most the batch
// being written; runs found RUNNING or QUEUED at the next start become INTERRUPTED.
//
// Thread safety: all methods are thread-safe (one connection, serialised by a mutex). No method
// is meant to be called on a latency-critical thread: the profiler hands rows to a writer.
#ifndef EPROF_DAEMON_STORE_RUN_STORE_H_
#define EPROF_DAEMON_STORE_RUN_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/lock_file.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::store {

class Database;

// Rows of one run written together.
struct RunRows {
  // Inserted (a sample's seq must be new for the run).
  std::vector<v1::PowerSample> samples;
  // Inserted or replaced by index, with their layers, components and attention statistics
  // (a token's energy is rewritten once it is final).
  std::vector<v1::TokenRecord> tokens;
  // Empty, or one entry per token: its layers already in their stored form (an
  // eprof.store.TokenLayers message's bytes, as SpanRecorder::BuildRow makes them; "" for none),
  // for a record without `layers`. The profiler writes its tokens so, sparing the ~800 messages of
  // a TokenRecord's layers at detail components on the inference thread.
  std::vector<std::string> token_layers;
  // Inserted or replaced by phase. Their `layers` are not taken from here: prefill's and
  // decode's are the sums of their tokens' layers, stored by UpdateSummary when the run is
  // finished (and summed on read before then).
  std::vector<v1::PhaseRecord> phases;

  bool empty() const { return samples.empty() && tokens.empty() && phases.empty(); }
};

class RunStore {
 public:
  // Where the database lives when no --db flag is given: $EPROF_DB, else eprof.db in
  // DefaultDataDir() (common/paths.h), beside the models. `flag` wins when non-empty.
  static std::string ResolvePath(const std::string& flag);

  // Opens or creates the database at `path` (creating its directory), applies pending
  // migrations. The store holds a lock on `path` + ".lock" while it is open: one database, one
  // daemon. Errors: FAILED_PRECONDITION when another process (or store) has the database open
  // (naming its pid), when the file's schema is newer than this build knows, or when the file
  // is another application's SQLite database; DATA_LOSS when it is not a SQLite database; the
  // translated SQLite error otherwise.
  static absl::StatusOr<std::unique_ptr<RunStore>> Open(const std::string& path);

  ~RunStore();

  // The schema version this build writes.
  static int LatestSchemaVersion();
  const std::string& path() const { return path_; }

  // Marks runs left RUNNING or QUEUED as INTERRUPTED (call once at daemon start). Returns how
  // many were marked.
  absl::StatusOr<int> MarkUnfinishedInterrupted();

  // Inserts a new run from its initial summary (run_id required). FAILED_PRECONDITION when the
  // id exists.
  absl::Status CreateRun(const v1::RunSummary& summary);

  // Writes a batch of rows for `run_id` in one transaction. NOT_FOUND for an unknown run.
  absl::Status AppendRows(const std::string& run_id, const RunRows& rows);

  // Replaces the run's summary (status, figures, warnings) and its tags. At a final status
  // (completed, cancelled, failed, interrupted) also stores the prefill and decode phases'
  // layer sums, from the tokens' layers as they are then, which GetRun reads from then on.
  absl::Status UpdateSummary(const v1::RunSummary& summary);

  absl::StatusOr<v1::RunSummary> GetSummary(const std::string& run_id);

  // The run with the parts asked for (phases with sections and layer metrics, tokens with
  // layers/components/attention, power samples). NOT_FOUND for an unknown id.
  absl::StatusOr<v1::GetRunResponse> GetRun(const std::string& run_id, const v1::RunParts& parts);

  // Filtered, sorted, paged summaries. INVALID_ARGUMENT for a bad page size or token.
  absl::StatusOr<v1::ListRunsResponse> ListRuns(const v1::ListRunsRequest& request);

  // Deletes the run and everything recorded for it. NOT_FOUND for an unknown id.
  absl::Status DeleteRun(const std::string& run_id);

  // PRAGMA integrity_check; OK when it says "ok".
  absl::Status IntegrityCheck();

  // Test hook: limits the database file to `pages` pages (PRAGMA max_page_count), so a test can
  // make the "disk" full.
  absl::Status SetMaxPageCountForTest(int64_t pages);

 private:
  RunStore(std::string path, std::unique_ptr<Database> db, std::optional<LockFile> lock);
  absl::Status Migrate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteTokens(const std::string& run_id, const std::vector<v1::TokenRecord>& tokens,
                           const std::vector<std::string>& token_layers)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ReadTokens(const std::string& run_id, const v1::RunParts& parts,
                          v1::GetRunResponse* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<bool> RunExists(const std::string& run_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StorePhaseLayers(const std::string& run_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  std::optional<LockFile> lock_;
  absl::Mutex mu_;
  std::unique_ptr<Database> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eprof::store

#endif  // EPROF_DAEMON_STORE_RUN_STORE_H_
