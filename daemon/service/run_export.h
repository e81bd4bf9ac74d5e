// ExportRun: a stored run as one CSV or JSON document, cut into chunks of at most 64 KiB.
//
// CSV: one table per part, each introduced by a line "# table: NAME" and a header row:
//   summary (field,value), phases, sections, tokens, layers, components, power_samples.
// Energies are in mJ, times in ns, as in the API. Text is quoted RFC 4180 style.
// JSON: the GetRunResponse in the proto3 JSON mapping (lowerCamelCase names, enums by name).
#ifndef EPROF_DAEMON_SERVICE_RUN_EXPORT_H_
#define EPROF_DAEMON_SERVICE_RUN_EXPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eprof/v1/profiler.pb.h"

namespace eprof::daemon {

// Largest chunk ExportRun sends, bytes.
inline constexpr size_t kExportChunkBytes = 64 * 1024;

// The whole document. INVALID_ARGUMENT for an unspecified format.
absl::StatusOr<std::string> ExportRunDocument(const v1::GetRunResponse& run, v1::ExportFormat format);

// The document as ExportRunChunks; the first carries content type and file name.
absl::StatusOr<std::vector<v1::ExportRunChunk>> ExportRunChunks(const v1::GetRunResponse& run,
                                                                v1::ExportFormat format);

}  // namespace eprof::daemon

#endif  // EPROF_DAEMON_SERVICE_RUN_EXPORT_H_
