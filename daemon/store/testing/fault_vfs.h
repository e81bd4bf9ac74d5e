// A SQLite VFS for tests, in the spirit of LevelDB's fault-injecting Env: it wraps the default
// VFS, counts every open, write, truncate and sync that goes through it, and makes the Nth of
// them fail (SQLITE_CANTOPEN, SQLITE_IOERR_WRITE, SQLITE_IOERR_TRUNCATE, SQLITE_IOERR_FSYNC),
// once or from then on. Registered as the default VFS while it lives, so that every database
// the process opens meanwhile goes through it.
//
//   FaultVfs vfs;                    // counts, fails nothing
//   ... a profiled run ...  int n = vfs.operations();
//   vfs.FailAt(k, /*sticky=*/false); // the k-th operation from now fails
//
// Thread safety: the counters are atomic; FailAt and the constructor/destructor from one test
// thread. One FaultVfs at a time.
#ifndef EPROF_DAEMON_STORE_TESTING_FAULT_VFS_H_
#define EPROF_DAEMON_STORE_TESTING_FAULT_VFS_H_

#include <atomic>
#include <cstdint>
#include <string>

namespace eprof::store::testing {

class FaultVfs {
 public:
  FaultVfs();
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  // Operations (opens, writes, truncates, syncs) counted since the last Reset or FailAt.
  int64_t operations() const { return count_.load(); }
  // The `n`-th operation from now (1 = the next) fails; with `sticky`, every one after it too
  // (a disk that stays broken). n <= 0: none fails.
  void FailAt(int64_t n, bool sticky);
  void Reset() { FailAt(0, false); }
  // Operations that were made to fail, and the kind of the first ("write", "sync", ...).
  int64_t failures() const { return failures_.load(); }
  std::string first_failure() const;

  // Internal: called by the shim for each operation; true when it must fail.
  bool Fail(const char* kind);

 private:
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> fail_at_{0};
  std::atomic<bool> sticky_{false};
  std::atomic<int64_t> failures_{0};
  std::atomic<const char*> first_failure_{nullptr};
};

}  // namespace eprof::store::testing

#endif  // EPROF_DAEMON_STORE_TESTING_FAULT_VFS_H_
