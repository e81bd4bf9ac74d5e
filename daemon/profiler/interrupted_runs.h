// Gives the runs that an eprofd which stopped mid-run (crash, kill) left unfinished their
// figures, rebuilt from what was stored before it stopped, once at the next start.
//
//   EPROF_ASSIGN_OR_RETURN(int n, FinishInterruptedRuns(store, /*grid=*/400));
//
// A run found RUNNING or QUEUED becomes RUN_STATUS_INTERRUPTED with `partial` set and a warning:
// its tokens (count and text) are the stored token rows; its phases the stored phase records,
// plus a decode phase from the first to the last stored decode token when decode never ended;
// its energies are attributed again from the stored power samples with the run's baseline
// (the median of the idle phase, when that phase was stored), by the same functions a finished
// run uses (run_figures.h). Nothing else of the run changes.
//
// Thread safety: call before the daemon serves (it is the only writer then).
#ifndef EPROF_DAEMON_PROFILER_INTERRUPTED_RUNS_H_
#define EPROF_DAEMON_PROFILER_INTERRUPTED_RUNS_H_

#include "absl/status/statusor.h"
#include "daemon/store/run_store.h"

namespace eprof::daemon {

// Returns how many runs were finished so. A run whose rows cannot be read is still marked
// interrupted (with the store's plain warning), and counted.
absl::StatusOr<int> FinishInterruptedRuns(store::RunStore* store, double grid_intensity_g_per_kwh);

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_INTERRUPTED_RUNS_H_
