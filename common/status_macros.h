// Status propagation macros that Debian's Abseil 20220623 lacks.
//
//   absl::Status Load(...) {
//     EPROF_RETURN_IF_ERROR(OpenFile(path));
//     EPROF_ASSIGN_OR_RETURN(Header header, ReadHeader(fd));
//     EPROF_ASSIGN_OR_RETURN(auto size, header.Size(), _.WithPrefix("header of " + path));
//     ...
//   }
//
// EPROF_RETURN_IF_ERROR(expr): evaluates `expr` (an absl::Status or absl::StatusOr<T>); if it is
// not OK, returns its status from the enclosing function.
//
// EPROF_ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (an absl::StatusOr<T>); if OK, moves its
// value into `lhs` (a declaration or an existing variable); otherwise returns its status.
//
// EPROF_ASSIGN_OR_RETURN(lhs, expr, prefix): as above, but on error the returned status has
// `prefix` (a string) prepended to its message: "prefix: message".
#ifndef EPROF_COMMON_STATUS_MACROS_H_
#define EPROF_COMMON_STATUS_MACROS_H_

#include "absl/strings/string_view.h"
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace eprof {
namespace internal_status {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
inline const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace internal_status

// Returns `status` with "prefix: " prepended to its message; OK stays OK.
inline absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, ": ", status.message()));
}

}  // namespace eprof

#define EPROF_STATUS_CONCAT_INNER_(a, b) a##b
#define EPROF_STATUS_CONCAT_(a, b) EPROF_STATUS_CONCAT_INNER_(a, b)

#define EPROF_RETURN_IF_ERROR(expr)                                                  \
  do {                                                                               \
    if (const auto& eprof_status_ = (expr); !eprof_status_.ok()) {                   \
      return ::eprof::internal_status::GetStatus(eprof_status_);                     \
    }                                                                                \
  } while (false)

#define EPROF_ASSIGN_OR_RETURN_GET_MACRO_(_1, _2, _3, NAME, ...) NAME
#define EPROF_ASSIGN_OR_RETURN(...)                                                  \
  EPROF_ASSIGN_OR_RETURN_GET_MACRO_(__VA_ARGS__, EPROF_ASSIGN_OR_RETURN_3_,           \
                                    EPROF_ASSIGN_OR_RETURN_2_)(__VA_ARGS__)

#define EPROF_ASSIGN_OR_RETURN_2_(lhs, expr) \
  EPROF_ASSIGN_OR_RETURN_IMPL_(EPROF_STATUS_CONCAT_(eprof_statusor_, __LINE__), lhs, expr, )

#define EPROF_ASSIGN_OR_RETURN_3_(lhs, expr, prefix)                                 \
  EPROF_ASSIGN_OR_RETURN_IMPL_(EPROF_STATUS_CONCAT_(eprof_statusor_, __LINE__), lhs, expr, \
                               prefix)

#define EPROF_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr, ...)                       \
  auto statusor = (expr);                                                            \
  if (!statusor.ok()) {                                                              \
    return ::eprof::internal_status::AnnotateOrPass(statusor.status() __VA_OPT__(, ) \
                                                        __VA_ARGS__);                \
  }                                                                                  \
  lhs = std::move(statusor).value()

namespace eprof::internal_status {
inline absl::Status AnnotateOrPass(const absl::Status& status) { return status; }
inline absl::Status AnnotateOrPass(const absl::Status& status, absl::string_view prefix) {
  return ::eprof::Annotate(status, prefix);
}
}  // namespace eprof::internal_status

#endif  // EPROF_COMMON_STATUS_MACROS_H_
