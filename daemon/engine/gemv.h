// The engine's own thread pool for its matrix products: single-token matrix-vector products (the
// whole of a decode step's weight traffic) with a kernel written for memory bandwidth, and
// prefill's matrix-matrix products as single-threaded BLAS sgemm calls on slices of the weight.
//
// Decode is bound by reading every weight once per token. OpenBLAS's sgemv reached 24-27 GB/s
// on the demo model's shapes on the 2-core CI machine while a plain read of memory reached
// 28-33 GB/s (and up to ~55 when the host is quiet); this kernel reads each thread's rows as one
// sequential stream and reached 32-51 GB/s on the same shapes in the same process
// (measured side by side; `eprof-llm bench` shows the effect on tokens/s).
//
//   if (GemvPool::UseForGemv()) GemvPool::Get().Run(w, x, b, y, rows, cols);
//   if (GemvPool::UseForGemm()) GemvPool::Get().RunGemm(x, tokens, w, b, y, rows, cols);
//
// The pool has `threads() - 1` workers and the calling thread works too; rows are split in
// chunks taken on demand. Workers spin briefly between calls (decode calls it ~200 times per
// token, microseconds apart) and then sleep on a futex, so an idle engine costs nothing. At the
// end of a forward pass the engine calls Park(): the workers sleep at once instead of spinning
// through the gap between tokens, so that the core is free for what the caller does there
// (sampling, and in eprofd the token's bookkeeping and its live streams, whose threads would
// otherwise preempt the caller itself).
//
// Thread safety: Run() and SetThreads() may be called from any thread; calls are serialised.
#ifndef EPROF_DAEMON_ENGINE_GEMV_H_
#define EPROF_DAEMON_ENGINE_GEMV_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace eprof::engine {

class GemvPool {
 public:
  // The process-wide pool, started with one thread per hardware thread on first use.
  static GemvPool& Get();

  explicit GemvPool(int threads);
  ~GemvPool();
  GemvPool(const GemvPool&) = delete;
  GemvPool& operator=(const GemvPool&) = delete;

  // Whether this CPU has the kernel (x86-64 with AVX2 and FMA). Without it callers use
  // libtorch's own mv.
  static bool CpuSupported();
  // "AVX2+FMA kernel, 2 threads" or why it is not used; for logs and the bench.
  std::string Describe() const;

  // Process-wide switch (default on): off, the engine leaves matrix products to libtorch (and
  // OpenBLAS's own threads), e.g. to compare the two with `eprof-llm bench --matmul libtorch`.
  static void SetEnabled(bool enabled);
  static bool Enabled();
  // Whether the engine should use Run() / RunGemm() now: enabled and supported.
  static bool UseForGemv() { return Enabled() && CpuSupported(); }
  static bool UseForGemm() { return Enabled() && GemmSupported(); }

  int threads() const;
  // Workers run at this nice value from their next job on (0: left alone).
  void SetWorkerNice(int nice) { worker_nice_.store(nice); }
  int worker_nice() const { return worker_nice_.load(); }
  // Stops the workers and starts `n - 1` new ones (n >= 1).
  void SetThreads(int n);

  // No job will come for a while (a forward pass has ended): the workers go to sleep now rather
  // than spin. The next Run() wakes them. Cheap (one store); any thread.
  void Park() { park_.store(true, std::memory_order_release); }

  // Tests: while held, a worker that wakes for a job waits before it looks at it, as one
  // preempted for that long would. Run() must not wait for it (gemv_test).
  void HoldWorkersForTesting(bool hold) { hold_for_testing_.store(hold); }

  // y[r] = Σ_c w[r·cols + c]·x[c] (+ b[r]) for r in [0, rows). w is row-major and dense; b may be
  // null. Requires CpuSupported().
  void Run(const float* w, const float* x, const float* b, float* y, int64_t rows, int64_t cols);

  // Whether RunGemm() can run: the process's BLAS exports cblas_sgemm.
  static bool GemmSupported();
  // y[t, r] = Σ_c x[t, c]·w[r, c] (+ b[r]) for t < tokens (prefill), all row-major and dense:
  // each thread gives its slice of w's rows to a single-threaded BLAS sgemm, so the pool is the
  // only threading layer (OpenBLAS's own threads, which spin for ~0.1 s after every call, stay
  // at one). Requires GemmSupported().
  void RunGemm(const float* x, int64_t tokens, const float* w, const float* b, float* y,
               int64_t rows, int64_t cols);

 private:
  struct Job {
    const float* w = nullptr;
    const float* x = nullptr;
    const float* b = nullptr;
    float* y = nullptr;
    int64_t rows = 0, cols = 0;
    int parts = 1;        // threads taking part (1: the caller alone)
    int64_t tokens = 0;   // > 0: a GEMM over `tokens` rows of x
    int64_t chunk_rows = 0;
    int64_t chunks = 0;
  };
  // The current job as workers read it: relaxed atomics, published by ticket_'s release store
  // (a late worker may read them while the caller writes the next job; it then fails to claim a
  // chunk and uses nothing it read).
  struct SharedJob {
    std::atomic<const float*> w{nullptr}, x{nullptr}, b{nullptr};
    std::atomic<float*> y{nullptr};
    std::atomic<int64_t> rows{0}, cols{0}, tokens{0}, chunk_rows{0};
    std::atomic<int> parts{1};
    void Store(const Job& job);
    Job Load() const;
  };
  void Dispatch(const Job& job);  // runs the job on the pool; run_mu_ held
  void StartWorkers(int n);
  void StopWorkers();
  void WorkerLoop(int index, uint32_t seen);
  // Claims chunks of the job tagged `tag` until none is left (or a newer job replaced it) and
  // runs them. Chunks, not one fixed share per thread: a thread preempted by another process's
  // (or eprofd's own service) thread then delays the product by at most the chunk it holds, as
  // the others take over its remaining ones; a worker that has not started yet holds none, and
  // the caller never waits for it.
  void RunChunks(uint32_t tag, const Job& job);
  static void RunRows(const Job& job, int64_t r0, int64_t r1);

  std::mutex run_mu_;  // one Run() at a time
  SharedJob job_;
  // The job's claim ticket: tag (32 bits, +1 per job) | chunk count (16) | next chunk (16).
  // Chunks are claimed by compare-and-swap only while the tag is the claimer's.
  std::atomic<uint64_t> ticket_{0};
  std::atomic<uint32_t> generation_{0};  // bumped per job (and at stop): what workers wait on
  std::atomic<int64_t> done_chunks_{0};  // chunks of the current job finished
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<int> worker_nice_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> park_{false};  // set by Park(), cleared by the next job
  std::atomic<bool> hold_for_testing_{false};
  std::vector<std::thread> workers_;
};

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_GEMV_H_
