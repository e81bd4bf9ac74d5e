#include "daemon/service/run_event_log.h"

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
  EXPECT_EQ(events[1]->event().seq(), 1u);
  EXPECT_EQ(events[1]->event().run_id(), "run-1");
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

// The wire form is made once and is the event's serialization, whoever asks first.
TEST(RunEventLog, WireFormIsTheEventSerializedOnceAndShared) {
  RunEventLog log("run-w");
  log.Append(TokenEvent(7));
  bool closed = false;
  auto a = log.Read(0, absl::ZeroDuration(), &closed);
  auto b = log.Read(0, absl::ZeroDuration(), &closed);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  std::vector<const std::string*> seen(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { seen[i] = &(i % 2 ? a : b)[0]->bytes(); });
  for (auto& t : threads) t.join();
  for (const std::string* p : seen) EXPECT_EQ(p, seen[0]);  // one string, shared
  v1::ProfileEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(*seen[0]));
  EXPECT_EQ(parsed.token().token().index(), 7u);
  EXPECT_EQ(parsed.run_id(), "run-w");
  EXPECT_EQ(parsed.SerializeAsString(), a[0]->event().SerializeAsString());
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
          EXPECT_EQ(e->event().seq(), next);
          EXPECT_EQ(e->event().token().token().index(), e->event().seq());
          seen[r].push_back(e->event().seq());
          next = e->event().seq() + 1;
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
