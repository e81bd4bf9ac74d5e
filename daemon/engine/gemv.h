// The engine's own thread pool for its matrix products: single-token matrix-vector products (the
// whole of a decode step's weight traffic) with a kernel written for memory bandwidth, and
// prefill's matrix-matrix products as single-threaded BLAS sgemm calls on slices of the weight.
// Why each choice below was made, and what it was measured to buy: daemon/engine/README.md.
//
//   if (GemvPool::UseForGemv()) GemvPool::Get().Run(w, x, b, y, rows, cols);
//   if (GemvPool::UseForGemm()) GemvPool::Get().RunGemm(x, tokens, w, b, y, rows, cols);
//
// The pool has `threads() - 1` workers and the calling thread works too; each thread reads its
// rows as one sequential stream, in chunks taken on demand. In decode, a chunk a worker has
// claimed and not finished soon after the caller ran out of chunks is computed by the caller
// too, and the first to finish commits it, so a preempted worker does not stall the product.
//
// Workers spin briefly between calls, then sleep on a futex: an idle engine costs nothing. At the
// end of a forward pass the engine calls Park() so that the workers sleep at once and leave the
// core to what the caller does between tokens. As a SideExecutor the pool gives that between-token
// work to a worker woken at the start of the next pass instead; when no worker takes it soon, the
// caller runs it at its next product. SetYieldEvery() makes the caller and the workers offer their
// core (sched_yield) at least that often between jobs, so that other threads waiting for a core get
// one without waiting for the scheduler's tick.
//
// Thread safety: Run() and SetThreads() may be called from any thread; calls are serialised.
// Post() and Wait() follow SideExecutor's contract.
#ifndef EPROF_DAEMON_ENGINE_GEMV_H_
#define EPROF_DAEMON_ENGINE_GEMV_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/side_executor.h"

namespace eprof::engine {

class GemvPool final : public SideExecutor {
 public:
  // The process-wide pool, started with one thread per hardware thread on first use.
  static GemvPool& Get();

  explicit GemvPool(int threads);
  ~GemvPool() override;
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
  // The caller (in Run() and RunGemm()) and each worker (after each job) call sched_yield when
  // `ns` or more have passed since their last one (0: never, the default). Any thread.
  void SetYieldEvery(int64_t ns) { yield_every_ns_.store(ns); }
  int64_t yield_every_ns() const { return yield_every_ns_.load(); }
  // Yields made so far by the caller and the workers (tests, diagnostics).
  uint64_t yields() const { return yields_.load(std::memory_order_relaxed); }
  // Stops the workers and starts `n - 1` new ones (n >= 1).
  void SetThreads(int n);

  // No job will come for a while (a forward pass has ended): the workers go to sleep now rather
  // than spin. The next Run() wakes them. Cheap (one store); any thread.
  void Park() { park_.store(true, std::memory_order_release); }
  // Returns once no worker is inside a job (or the yield that follows it): a worker preempted
  // mid-chunk, whose chunk the caller took over, may still be reading that job's weights. Call
  // before freeing weights the pool has been given (Model's destructor).
  void Quiesce();

  // SideExecutor (common/side_executor.h): Post() runs `task` on a worker while the caller
  // goes on with the next forward pass, on the core that would otherwise sleep through the
  // caller's work between passes (after Park()) and then wake late for the pass. Post() wakes
  // the workers (a pass is about to start); the caller computes the pass's chunks alone while
  // the task runs. Without workers, or while the engine does not use the pool (!UseForGemv()),
  // Post() runs `task` on the caller. If no worker has taken the task after kBesideGraceNs
  // (every worker preempted or asleep: a halted vCPU, another process's thread holding the
  // core), the next product's caller runs it rather than leave it waiting for a core; Wait()
  // runs it if it is still untaken. Call both from one thread, the one whose passes the task
  // runs beside.
  void Post(const std::function<void()>& task) override;
  void Wait() override;
  // The executor the profiler should use for work beside the engine's passes: this pool when
  // the engine uses it (UseForGemv()), else SideExecutor::Inline().
  static SideExecutor* BesideExecutor();
  static constexpr int64_t kBesideGraceNs = 1'000'000;
  // Tests: another grace than kBesideGraceNs.
  void SetBesideGraceForTesting(int64_t ns) { beside_grace_ns_.store(ns); }
  // Tasks the caller ran itself (in a product after the grace, or in Wait()) because no worker
  // took them in time (tests, diagnostics).
  uint64_t beside_taken_by_caller() const {
    absl::MutexLock lock(&run_mu_);
    return beside_taken_by_caller_;
  }
  // Decode chunks the caller has computed in place of a late worker, since the start.
  uint64_t stolen_chunks() const {
    absl::MutexLock lock(&run_mu_);
    return stolen_chunks_;
  }
  // Copies of x the pool keeps for its workers: more than one only after a worker was preempted
  // while it read one (tests, diagnostics).
  size_t x_copies() const {
    absl::MutexLock lock(&run_mu_);
    return x_copies_.size();
  }

  // Tests: while held, a worker that wakes for a job waits before it looks at it, and none takes
  // a Post() task, as workers preempted for that long would. Run() must not wait for them
  // (gemv_test).
  void HoldWorkersForTesting(bool hold) { hold_for_testing_.store(hold); }
  // Tests: while held, a worker that has claimed a decode chunk waits before computing it, as
  // one preempted mid-chunk would. Run() must take the chunk over (gemv_test).
  void HoldWorkersMidChunkForTesting(bool hold) { hold_mid_chunk_for_testing_.store(hold); }

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
    uint64_t seq = 0;     // the job's number (never wraps); chunk_done_ refers to it
    std::atomic<int>* x_readers = nullptr;  // decode: the readers of the x copy it uses
  };
  // The pool's copy of a decode job's x, which workers read (the caller's x may be gone by the
  // time a late worker reads). A worker counts itself in `readers` while it reads; the caller
  // rewrites a copy only when nobody is counted in it.
  struct XCopy {
    std::unique_ptr<float[]> data;
    int64_t capacity = 0;
    std::atomic<int> readers{0};
  };
  // The current job as workers read it: atomics, published by ticket_'s release store (a late
  // worker may read them while the caller writes the next job; it then fails to claim a chunk
  // and uses nothing it read: see Store()).
  struct SharedJob {
    std::atomic<const float*> w{nullptr}, x{nullptr}, b{nullptr};
    std::atomic<float*> y{nullptr};
    std::atomic<int64_t> rows{0}, cols{0}, tokens{0}, chunk_rows{0};
    std::atomic<uint64_t> seq{0};
    std::atomic<int> parts{1};
    std::atomic<std::atomic<int>*> x_readers{nullptr};
    void Store(const Job& job);
    Job Load() const;
  };
  void Dispatch(const Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mu_);  // runs it on the pool
  void StartWorkers(int n);
  void StopWorkers();
  void WorkerLoop(int index, uint32_t seen);
  // sched_yield if yield_every_ns_ has passed since *last_ns (then *last_ns = now).
  void MaybeYield(int64_t* last_ns) const;
  // Runs the task given to Post(), if one is waiting and no other worker took it first.
  bool TakeBesideTask();
  // Claims chunks of the job tagged `tag` until none is left (or a newer job replaced it) and
  // runs them. Chunks, not one fixed share per thread: a thread preempted by another process's
  // (or eprofd's own service) thread then delays the product by at most the chunk it holds, as
  // the others take over its remaining ones; a worker that has not started yet holds none, and
  // the caller never waits for it.
  // A worker's decode chunk may also be computed by the caller (StealUnfinished, see the header
  // comment): both compute aside and commit by compare-and-swap on chunk_done_; the winner
  // writes y. Returns how many chunks this thread ran.
  int64_t RunChunks(uint32_t tag, const Job& job, bool caller);
  void StealUnfinished(const Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mu_);
  bool Commit(int64_t chunk, uint64_t seq);
  void ChunkDone(int64_t chunks);
  static void RunRows(const Job& job, int64_t r0, int64_t r1);
  static void RunRowsInto(const Job& job, int64_t r0, int64_t r1, float* out);

  mutable absl::Mutex run_mu_;  // one Run() at a time
  SharedJob job_;
  // The job's claim ticket: tag (32 bits, +1 per job) | chunk count (16) | next chunk (16).
  // Chunks are claimed by compare-and-swap only while the tag is the claimer's.
  std::atomic<uint64_t> ticket_{0};
  std::atomic<uint32_t> generation_{0};  // bumped per job (and at stop): what workers wait on
  std::atomic<int64_t> done_chunks_{0};  // chunks of the current job finished
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<int> worker_nice_{0};
  std::atomic<int64_t> yield_every_ns_{0};
  mutable std::atomic<uint64_t> yields_{0};
  int64_t caller_yielded_ns_ ABSL_GUARDED_BY(run_mu_) = 0;  // the caller's last MaybeYield
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> park_{false};  // set by Park(), cleared by the next job
  std::atomic<bool> hold_for_testing_{false};
  std::atomic<bool> hold_mid_chunk_for_testing_{false};
  std::atomic<int> active_{0};  // workers inside a job (Quiesce)
  std::atomic<const std::function<void()>*> beside_{nullptr};  // Post()'s, not yet taken
  std::atomic<bool> beside_pending_{false};                    // until it has run
  std::atomic<int64_t> beside_grace_ns_{kBesideGraceNs};
  // Per chunk, the seq of the last job it was committed for. Sized for the most chunks a job
  // can have (kChunksPerThread per thread, plus one); reallocated only with the workers stopped.
  std::unique_ptr<std::atomic<uint64_t>[]> chunk_done_;
  uint64_t job_seq_ ABSL_GUARDED_BY(run_mu_) = 0;
  // x copies for workers (decode). A worker preempted while it reads one keeps that one from
  // being rewritten, so there may be more than one; they live as long as the pool.
  std::vector<std::unique_ptr<XCopy>> x_copies_ ABSL_GUARDED_BY(run_mu_);
  std::vector<float> steal_buffer_ ABSL_GUARDED_BY(run_mu_);
  uint64_t stolen_chunks_ ABSL_GUARDED_BY(run_mu_) = 0;
  int64_t beside_posted_ns_ ABSL_GUARDED_BY(run_mu_) = 0;  // when Post() gave its task
  uint64_t beside_taken_by_caller_ ABSL_GUARDED_BY(run_mu_) = 0;
  std::vector<std::thread> workers_;
};

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_GEMV_H_
