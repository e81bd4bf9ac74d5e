#include "daemon/profiler/store_writer.h"

#include "common/logging.h"

namespace eprof::daemon {

StoreWriter::StoreWriter(store::RunStore* store, std::string run_id)
    : store_(store), run_id_(std::move(run_id)), thread_([this] { Loop(); }) {}

StoreWriter::~StoreWriter() {
  (void)Flush();
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void StoreWriter::Enqueue(store::RunRows rows) {
  if (rows.empty()) return;
  absl::MutexLock lock(&mu_);
  if (!error_.ok()) return;  // the run is failing; nothing more is written
  queue_.push_back(std::move(rows));
}

absl::Status StoreWriter::Flush() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return queue_.empty() && !writing_; };
  mu_.Await(absl::Condition(&idle));
  return error_;
}

absl::Status StoreWriter::error() const {
  absl::MutexLock lock(&mu_);
  return error_;
}

void StoreWriter::Loop() {
  for (;;) {
    store::RunRows rows;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !queue_.empty() || stopping_; };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, nothing left
      rows = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
    }
    absl::Status status = store_->AppendRows(run_id_, rows);  // no lock held across the commit
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!status.ok() && error_.ok()) {
      EPROF_LOG(ERROR) << "run " << run_id_ << ": saving failed: " << status;
      error_ = status;
      queue_.clear();
    }
  }
}

}  // namespace eprof::daemon
