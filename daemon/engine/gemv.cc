#include "daemon/engine/gemv.h"

#include <dlfcn.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "daemon/engine/threading.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace eprof::engine {
namespace {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A worker spins this long after its last job, then yields the core between checks until
// kSpinFor, then sleeps: decode calls Run() many times per step, microseconds apart, so the pool
// stays awake through a step and between steps, and other threads of the process (eprofd's
// service) still get a core.
constexpr auto kPauseFor = std::chrono::microseconds(100);
constexpr auto kSpinFor = std::chrono::milliseconds(2);
// Below this many weights one thread does it all: waking others costs more than it saves.
constexpr int64_t kMinWeightsPerPart = 32 * 1024;
// Chunks start at multiples of this many rows, so no two threads write the same cache line of y.
constexpr int64_t kRowAlign = 16;
constexpr int64_t kChunksPerThread = 8;
// How long the caller waits for a worker's unfinished chunk before computing it itself, at
// least: a worker preempted mid-chunk (by a service thread, another process) would otherwise
// hold up the whole product until it runs again, and the caller's core sits idle meanwhile.
// The wait is also at least twice the mean time of the caller's own chunks of the job, so that
// a worker merely running alongside is not duplicated.
constexpr auto kCallerStealAfter = std::chrono::microseconds(20);
// How long the caller spins for a chunk being committed before it blocks.
constexpr auto kCallerSpinFor = std::chrono::microseconds(30);

#if defined(__x86_64__)
// One row at a time, so each thread reads its share of w front to back as a single stream (the
// hardware prefetcher's best case; interleaving 4 or 8 rows was slower). Four
// accumulators hide the FMA latency.
// Rows [r0, r1) of the product into out[0, r1 - r0).
__attribute__((target("avx2,fma"))) void RowsAvx2(const float* w, const float* x, const float* b,
                                                  float* out, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* row = w + r * cols;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),
           a3 = _mm256_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= cols; c += 32) {
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(x + c), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c + 8), _mm256_loadu_ps(x + c + 8), a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c + 16), _mm256_loadu_ps(x + c + 16), a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c + 24), _mm256_loadu_ps(x + c + 24), a3);
    }
    for (; c + 8 <= cols; c += 8) {
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(x + c), a0);
    }
    const __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    t = _mm_hadd_ps(t, t);
    t = _mm_hadd_ps(t, t);
    float sum = _mm_cvtss_f32(t);
    for (; c < cols; ++c) sum += row[c] * x[c];
    out[r - r0] = b ? sum + b[r] : sum;
  }
}
#endif

// cblas_sgemm from whichever BLAS libtorch mapped (OpenBLAS here), found at run time like
// threading.cc's openblas_set_num_threads, so the engine has no link-time BLAS dependency.
using SgemmFn = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float* a, int lda, const float* b, int ldb, float beta, float* c,
                         int ldc);
constexpr int kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112;

SgemmFn Sgemm() {
  static const SgemmFn fn = reinterpret_cast<SgemmFn>(dlsym(RTLD_DEFAULT, "cblas_sgemm"));
  return fn;
}

std::atomic<bool> g_enabled{true};

inline void CpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

}  // namespace

GemvPool& GemvPool::Get() {
  static GemvPool* pool =
      new GemvPool(std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
  return *pool;
}

GemvPool::GemvPool(int threads) { StartWorkers(threads); }

GemvPool::~GemvPool() { StopWorkers(); }

bool GemvPool::CpuSupported() {
#if defined(__x86_64__)
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
#else
  return false;
#endif
}

void GemvPool::SetEnabled(bool enabled) { g_enabled.store(enabled); }
bool GemvPool::Enabled() { return g_enabled.load(std::memory_order_relaxed); }

std::string GemvPool::Describe() const {
  if (!Enabled()) return "libtorch (eprof's pool switched off)";
  return absl::StrCat(
      "eprof's pool, ", threads(), " threads: decode GEMV ",
      CpuSupported() ? "eprof AVX2+FMA kernel" : "libtorch mv (no AVX2+FMA on this CPU)",
      ", prefill GEMM ", GemmSupported() ? "single-threaded cblas_sgemm per thread" : "libtorch",
      yield_every_ns() > 0 ? absl::StrCat("; threads yield the core every ", yield_every_ns() / 1000,
                                          " us")
                           : "");
}

int GemvPool::threads() const { return static_cast<int>(workers_.size()) + 1; }

void GemvPool::SetThreads(int n) {
  absl::MutexLock lock(&run_mu_);
  n = std::max(1, n);
  if (n == threads()) return;
  StopWorkers();
  StartWorkers(n);
}

void GemvPool::StartWorkers(int n) {
  stop_.store(false);
  // No worker runs now: the commit slots can be replaced (their seqs restart at 0, below any
  // job's).
  const int64_t slots = static_cast<int64_t>(n) * kChunksPerThread + 1;
  chunk_done_ = std::make_unique<std::atomic<uint64_t>[]>(static_cast<size_t>(slots));
  for (int64_t i = 0; i < slots; ++i) chunk_done_[i].store(0, std::memory_order_relaxed);
  // The generation a worker starts from is read here, not in the new thread: a Run() right
  // after this must not be mistaken for the one it has already seen.
  const uint32_t start = generation_.load();
  for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, start] { WorkerLoop(i, start); });
}

void GemvPool::StopWorkers() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  TakeBesideTask();  // given but not taken before the workers stopped: run it here
}

// Release stores, acquire loads: a worker that reads any field of a later job (preempted between
// its ticket load and these) then also sees the caller's close of the job it holds a ticket
// for, so its claim with that ticket fails and it uses nothing it read. (Plain moves on x86.)
void GemvPool::SharedJob::Store(const Job& job) {
  w.store(job.w, std::memory_order_release);
  x.store(job.x, std::memory_order_release);
  b.store(job.b, std::memory_order_release);
  y.store(job.y, std::memory_order_release);
  rows.store(job.rows, std::memory_order_release);
  cols.store(job.cols, std::memory_order_release);
  tokens.store(job.tokens, std::memory_order_release);
  chunk_rows.store(job.chunk_rows, std::memory_order_release);
  seq.store(job.seq, std::memory_order_release);
  parts.store(job.parts, std::memory_order_release);
  x_readers.store(job.x_readers, std::memory_order_release);
}

GemvPool::Job GemvPool::SharedJob::Load() const {
  Job job;
  job.w = w.load(std::memory_order_acquire);
  job.x = x.load(std::memory_order_acquire);
  job.b = b.load(std::memory_order_acquire);
  job.y = y.load(std::memory_order_acquire);
  job.rows = rows.load(std::memory_order_acquire);
  job.cols = cols.load(std::memory_order_acquire);
  job.tokens = tokens.load(std::memory_order_acquire);
  job.chunk_rows = chunk_rows.load(std::memory_order_acquire);
  job.seq = seq.load(std::memory_order_acquire);
  job.parts = parts.load(std::memory_order_acquire);
  job.x_readers = x_readers.load(std::memory_order_acquire);
  return job;
}

namespace {
constexpr uint64_t TicketTag(uint64_t t) { return t >> 32; }
constexpr uint64_t TicketChunks(uint64_t t) { return (t >> 16) & 0xffff; }
constexpr uint64_t TicketNext(uint64_t t) { return t & 0xffff; }
}  // namespace

int64_t GemvPool::RunChunks(uint32_t tag, const Job& job, bool caller) {
  uint64_t t = ticket_.load(std::memory_order_acquire);
  for (int64_t ran = 0;; ++ran) {
    // A successful claim (acq_rel) orders this thread's reads of the job before the caller's
    // writes of the next one, which wait until every chunk is claimed and done.
    if (TicketTag(t) != tag || TicketNext(t) >= TicketChunks(t)) return ran;
    if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      --ran;
      continue;  // `t` now holds the current ticket
    }
    const int64_t c = static_cast<int64_t>(TicketNext(t));
    const int64_t chunks = static_cast<int64_t>(TicketChunks(t));
    const int64_t r0 = c * job.chunk_rows;
    const int64_t r1 = std::min(job.rows, r0 + job.chunk_rows);
    if (caller || job.tokens > 0) {
      // The caller's own chunks are never taken from it; nor are prefill's (GEMM) chunks.
      RunRows(job, r0, r1);
      chunk_done_[c].store(job.seq, std::memory_order_release);
      ChunkDone(chunks);
    } else {
      // A worker's decode chunk may be taken over by the caller: compute it aside, and write it
      // to y only if nobody committed it first (then the job is still the current one: the
      // caller has not returned, and y and x are still this job's).
      // Reads x only while counted among its copy's readers and while the job is still the
      // current one: once the caller has closed the job (Dispatch), it may rewrite any copy
      // nobody is counted in. (Both sides seq_cst: either this thread sees the job closed and
      // reads nothing, or the caller sees it counted and leaves the copy alone.)
      job.x_readers->fetch_add(1, std::memory_order_seq_cst);
      if (TicketTag(ticket_.load(std::memory_order_seq_cst)) == tag) {
        while (hold_mid_chunk_for_testing_.load(std::memory_order_relaxed) && !stop_.load()) {
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        thread_local std::vector<float> out;
        out.resize(static_cast<size_t>(r1 - r0));
        RunRowsInto(job, r0, r1, out.data());
        if (Commit(c, job.seq)) {
          std::copy(out.begin(), out.end(), job.y + r0);
          ChunkDone(chunks);
        }
      }
      job.x_readers->fetch_sub(1, std::memory_order_release);
    }
    t = ticket_.load(std::memory_order_acquire);
  }
}

bool GemvPool::Commit(int64_t chunk, uint64_t seq) {
  // chunk_done_ holds the seq of the last job the chunk was committed for; seqs only grow, so a
  // commit for a job that has already ended (its chunk committed by the caller) always fails.
  uint64_t v = chunk_done_[chunk].load(std::memory_order_acquire);
  while (v < seq) {
    if (chunk_done_[chunk].compare_exchange_weak(v, seq, std::memory_order_acq_rel,
                                                 std::memory_order_acquire)) {
      return true;
    }
  }
  return false;
}

void GemvPool::ChunkDone(int64_t chunks) {
  if (done_chunks_.fetch_add(1, std::memory_order_seq_cst) + 1 == chunks &&
      caller_sleeping_.load(std::memory_order_seq_cst)) {
    done_chunks_.notify_one();
  }
}

void GemvPool::RunRowsInto(const Job& job, int64_t r0, int64_t r1, float* out) {
#if defined(__x86_64__)
  if (r0 < r1) RowsAvx2(job.w, job.x, job.b, out, r0, r1, job.cols);
#endif
}

void GemvPool::RunRows(const Job& job, int64_t r0, int64_t r1) {
  if (r0 >= r1) return;
  if (job.tokens > 0) {
    Sgemm()(kCblasRowMajor, kCblasNoTrans, kCblasTrans, static_cast<int>(job.tokens),
            static_cast<int>(r1 - r0), static_cast<int>(job.cols), 1.0f, job.x,
            static_cast<int>(job.cols), job.w + r0 * job.cols, static_cast<int>(job.cols), 0.0f,
            job.y + r0, static_cast<int>(job.rows));
    if (job.b) {
      for (int64_t t = 0; t < job.tokens; ++t) {
        float* yt = job.y + t * job.rows;
        for (int64_t r = r0; r < r1; ++r) yt[r] += job.b[r];
      }
    }
    return;
  }
  RunRowsInto(job, r0, r1, job.y + r0);
}

void GemvPool::MaybeYield(int64_t* last_ns) const {
  const int64_t every = yield_every_ns_.load(std::memory_order_relaxed);
  if (every <= 0) return;
  const int64_t now = SteadyNowNs();
  if (*last_ns == 0) *last_ns = now;  // the thread's first: the interval starts now
  if (now - *last_ns < every) return;
  std::this_thread::yield();  // sched_yield: a runnable thread waiting for this core runs now
  *last_ns = now;
  yields_.fetch_add(1, std::memory_order_relaxed);
}

void GemvPool::WorkerLoop(int index, uint32_t seen) {
  [[maybe_unused]] int nice_applied = 0;
  int64_t yielded_ns = 0;
  for (;;) {
    // Spin (then yield) for a while; sleep on the futex after that.
    auto start = std::chrono::steady_clock::now();
    bool yielding = false;
    uint32_t now = generation_.load(std::memory_order_acquire);
    for (int i = 0; now == seen; ++i) {
      if (beside_.load(std::memory_order_relaxed) != nullptr &&
          !hold_for_testing_.load(std::memory_order_relaxed) && TakeBesideTask()) {
        start = std::chrono::steady_clock::now();  // then wait for the pass's jobs afresh
        yielding = false;
      }
      if (park_.load(std::memory_order_acquire)) break;  // Park(): sleep now
      if ((i & 63) == 63) {
        const auto waited = std::chrono::steady_clock::now() - start;
        if (waited > kSpinFor) break;
        yielding = waited > kPauseFor;
      }
      if (yielding) {
        sched_yield();
      } else {
        CpuRelax();
      }
      now = generation_.load(std::memory_order_acquire);
    }
    if (now == seen) {
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      if (generation_.load(std::memory_order_seq_cst) == seen) generation_.wait(seen);
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      now = generation_.load(std::memory_order_acquire);
      if (now == seen) continue;  // spurious wake
    }
    seen = now;
    if (stop_.load()) return;
#if defined(__linux__)
    if (const int nice = worker_nice_.load(std::memory_order_relaxed); nice != nice_applied) {
      setpriority(PRIO_PROCESS, static_cast<id_t>(CurrentTid()), nice);  // this thread only
      nice_applied = nice;
    }
#endif
    while (hold_for_testing_.load(std::memory_order_relaxed) && !stop_.load()) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    // The job of the generation just seen, or a later one: the ticket says which. A worker
    // that comes late (preempted) finds it fully claimed, or replaced, and does nothing.
    active_.fetch_add(1, std::memory_order_seq_cst);
    const uint64_t t = ticket_.load(std::memory_order_acquire);
    const Job job = job_.Load();
    if (index < job.parts) RunChunks(static_cast<uint32_t>(TicketTag(t)), job, /*caller=*/false);
    MaybeYield(&yielded_ns);  // still counted active: Quiesce() also waits for this yield
    active_.fetch_sub(1, std::memory_order_release);
  }
}

void GemvPool::Post(const std::function<void()>& task) {
  if (!task) return;
  {
    absl::MutexLock lock(&run_mu_);  // against SetThreads() (StopWorkers runs a task)
    // Only while the engine's products go through the pool (UseForGemv(), as it is now): else
    // no product would take over a task that no worker took.
    if (!workers_.empty() && UseForGemv()) {
      beside_pending_.store(true, std::memory_order_relaxed);
      beside_posted_ns_ = SteadyNowNs();
      beside_.store(&task, std::memory_order_release);
      // Wake sleeping workers as a job would (one takes the task; the others wait for the
      // pass's jobs): a worker that finds no new job does nothing and goes back to waiting.
      park_.store(false, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_seq_cst);
      if (sleepers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
      return;
    }
  }
  task();  // no worker: the caller's
}

SideExecutor* GemvPool::BesideExecutor() {
  return UseForGemv() ? static_cast<SideExecutor*>(&Get()) : SideExecutor::Inline();
}

bool GemvPool::TakeBesideTask() {
  const std::function<void()>* task = beside_.exchange(nullptr, std::memory_order_acq_rel);
  if (task == nullptr) return false;
  (*task)();
  beside_pending_.store(false, std::memory_order_release);
  beside_pending_.notify_all();
  return true;
}

void GemvPool::Wait() {
  // Not taken yet (every worker still off its core): the caller has nothing else to do now.
  if (beside_.load(std::memory_order_relaxed) != nullptr && TakeBesideTask()) {
    absl::MutexLock lock(&run_mu_);
    ++beside_taken_by_caller_;
  }
  while (beside_pending_.load(std::memory_order_acquire)) {
    beside_pending_.wait(true, std::memory_order_acquire);
  }
}

void GemvPool::Quiesce() {
  // A worker still inside a job may read that job's weights: wait until none is.
  while (active_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

void GemvPool::Run(const float* w, const float* x, const float* b, float* y, int64_t rows,
                   int64_t cols) {
  absl::MutexLock lock(&run_mu_);
  const int64_t by_size = std::max<int64_t>(1, rows * cols / kMinWeightsPerPart);
  Dispatch(Job{w, x, b, y, rows, cols, static_cast<int>(std::min<int64_t>(threads(), by_size))});
}

bool GemvPool::GemmSupported() { return Sgemm() != nullptr; }

void GemvPool::RunGemm(const float* x, int64_t tokens, const float* w, const float* b, float* y,
                       int64_t rows, int64_t cols) {
  absl::MutexLock lock(&run_mu_);
  const int64_t by_size = std::max<int64_t>(1, tokens * rows * cols / kMinWeightsPerPart);
  Job job{w, x, b, y, rows, cols, static_cast<int>(std::min<int64_t>(threads(), by_size))};
  job.tokens = tokens;
  Dispatch(job);
}

void GemvPool::Dispatch(const Job& job_in) {
  if (job_in.rows <= 0) return;
  MaybeYield(&caller_yielded_ns_);  // before the job, so that no worker waits on this thread
  // A task Post() gave that no worker has taken in time: run it here (exactly once: taking
  // it is an exchange), so that it does not wait for a worker to get a core back.
  if (beside_.load(std::memory_order_relaxed) != nullptr &&
      SteadyNowNs() - beside_posted_ns_ > beside_grace_ns_.load(std::memory_order_relaxed) &&
      TakeBesideTask()) {
    ++beside_taken_by_caller_;
  }
  Job job = job_in;
  const int parts = job.parts;
  // About kChunksPerThread chunks per thread, each a multiple of kRowAlign rows.
  int64_t per = (job.rows + parts * kChunksPerThread - 1) / (parts * kChunksPerThread);
  per = std::max<int64_t>(per, (job.rows + 0xfffe) / 0xffff);  // the ticket counts 16 bits
  per = (per + kRowAlign - 1) / kRowAlign * kRowAlign;
  job.chunk_rows = per;
  job.chunks = (job.rows + per - 1) / per;
  if (parts <= 1) {  // the caller alone: nothing to publish
    RunRows(job, 0, job.rows);
    return;
  }
  job.seq = ++job_seq_;
  if (job.tokens == 0) {
    // Workers read x from a copy of the pool's: one that was preempted mid-chunk may read on
    // after its chunk was taken over and the caller has returned (and freed x). The previous
    // job was closed before it returned (below), so a copy nobody is counted in is read by
    // nobody, now or later: rewrite the first such one, else make another.
    XCopy* copy = nullptr;
    for (const std::unique_ptr<XCopy>& c : x_copies_) {
      if (c->readers.load(std::memory_order_seq_cst) == 0) {
        copy = c.get();
        break;
      }
    }
    if (copy == nullptr) copy = x_copies_.emplace_back(std::make_unique<XCopy>()).get();
    if (copy->capacity < job.cols) {
      copy->data = std::make_unique<float[]>(static_cast<size_t>(job.cols));
      copy->capacity = job.cols;
    }
    std::copy(job.x, job.x + job.cols, copy->data.get());
    job.x = copy->data.get();
    job.x_readers = &copy->readers;
  }
  // Every chunk of the previous job was claimed and finished before it returned, so no thread
  // uses job_ now (a late worker may read it, but cannot claim anything with what it read).
  job_.Store(job);
  done_chunks_.store(0, std::memory_order_relaxed);
  const uint64_t tag = TicketTag(ticket_.load(std::memory_order_relaxed)) + 1;
  ticket_.store(((tag & 0xffffffffu) << 32) | (static_cast<uint64_t>(job.chunks) << 16),
                std::memory_order_release);
  park_.store(false, std::memory_order_relaxed);  // published by the generation's bump
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
  const auto claimed_at = std::chrono::steady_clock::now();
  const int64_t mine = RunChunks(static_cast<uint32_t>(tag), job, /*caller=*/true);
  const auto start = std::chrono::steady_clock::now();
  // Every chunk is claimed now. A decode chunk a worker has not finished is computed here too,
  // after a short wait (see kCallerStealAfter); the first to finish commits it.
  if (job.tokens == 0 && done_chunks_.load(std::memory_order_acquire) != job.chunks) {
    const auto steal_after = std::max<std::chrono::nanoseconds>(
        kCallerStealAfter, 2 * (start - claimed_at) / std::max<int64_t>(1, mine));
    for (int i = 0; done_chunks_.load(std::memory_order_acquire) != job.chunks; ++i) {
      if ((i & 63) == 63 && std::chrono::steady_clock::now() - start > steal_after) {
        StealUnfinished(job);
        break;
      }
      CpuRelax();
    }
  }
  // Wait for chunks that other threads still run (prefill's), or are committing. One that is
  // late was usually preempted (by another process, or eprofd's own service threads): then
  // block, so that this core goes idle and the scheduler can move the late thread here, instead
  // of spinning on it.
  const auto wait_start = std::chrono::steady_clock::now();
  for (int i = 0; done_chunks_.load(std::memory_order_acquire) != job.chunks; ++i) {
    if ((i & 63) == 63 && std::chrono::steady_clock::now() - wait_start > kCallerSpinFor) {
      caller_sleeping_.store(true, std::memory_order_seq_cst);
      for (int64_t d = done_chunks_.load(std::memory_order_seq_cst); d != job.chunks;
           d = done_chunks_.load(std::memory_order_seq_cst)) {
        done_chunks_.wait(d);
      }
      caller_sleeping_.store(false, std::memory_order_relaxed);
      break;
    }
    CpuRelax();
  }
  if (job.tokens == 0) {
    // Close the job: a worker still holding one of its chunks now finds another tag, and reads
    // no more of its x copy (RunChunks).
    ticket_.store(((tag + 1) & 0xffffffffu) << 32, std::memory_order_seq_cst);
  }
}

void GemvPool::StealUnfinished(const Job& job) {
  std::vector<float>& out = steal_buffer_;
  for (int64_t c = 0; c < job.chunks; ++c) {
    if (chunk_done_[c].load(std::memory_order_acquire) >= job.seq) continue;
    const int64_t r0 = c * job.chunk_rows;
    const int64_t r1 = std::min(job.rows, r0 + job.chunk_rows);
    out.resize(static_cast<size_t>(r1 - r0));
    RunRowsInto(job, r0, r1, out.data());
    if (Commit(c, job.seq)) {
      std::copy(out.begin(), out.end(), job.y + r0);
      ++stolen_chunks_;
      ChunkDone(job.chunks);
    }
  }
}

}  // namespace eprof::engine
