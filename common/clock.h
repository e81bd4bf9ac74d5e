// The one clock of eprof: CLOCK_MONOTONIC nanoseconds of the host, behind an interface so that
// tests can drive time themselves.
//
//   Clock* clock = options.clock ? options.clock : Clock::Real();
//   int64_t t0_ns = clock->NowNs();
//   clock->SleepUntilNs(t0_ns + 100'000'000);  // 100 ms later
//
// Every timestamp eprof stores or sends is such a value (see design: "One clock"); the helper and
// the daemon run on the same host, so their clocks agree. Wall-clock time is a label only
// (WallClockUnixMs).
//
// Thread safety: every method of every implementation is safe to call from any thread.
#ifndef EPROF_COMMON_CLOCK_H_
#define EPROF_COMMON_CLOCK_H_

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace eprof {

// Ends an interruptible sleep (Clock::SleepUntilNs(deadline, &interrupt)) early: a sampler
// thread sleeps until its next tick in one wait and still stops at once when told to, instead of
// waking every few ms to check a flag (each wake-up costs CPU, most of all on a VM).
//
// Thread safety: Interrupt() from any thread; Reset() and the sleep from the sleeping thread.
class SleepInterrupt {
 public:
  // Wakes the sleeper now; later sleeps return at once until Reset().
  void Interrupt();
  void Reset();
  bool interrupted() const;
  // Waits up to `timeout_ns` (real time) for Interrupt(); returns whether it came.
  bool WaitForNs(int64_t timeout_ns);

 private:
  mutable absl::Mutex mu_;
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
};

class Clock {
 public:
  virtual ~Clock() = default;

  // CLOCK_MONOTONIC of the host, ns. Never decreases.
  virtual int64_t NowNs() const = 0;

  // Returns once NowNs() >= deadline_ns (at once if it already is).
  virtual void SleepUntilNs(int64_t deadline_ns) = 0;
  // The same, but returns false at once when `interrupt` is (or becomes) interrupted; true once
  // the deadline is reached.
  virtual bool SleepUntilNs(int64_t deadline_ns, SleepInterrupt* interrupt) = 0;

  // The process-wide real clock (clock_gettime(CLOCK_MONOTONIC)). Never deleted.
  static Clock* Real();
};

// Milliseconds since the Unix epoch (CLOCK_REALTIME): a label for people, never used to compute
// durations.
int64_t WallClockUnixMs();

// A clock that moves only when told to, for tests. SleepUntilNs() does not block: it moves the
// time forward to the deadline (simulated sleeping) and records the deadline, so code that paces
// itself with the clock runs instantly and deterministically.
class FakeClock final : public Clock {
 public:
  // Starts at `start_ns` (default 1 s, so that "0" is never a valid timestamp by accident).
  explicit FakeClock(int64_t start_ns = 1'000'000'000) : now_ns_(start_ns) {}

  int64_t NowNs() const override;
  void SleepUntilNs(int64_t deadline_ns) override;
  // Returns false without moving the time if `interrupt` is set; else as SleepUntilNs.
  bool SleepUntilNs(int64_t deadline_ns, SleepInterrupt* interrupt) override;

  // Moves the time forward by `delta_ns` >= 0.
  void AdvanceNs(int64_t delta_ns);
  // Sets the time; REQUIRES: now_ns >= NowNs() (the clock is monotonic).
  void SetNowNs(int64_t now_ns);

  // The deadlines passed to SleepUntilNs, in call order.
  std::vector<int64_t> sleep_deadlines() const;

 private:
  mutable absl::Mutex mu_;
  int64_t now_ns_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> sleep_deadlines_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eprof

#endif  // EPROF_COMMON_CLOCK_H_
