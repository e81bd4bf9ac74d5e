#include "common/clock.h"

#include <time.h>

#include <cerrno>
#include <cstdlib>

namespace eprof {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

class RealClock final : public Clock {
 public:
  int64_t NowNs() const override {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * kNsPerSecond + ts.tv_nsec;
  }

  void SleepUntilNs(int64_t deadline_ns) override {
#if defined(__linux__)
    struct timespec ts;
    ts.tv_sec = deadline_ns / kNsPerSecond;
    ts.tv_nsec = deadline_ns % kNsPerSecond;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
#else
    // macOS has no clock_nanosleep: sleep relative, re-checking the clock after each wake-up.
    for (int64_t now = NowNs(); now < deadline_ns; now = NowNs()) {
      int64_t left_ns = deadline_ns - now;
      struct timespec ts;
      ts.tv_sec = left_ns / kNsPerSecond;
      ts.tv_nsec = left_ns % kNsPerSecond;
      nanosleep(&ts, nullptr);
    }
#endif
  }

  bool SleepUntilNs(int64_t deadline_ns, SleepInterrupt* interrupt) override {
    // Relative waits, re-checking this clock after each: the condition variable's clock need
    // not be this one (on macOS steady_clock does not count sleep; CLOCK_MONOTONIC does).
    for (int64_t now = NowNs(); now < deadline_ns; now = NowNs()) {
      if (interrupt->WaitForNs(deadline_ns - now)) return false;
    }
    return !interrupt->interrupted();
  }
};

}  // namespace

void SleepInterrupt::Interrupt() {
  absl::MutexLock lock(&mu_);
  interrupted_ = true;
}

void SleepInterrupt::Reset() {
  absl::MutexLock lock(&mu_);
  interrupted_ = false;
}

bool SleepInterrupt::interrupted() const {
  absl::MutexLock lock(&mu_);
  return interrupted_;
}

bool SleepInterrupt::WaitForNs(int64_t timeout_ns) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&interrupted_), absl::Nanoseconds(timeout_ns));
}

Clock* Clock::Real() {
  static Clock* const clock = new RealClock();
  return clock;
}

int64_t WallClockUnixMs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

int64_t FakeClock::NowNs() const {
  absl::MutexLock lock(&mu_);
  return now_ns_;
}

void FakeClock::SleepUntilNs(int64_t deadline_ns) {
  absl::MutexLock lock(&mu_);
  sleep_deadlines_.push_back(deadline_ns);
  if (deadline_ns > now_ns_) now_ns_ = deadline_ns;
}

bool FakeClock::SleepUntilNs(int64_t deadline_ns, SleepInterrupt* interrupt) {
  if (interrupt->interrupted()) return false;
  SleepUntilNs(deadline_ns);
  return true;
}

void FakeClock::AdvanceNs(int64_t delta_ns) {
  if (delta_ns < 0) std::abort();  // a monotonic clock never goes back
  absl::MutexLock lock(&mu_);
  now_ns_ += delta_ns;
}

void FakeClock::SetNowNs(int64_t now_ns) {
  absl::MutexLock lock(&mu_);
  if (now_ns < now_ns_) std::abort();  // a monotonic clock never goes back
  now_ns_ = now_ns;
}

std::vector<int64_t> FakeClock::sleep_deadlines() const {
  absl::MutexLock lock(&mu_);
  return sleep_deadlines_;
}

}  // namespace eprof
