#include "common/clock.h"

#include <time.h>

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof {
namespace {

using ::testing::ElementsAre;

TEST(RealClock, IsMonotonicAndMatchesClockMonotonic) {
  Clock* clock = Clock::Real();
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t direct_ns = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
  int64_t a = clock->NowNs();
  int64_t b = clock->NowNs();
  EXPECT_LE(direct_ns, a);
  EXPECT_LE(a, b);
  EXPECT_LT(a - direct_ns, 1'000'000'000);  // the same clock, not another epoch
}

TEST(RealClock, SleepUntilReachesTheDeadline) {
  Clock* clock = Clock::Real();
  int64_t deadline = clock->NowNs() + 2'000'000;  // 2 ms
  clock->SleepUntilNs(deadline);
  EXPECT_GE(clock->NowNs(), deadline);
  clock->SleepUntilNs(deadline - 1'000'000'000);  // in the past: returns at once
}

TEST(RealClock, InterruptibleSleepReachesTheDeadline) {
  Clock* clock = Clock::Real();
  SleepInterrupt interrupt;
  int64_t deadline = clock->NowNs() + 2'000'000;
  EXPECT_TRUE(clock->SleepUntilNs(deadline, &interrupt));
  EXPECT_GE(clock->NowNs(), deadline);
  EXPECT_TRUE(clock->SleepUntilNs(deadline - 1'000'000'000, &interrupt));  // past: at once
}

TEST(RealClock, InterruptEndsALongSleepAtOnce) {
  Clock* clock = Clock::Real();
  SleepInterrupt interrupt;
  const int64_t t0 = clock->NowNs();
  std::thread waker([&] {
    clock->SleepUntilNs(t0 + 20'000'000);
    interrupt.Interrupt();
  });
  // An hour's sleep, woken after 20 ms (the bound is loose: a busy machine may be slow to wake).
  EXPECT_FALSE(clock->SleepUntilNs(t0 + 3'600'000'000'000, &interrupt));
  EXPECT_LT(clock->NowNs() - t0, 30'000'000'000);
  waker.join();
  // Sticky until reset.
  EXPECT_TRUE(interrupt.interrupted());
  EXPECT_FALSE(clock->SleepUntilNs(clock->NowNs() + 3'600'000'000'000, &interrupt));
  interrupt.Reset();
  EXPECT_TRUE(clock->SleepUntilNs(clock->NowNs() + 1'000'000, &interrupt));
}

TEST(WallClock, IsUnixMilliseconds) {
  int64_t ms = WallClockUnixMs();
  EXPECT_GT(ms, 1'700'000'000'000);  // after 2023-11
  EXPECT_LT(ms, 4'100'000'000'000);  // before 2100
}

TEST(FakeClock, MovesOnlyWhenTold) {
  FakeClock clock(5'000);
  EXPECT_EQ(clock.NowNs(), 5'000);
  clock.AdvanceNs(250);
  EXPECT_EQ(clock.NowNs(), 5'250);
  clock.SetNowNs(9'000);
  EXPECT_EQ(clock.NowNs(), 9'000);
}

TEST(FakeClock, SleepAdvancesToTheDeadlineAndRecordsIt) {
  FakeClock clock(1'000);
  clock.SleepUntilNs(3'000);
  EXPECT_EQ(clock.NowNs(), 3'000);
  clock.SleepUntilNs(2'000);  // already past: time does not go back
  EXPECT_EQ(clock.NowNs(), 3'000);
  EXPECT_THAT(clock.sleep_deadlines(), ElementsAre(3'000, 2'000));
}

TEST(FakeClock, InterruptibleSleepMovesTimeUnlessInterrupted) {
  FakeClock clock(1'000);
  SleepInterrupt interrupt;
  EXPECT_TRUE(clock.SleepUntilNs(4'000, &interrupt));
  EXPECT_EQ(clock.NowNs(), 4'000);
  interrupt.Interrupt();
  EXPECT_FALSE(clock.SleepUntilNs(9'000, &interrupt));
  EXPECT_EQ(clock.NowNs(), 4'000);
  EXPECT_THAT(clock.sleep_deadlines(), ElementsAre(4'000));
}

TEST(FakeClock, IsThreadSafe) {
  FakeClock clock(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) clock.AdvanceNs(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.NowNs(), 4000);
}

TEST(FakeClockDeathTest, RefusesToGoBack) {
  FakeClock clock(1'000);
  EXPECT_DEATH(clock.SetNowNs(999), "");
}

}  // namespace
}  // namespace eprof
