// The events of one run, in order, for any number of readers: the Profile stream of the client
// that started the run and every Watch stream. Readers keep their own cursor (the next seq they
// want), get history first and then wait for live events, so they all see the same events with
// the same seq in the same order, without gaps or duplicates.
//
//   auto log = std::make_shared<RunEventLog>(run_id);
//   log->Append(event);                       // the run's thread
//   ...
//   uint64_t next = 0; bool closed = false;
//   while (!closed) {
//     for (auto& e : log->Read(next, absl::Milliseconds(50), &closed)) { write(*e); next = e->seq() + 1; }
//   }
//
// The log keeps every event of the run (a 1,000-token run at detail components is a few MB); it
// is dropped when the run is finished and no reader holds it. Events are immutable once appended
// and shared, not copied, with readers: a token event at detail components holds ~400 metrics,
// and ten Watch clients copying it under the log's lock delayed them all (and the run's thread).
// Each event is also serialized at most once, by the first stream that sends it, and its wire
// form is shared by every other stream (~7 KB, ~30 us of CPU per copy at detail components).
//
// Thread safety: all methods are thread-safe. Append never blocks on readers.
#ifndef EPROF_DAEMON_SERVICE_RUN_EVENT_LOG_H_
#define EPROF_DAEMON_SERVICE_RUN_EVENT_LOG_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

// One appended event and, once asked for, its protobuf wire form.
class LoggedEvent {
 public:
  explicit LoggedEvent(v1::ProfileEvent event) : event_(std::move(event)) {}
  const v1::ProfileEvent& event() const { return event_; }
  // The serialized event; made on the first call (any thread, once), then shared.
  const std::string& bytes() const;

 private:
  const v1::ProfileEvent event_;
  mutable std::once_flag serialized_;
  mutable std::string bytes_;
};

class RunEventLog {
 public:
  explicit RunEventLog(std::string run_id) : run_id_(std::move(run_id)) {}

  // Appends `event`, setting its seq (0, 1, ...) and run_id; returns the seq. Ignored (returns
  // the next seq without storing) after Close().
  uint64_t Append(v1::ProfileEvent event);

  // No more events will come (after the run's summary). Wakes every reader.
  void Close();
  bool closed() const;
  // Waits up to `timeout` for Close(); returns closed().
  bool AwaitClosed(absl::Duration timeout) const;

  // Events with seq >= from_seq, at most `max_events`. If there are none yet and the log is
  // open, waits up to `timeout` for one. `*closed` is set when the log is closed and the
  // returned events reach its end (the reader is done).
  using EventPtr = std::shared_ptr<const LoggedEvent>;
  std::vector<EventPtr> Read(uint64_t from_seq, absl::Duration timeout, bool* closed,
                             size_t max_events = 256) const;

  uint64_t size() const;
  const std::string& run_id() const { return run_id_; }
  // The phase of the latest PhaseStarted event, and the TokenCompleted events so far.
  v1::Phase current_phase() const;
  uint32_t tokens() const;

 private:
  const std::string run_id_;
  mutable absl::Mutex mu_;
  std::vector<EventPtr> events_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  v1::Phase phase_ ABSL_GUARDED_BY(mu_) = v1::PHASE_UNSPECIFIED;
  uint32_t tokens_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_SERVICE_RUN_EVENT_LOG_H_
