#include "daemon/engine/threading.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "daemon/engine/gemv.h"

namespace eprof::engine {
namespace {

std::string MappedBlasLibrary() {
  std::ifstream maps("/proc/self/maps");
  std::string line, found;
  while (std::getline(maps, line)) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("blas") != std::string::npos || path.find("libmkl") != std::string::npos) {
      if (found.find(path) == std::string::npos) {
        if (!found.empty()) found += ", ";
        found += path;
      }
    }
  }
  return found.empty() ? "none found in /proc/self/maps" : found;
}

}  // namespace

long CurrentTid() {
#if defined(__linux__)
  return syscall(SYS_gettid);
#else
  return 0;  // setpriority(PRIO_PROCESS, 0, ...): the calling process
#endif
}

std::string ThreadingInfo::Describe() const {
  return absl::StrCat(compute_nice > 0 ? absl::StrCat("inference at nice ", compute_nice, "; ") : "",
                      "libtorch intra-op threads ", torch_threads, ", OpenBLAS threads ",
                      blas_threads, "; matrix products: ", gemv, "; BLAS: ", blas_library,
                      blas_config.empty() ? "" : absl::StrCat(" (", blas_config, ")"));
}

ThreadingInfo CurrentThreading() {
  ThreadingInfo info;
  info.torch_threads = at::get_num_threads();
  if (auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) {
    info.blas_threads = get();
  }
  if (auto cfg = reinterpret_cast<char* (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    info.blas_config = cfg();
  }
  info.blas_library = MappedBlasLibrary();
  info.gemv = GemvPool::Get().Describe();
  info.compute_nice = GemvPool::Get().worker_nice();
  return info;
}

ThreadingInfo ConfigureThreading(const ThreadingChoice& choice) {
  at::set_num_threads(std::max(1, choice.torch_threads));
  GemvPool::SetEnabled(choice.eprof_pool);
  int blas = choice.blas_threads > 0 ? choice.blas_threads
             : GemvPool::UseForGemm() ? 1
                                         : static_cast<int>(std::thread::hardware_concurrency());
  if (auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(std::max(1, blas));
  }
  GemvPool::Get().SetYieldEvery(int64_t{std::max(0, choice.yield_every_us)} * 1000);
#if defined(__linux__)
  if (choice.compute_nice > 0) {
    // A Linux thread's nice value is its own (elsewhere it would be the whole process's).
    setpriority(PRIO_PROCESS, static_cast<id_t>(CurrentTid()), choice.compute_nice);
    GemvPool::Get().SetWorkerNice(choice.compute_nice);
  }
#endif
  GemvPool::Get().SetThreads(choice.gemv_threads > 0
                                 ? choice.gemv_threads
                                 : static_cast<int>(std::thread::hardware_concurrency()));
  return CurrentThreading();
}

}  // namespace eprof::engine
