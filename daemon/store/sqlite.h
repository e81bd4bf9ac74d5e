// A thin RAII layer over the SQLite C API: the one place where SQLite result codes become
// absl::Status (SQLITE_FULL → RESOURCE_EXHAUSTED, SQLITE_READONLY/PERM → PERMISSION_DENIED,
// SQLITE_CONSTRAINT → ALREADY_EXISTS/FAILED_PRECONDITION, SQLITE_BUSY → UNAVAILABLE, ...), each
// message naming the database file and the statement.
//
//   EPROF_ASSIGN_OR_RETURN(auto db, Database::Open(path));
//   EPROF_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
//   EPROF_ASSIGN_OR_RETURN(Statement st, db->Prepare("INSERT INTO t VALUES (?, ?)"));
//   st.Bind(1, int64_t{3}); st.Bind(2, "x");
//   EPROF_RETURN_IF_ERROR(st.Run());
//
// Thread safety: a Database and its Statements are used by one thread at a time (the store
// serialises access with its own mutex).
#ifndef EPROF_DAEMON_STORE_SQLITE_H_
#define EPROF_DAEMON_STORE_SQLITE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct sqlite3;
struct sqlite3_stmt;

namespace eprof::store {

class Database;

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  // 1-based parameter index. Text and blobs are copied by SQLite (SQLITE_TRANSIENT).
  void Bind(int index, int64_t value);
  void Bind(int index, double value);
  void Bind(int index, absl::string_view text);
  void BindBlob(int index, absl::string_view bytes);
  void BindNull(int index);

  // Steps once. Returns true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps to completion (for statements that return no rows), then resets for reuse.
  absl::Status Run();
  // Resets and clears bindings for the next use.
  void Reset();

  // Column accessors for the current row (0-based).
  int64_t ColumnInt(int col) const;
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  friend class Database;
  Statement(Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Database* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // Opens (creating if needed) the database file; ":memory:" for an in-memory one.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path);
  ~Database();

  // Runs one or more statements with no parameters.
  absl::Status Exec(absl::string_view sql);
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // Number of rows changed by the last statement.
  int64_t Changes() const;
  const std::string& path() const { return path_; }

  // Translates the connection's last error (code `rc`) into a Status mentioning `what`.
  absl::Status Error(int rc, absl::string_view what) const;

 private:
  Database(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  std::string path_;
  sqlite3* db_;
};

// A BEGIN IMMEDIATE transaction that rolls back unless committed. Not thread-safe: one per
// connection at a time, under the caller's lock.
class Transaction {
 public:
  explicit Transaction(Database* db) : db_(db) {}
  ~Transaction() {
    if (open_ && !committed_) (void)db_->Exec("ROLLBACK");
  }
  absl::Status Begin() {
    if (absl::Status s = db_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    open_ = true;
    return absl::OkStatus();
  }
  absl::Status Commit() {
    if (absl::Status s = db_->Exec("COMMIT"); !s.ok()) return s;
    committed_ = true;
    return absl::OkStatus();
  }

 private:
  Database* db_;
  bool open_ = false;
  bool committed_ = false;
};

}  // namespace eprof::store

#endif  // EPROF_DAEMON_STORE_SQLITE_H_
