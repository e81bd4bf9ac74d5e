#include "common/thread_priority.h"

#include <pthread.h>
#include <sched.h>

#include <thread>

#include "common/status_matchers.h"
#include "gtest/gtest.h"

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace eprof {
namespace {

using ::eprof::testing::IsOk;

#if defined(__linux__)
int ThreadNice() {
  errno = 0;
  return getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
}
#endif

TEST(ThreadPriority, BackgroundLowersOnlyTheCallingThread) {
#if defined(__linux__)
  const int before = ThreadNice();
  int in_thread = 0;
  int policy = -1;
  std::string name;
  std::thread t([&] {
    NameCurrentThread("eprof-test-background");  // longer than Linux keeps: cut to 15
    EXPECT_THAT(MakeCurrentThreadBackground(), IsOk());
    in_thread = ThreadNice();
    policy = sched_getscheduler(0);
    char buf[32] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    name = buf;
  });
  t.join();
  EXPECT_EQ(in_thread, 19);
  EXPECT_EQ(policy, SCHED_IDLE);
  EXPECT_EQ(ThreadNice(), before);  // this thread is untouched
  EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
  EXPECT_EQ(name, "eprof-test-back");
#else
  GTEST_SKIP() << "per-thread nice values are Linux's";
#endif
}

#if defined(__linux__)
// The calling thread's slice as the kernel reports it (sched_attr.sched_runtime; the struct's
// first 48 bytes are enough for the fields read here).
uint64_t ThreadSliceNs() {
  struct {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
  } attr = {};
  if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) return ~0ull;
  return attr.runtime;
}
#endif

TEST(ThreadPriority, SliceChangesOnlyTheSliceOfTheCallingThreadAndScopedRestoresIt) {
#if defined(__linux__)
  const uint64_t here = ThreadSliceNs();
  uint64_t before = 0, during = 0, inner = 0, after = 0;
  int nice_before = 0, nice_during = 0;
  std::thread t([&] {
    ASSERT_EQ(setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 5), 0);
    nice_before = ThreadNice();
    before = ThreadSliceNs();
    {
      ScopedThreadSlice scoped(absl::Microseconds(300));
      during = ThreadSliceNs();
      nice_during = ThreadNice();
      absl::StatusOr<uint64_t> previous = SetCurrentThreadSlice(absl::Microseconds(200));
      ASSERT_THAT(previous.status(), IsOk());
      EXPECT_EQ(*previous, during);  // what the thread had, for the caller to restore
      inner = ThreadSliceNs();
    }
    after = ThreadSliceNs();
  });
  t.join();
  EXPECT_EQ(nice_before, 5);
  EXPECT_EQ(nice_during, 5);  // sched_setattr would reset it to 0 if the nice were not kept
  EXPECT_EQ(ThreadSliceNs(), here);  // this thread is untouched
  if (during == before && before == 0) {
    GTEST_SKIP() << "this kernel has no per-thread slices (before 6.12): the call is a no-op";
  }
  EXPECT_EQ(during, 300'000u);
  EXPECT_EQ(inner, 200'000u);
  EXPECT_EQ(after, before);
#else
  GTEST_SKIP() << "per-thread scheduler slices are Linux's";
#endif
}

}  // namespace
}  // namespace eprof
