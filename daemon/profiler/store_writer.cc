#include "daemon/profiler/store_writer.h"

#include "common/logging.h"
#include "common/thread_priority.h"

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
  {
    absl::MutexLock lock(&mu_);
    auto mine = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !writing_ && !draining_; };
    mu_.Await(absl::Condition(&mine));  // the batch in progress, if any, stays the thread's
    draining_ = true;
  }
  for (;;) {
    store::RunRows rows;
    {
      absl::MutexLock lock(&mu_);
      if (queue_.empty()) {
        draining_ = false;
        return error_;
      }
      rows = std::move(queue_.front());
      queue_.pop_front();
    }
    Write(rows);
  }
}

absl::Status StoreWriter::error() const {
  absl::MutexLock lock(&mu_);
  return error_;
}

void StoreWriter::Write(const store::RunRows& rows) {
  absl::Status status = store_->AppendRows(run_id_, rows);
  if (status.ok()) return;
  absl::MutexLock lock(&mu_);
  if (error_.ok()) {
    EPROF_LOG(ERROR) << "run " << run_id_ << ": saving failed: " << status;
    error_ = status;
  }
  queue_.clear();
}

void StoreWriter::Loop() {
  NameCurrentThread("eprof-store");
  if (absl::Status s = MakeCurrentThreadBackground(); !s.ok()) {
    EPROF_LOG(WARNING) << "run " << run_id_ << ": the store writer keeps normal priority: " << s;
  }
  for (;;) {
    store::RunRows rows;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return (!queue_.empty() && !draining_) || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;  // after the destructor's Flush(): nothing left
      rows = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
    }
    Write(rows);
    absl::MutexLock lock(&mu_);
    writing_ = false;
  }
}

void RowBatch::Queue(bool force) {
  if (force || static_cast<int64_t>(rows_.tokens.size()) >= batch_tokens_) {
    writer_->Enqueue(std::move(rows_));
    rows_ = store::RunRows();
  }
}

}  // namespace eprof::daemon
