// A SideExecutor that runs each task on a thread of its own, started at Post and joined at
// Wait: the task then runs concurrently with what the caller does meanwhile, as with the
// engine's pool (engine::GemvPool), so that tests of the profiler see the same interleavings.
//
// Thread safety: SideExecutor's contract (one task at a time, from one thread).
#ifndef EPROF_DAEMON_PROFILER_TESTING_THREAD_SIDE_EXECUTOR_H_
#define EPROF_DAEMON_PROFILER_TESTING_THREAD_SIDE_EXECUTOR_H_

#include <functional>
#include <thread>

#include "common/side_executor.h"

namespace eprof::daemon::testing {

class ThreadSideExecutor final : public SideExecutor {
 public:
  ~ThreadSideExecutor() override { Wait(); }
  void Post(const std::function<void()>& task) override {
    if (task) thread_ = std::thread(task);
  }
  void Wait() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

}  // namespace eprof::daemon::testing

#endif  // EPROF_DAEMON_PROFILER_TESTING_THREAD_SIDE_EXECUTOR_H_
