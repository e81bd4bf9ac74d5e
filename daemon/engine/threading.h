// One threading layer, on purpose. Debian's libtorch runs its own OpenMP pool and calls OpenBLAS,
// which has its own pthread pool (whose threads spin, yielding, for ~0.1 s after every call);
// with two of them at 2 threads on a 2-core machine they oversubscribe and decode slows
// several-fold. The engine therefore runs every parallel matrix product on eprof's own pool
// (gemv.h), all cores: decode's matrix-vector products with its own kernel (CPUs with AVX2+FMA),
// prefill's matrix-matrix products as one single-threaded BLAS sgemm per thread. libtorch's
// intra-op pool and OpenBLAS keep one thread. Where the pool cannot run (no cblas_sgemm in the
// process), OpenBLAS gets all cores instead.
#ifndef EPROF_DAEMON_ENGINE_THREADING_H_
#define EPROF_DAEMON_ENGINE_THREADING_H_

#include <string>

namespace eprof::engine {

struct ThreadingChoice {
  int torch_threads = 1;  // at::set_num_threads
  int blas_threads = 0;   // openblas_set_num_threads; 0: 1 if the pool does GEMM, else all cores
  int gemv_threads = 0;   // eprof's pool; 0: hardware concurrency
  bool eprof_pool = true; // false: matrix products on libtorch, OpenBLAS gets the cores
  // > 0 (Linux): the calling thread and the pool's workers run at this nice value, below the
  // process's other threads, which then get a core at once when they wake (eprofd's event
  // streams) while inference keeps every core busy; so do other processes', and decode then
  // stops for anything that wakes (eprofd's default is 0: see its --inference-nice). An
  // unprivileged process cannot undo it.
  int compute_nice = 0;
  // > 0: the calling thread and the pool's workers offer their core (sched_yield) at least every
  // this many µs of compute, so that a thread waiting for it (a live stream's client) does not
  // wait for the next scheduler tick (GemvPool::SetYieldEvery). 0: never.
  int yield_every_us = 0;
};

struct ThreadingInfo {
  int torch_threads = 0;
  int blas_threads = -1;         // -1: unknown (no openblas_get_num_threads symbol)
  std::string blas_library;      // the BLAS shared object mapped into the process
  std::string blas_config;       // openblas_get_config(), when available
  std::string gemv;              // GemvPool::Describe()
  int compute_nice = 0;          // inference threads' nice value, 0: left alone
  std::string Describe() const;  // one line for logs and the bench
};

// Applies `choice` (OpenBLAS through dlsym, so no link-time dependency) and returns the result.
ThreadingInfo ConfigureThreading(const ThreadingChoice& choice);
// What is in effect now.
ThreadingInfo CurrentThreading();
// The calling thread's kernel id on Linux (for per-thread setpriority), 0 elsewhere.
long CurrentTid();

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_THREADING_H_
