#include "common/thread_priority.h"

#include <pthread.h>

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
  std::string name;
  std::thread t([&] {
    NameCurrentThread("eprof-test-background");  // longer than Linux keeps: cut to 15
    EXPECT_THAT(MakeCurrentThreadBackground(), IsOk());
    in_thread = ThreadNice();
    char buf[32] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    name = buf;
  });
  t.join();
  EXPECT_EQ(in_thread, 19);
  EXPECT_EQ(ThreadNice(), before);  // this thread is untouched
  EXPECT_EQ(name, "eprof-test-back");
#else
  GTEST_SKIP() << "per-thread nice values are Linux's";
#endif
}

}  // namespace
}  // namespace eprof
