// Work a thread hands off to run beside its own next piece of work: eprofd's inference thread
// posts the bookkeeping of the token it has just generated (its text, live event and stored
// rows), runs the next decode step, then waits for the bookkeeping to have run.
//
//   executor->Post(finish_token);    // may start on another thread at once
//   auto next = model->Decode(...);  // meanwhile
//   executor->Wait();                // finish_token has run
//
// Inline() runs the task on the caller, at Post. The engine offers one that runs it on a worker
// of its matrix-product pool (engine::GemvPool), the core the next pass would otherwise wake
// late; eprofd passes it to the profiler like the clock.
//
// Contract, for every implementation: one task at a time (Post, then Wait, then Post again),
// from one thread; `task` stays alive until Wait() returns; the task shares nothing
// unsynchronised with what the caller does between Post and Wait, and does not use the
// executor. Wait() returns once the task has run, whatever else happened meanwhile.
#ifndef EPROF_COMMON_SIDE_EXECUTOR_H_
#define EPROF_COMMON_SIDE_EXECUTOR_H_

#include <functional>

namespace eprof {

class SideExecutor {
 public:
  virtual ~SideExecutor() = default;
  virtual void Post(const std::function<void()>& task) = 0;
  virtual void Wait() = 0;

  // Runs each task on the calling thread, at Post. Process-wide; stateless.
  static SideExecutor* Inline();

 private:
  class InlineExecutor;
};

class SideExecutor::InlineExecutor final : public SideExecutor {
 public:
  void Post(const std::function<void()>& task) override {
    if (task) task();
  }
  void Wait() override {}
};

inline SideExecutor* SideExecutor::Inline() {
  static InlineExecutor inline_executor;
  return &inline_executor;
}

}  // namespace eprof

#endif  // EPROF_COMMON_SIDE_EXECUTOR_H_
