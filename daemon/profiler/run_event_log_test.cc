#include "daemon/profiler/run_event_log.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::daemon {
namespace {

v1::ProfileEvent TokenEvent(uint32_t index) {
  v1::ProfileEvent e;
  e.mutable_token()->mutable_token()->set_index(index);
  return e;
}

TEST(RunEventLog, AssignsSeqAndRunId) {
  RunEventLog log("run-1");
  EXPECT_EQ(log.Append(TokenEvent(0)), 0u);
  EXPECT_EQ(log.Append(TokenEvent(1)), 1u);
  bool closed = true;
  auto events = log.Read(0, absl::ZeroDuration(), &closed);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]->seq(), 1u);
  EXPECT_EQ(events[1]->Parse().seq(), 1u);
  EXPECT_EQ(events[1]->Parse().run_id(), "run-1");
  EXPECT_FALSE(closed);
  log.Close();
  EXPECT_EQ(log.Append(TokenEvent(2)), 2u);  // ignored after close
  EXPECT_EQ(log.size(), 2u);
  events = log.Read(2, absl::Seconds(10), &closed);  // returns at once: closed
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(closed);
}

TEST(RunEventLog, ReadWaitsForLiveEventsAndCapsBatches) {
  RunEventLog log("r");
  bool closed = false;
  EXPECT_TRUE(log.Read(0, absl::Milliseconds(5), &closed).empty());
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(20));
    for (uint32_t i = 0; i < 10; ++i) log.Append(TokenEvent(i));
  });
  auto events = log.Read(0, absl::Seconds(10), &closed);
  writer.join();
  EXPECT_GE(events.size(), 1u);
  EXPECT_EQ(log.Read(0, absl::ZeroDuration(), &closed, 3).size(), 3u);
  EXPECT_FALSE(closed);
}

// Append keeps the event's wire form, shared by every reader: the caller's message can be
// reused for the next event without changing what was logged.
TEST(RunEventLog, KeepsTheWireFormOfEachEventAsAppended) {
  RunEventLog log("run-w");
  v1::ProfileEvent scratch = TokenEvent(7);
  scratch.set_t_ns(123);
  log.Append(scratch);
  EXPECT_EQ(scratch.seq(), 0u);
  EXPECT_EQ(scratch.run_id(), "run-w");
  const std::string first = scratch.SerializeAsString();
  scratch.mutable_token()->mutable_token()->set_index(8);  // the next token, same message
  scratch.mutable_token()->mutable_token()->set_text("eight");
  log.Append(scratch);
  bool closed = false;
  auto a = log.Read(0, absl::ZeroDuration(), &closed);
  auto b = log.Read(0, absl::ZeroDuration(), &closed);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(&a[0]->bytes(), &b[0]->bytes());  // one string, shared
  EXPECT_EQ(a[0]->bytes(), first);
  v1::ProfileEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(a[1]->bytes()));
  EXPECT_EQ(parsed.seq(), 1u);
  EXPECT_EQ(parsed.run_id(), "run-w");
  EXPECT_EQ(parsed.token().token().index(), 8u);
  EXPECT_EQ(parsed.token().token().text(), "eight");
  EXPECT_EQ(a[0]->Parse().token().token().index(), 7u);
  EXPECT_EQ(a[0]->Parse().t_ns(), 123);
}

// The run's thread and the power feed's thread (warnings) append at once: every event gets its
// own seq and the log holds them in seq order.
TEST(RunEventLog, ConcurrentAppendsKeepSeqOrder) {
  RunEventLog log("r");
  std::vector<std::thread> writers;
  constexpr int kWriters = 4, kEach = 1000;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&] {
      v1::ProfileEvent e = TokenEvent(0);
      // Large enough that serializing it (between taking a seq and storing) takes a while.
      e.mutable_token()->mutable_token()->set_text(std::string(16 << 10, 'x'));
      for (int i = 0; i < kEach; ++i) log.Append(e);
    });
  }
  for (auto& t : writers) t.join();
  bool closed = false;
  auto events = log.Read(0, absl::ZeroDuration(), &closed, kWriters * kEach);
  ASSERT_EQ(events.size(), static_cast<size_t>(kWriters * kEach));
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i]->seq(), i);
    ASSERT_EQ(events[i]->Parse().seq(), i);
  }
  EXPECT_EQ(log.tokens(), static_cast<uint32_t>(kWriters * kEach));
}

// A batched stream waits for the next token to send its batch right after it.
TEST(RunEventLog, AwaitTokensWaitsForTheNextTokenOrTheEnd) {
  RunEventLog log("r");
  v1::ProfileEvent sample;
  sample.mutable_power_sample()->set_seq(1);
  log.Append(sample);
  EXPECT_FALSE(log.AwaitTokens(0, absl::Milliseconds(5)));  // a sample is not a token
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(20));
    log.Append(TokenEvent(0));
  });
  EXPECT_TRUE(log.AwaitTokens(0, absl::Seconds(10)));
  writer.join();
  EXPECT_FALSE(log.AwaitTokens(1, absl::Milliseconds(5)));
  std::thread closer([&] {
    absl::SleepFor(absl::Milliseconds(20));
    log.Close();
  });
  const absl::Time start = absl::Now();
  EXPECT_FALSE(log.AwaitTokens(1, absl::Seconds(10)));  // returns at Close, without a token
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  closer.join();
}

// Ten readers, started at different times while the run goes on, all see every event once, in
// order, with the same seq.
TEST(RunEventLog, TenConcurrentReadersSeeTheSameEvents) {
  RunEventLog log("r");
  constexpr int kEvents = 2000;
  std::vector<std::vector<uint64_t>> seen(10);
  std::vector<std::thread> readers;
  std::thread writer([&] {
    for (uint32_t i = 0; i < kEvents; ++i) {
      log.Append(TokenEvent(i));
      if (i % 100 == 0) absl::SleepFor(absl::Microseconds(200));
    }
    log.Close();
  });
  for (int r = 0; r < 10; ++r) {
    readers.emplace_back([&, r] {
      absl::SleepFor(absl::Microseconds(300 * r));
      uint64_t next = 0;
      bool closed = false;
      while (!closed) {
        for (const auto& e : log.Read(next, absl::Milliseconds(50), &closed)) {
          EXPECT_EQ(e->seq(), next);
          EXPECT_EQ(e->Parse().token().token().index(), e->seq());
          seen[r].push_back(e->seq());
          next = e->seq() + 1;
        }
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  for (int r = 0; r < 10; ++r) {
    ASSERT_EQ(seen[r].size(), static_cast<size_t>(kEvents)) << "reader " << r;
    EXPECT_EQ(seen[r], seen[0]);
  }
}

}  // namespace
}  // namespace eprof::daemon
