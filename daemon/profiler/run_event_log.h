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
// The log keeps every event of the run in wire form only (a 1,000-token run at detail
// components is ~3.5 MB): each event is serialized once, by Append, and its bytes are shared,
// not copied, with every stream that sends it. Keeping the wire form rather than the message
// also lets the run's thread build each token event into one reused message (no ~400 messages
// to allocate and free per token at detail components) and leaves readers nothing to copy or
// serialize under the log's lock.
//
// Thread safety: all methods are thread-safe. Append never blocks on readers: it serializes
// outside the lock they take (concurrent Appends take turns).
#ifndef EPROF_DAEMON_PROFILER_RUN_EVENT_LOG_H_
#define EPROF_DAEMON_PROFILER_RUN_EVENT_LOG_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

// One appended event, in protobuf wire form.
class LoggedEvent {
 public:
  // Serializes `event` (its seq and run_id as they are).
  explicit LoggedEvent(const v1::ProfileEvent& event);
  uint64_t seq() const { return seq_; }
  const std::string& bytes() const { return bytes_; }
  // The event again, parsed from its wire form (for tests and tools; streams send bytes()).
  v1::ProfileEvent Parse() const;

 private:
  const uint64_t seq_;
  const std::string bytes_;
};

class RunEventLog {
 public:
  explicit RunEventLog(std::string run_id) : run_id_(std::move(run_id)) {}

  // Appends `event`, setting its seq (0, 1, ...) and run_id, and keeps its wire form: the caller
  // may reuse `event` for the next one. Returns the seq. Ignored (returns the next seq without
  // storing) after Close().
  uint64_t Append(v1::ProfileEvent& event);
  uint64_t Append(v1::ProfileEvent&& event) { return Append(event); }

  // No more events will come (after the run's summary). Wakes every reader.
  void Close();
  bool closed() const;
  // Waits up to `timeout` for Close(); returns closed().
  bool AwaitClosed(absl::Duration timeout) const;
  // Waits up to `timeout` for more than `tokens` TokenCompleted events, or Close(); returns
  // whether there are.
  bool AwaitTokens(uint32_t tokens, absl::Duration timeout) const;

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
  // Held by Append throughout, so that events are stored in seq order while the one being
  // serialized keeps no reader waiting.
  absl::Mutex append_mu_;
  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(append_mu_);
  std::vector<EventPtr> events_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  v1::Phase phase_ ABSL_GUARDED_BY(mu_) = v1::PHASE_UNSPECIFIED;
  uint32_t tokens_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_PROFILER_RUN_EVENT_LOG_H_
