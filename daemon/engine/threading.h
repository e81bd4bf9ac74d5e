// One threading layer at a time, on purpose. Debian's libtorch runs its own OpenMP pool and calls
// OpenBLAS, which has its own pthread pool; with both at 2 threads on a 2-core machine they
// oversubscribe and decode slows several-fold. The engine therefore gives the cores to the layer
// doing the work of the moment and keeps libtorch's intra-op pool at one thread:
//  - decode (one token: matrix-vector products, every weight read once) runs on eprof's own
//    GEMV pool (gemv.h), all cores, on CPUs with AVX2+FMA;
//  - prefill (matrix-matrix products) runs on OpenBLAS, all cores.
// They never run at the same time: a step is one or the other.
#ifndef EPROF_DAEMON_ENGINE_THREADING_H_
#define EPROF_DAEMON_ENGINE_THREADING_H_

#include <string>

namespace eprof::engine {

struct ThreadingChoice {
  int torch_threads = 1;  // at::set_num_threads
  int blas_threads = 0;   // openblas_set_num_threads; 0: hardware concurrency
  int gemv_threads = 0;   // eprof's GEMV pool; 0: hardware concurrency
};

struct ThreadingInfo {
  int torch_threads = 0;
  int blas_threads = -1;         // -1: unknown (no openblas_get_num_threads symbol)
  std::string blas_library;      // the BLAS shared object mapped into the process
  std::string blas_config;       // openblas_get_config(), when available
  std::string gemv;              // GemvPool::Describe()
  std::string Describe() const;  // one line for logs and the bench
};

// Applies `choice` (OpenBLAS through dlsym, so no link-time dependency) and returns the result.
ThreadingInfo ConfigureThreading(const ThreadingChoice& choice);
// What is in effect now.
ThreadingInfo CurrentThreading();

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_THREADING_H_
