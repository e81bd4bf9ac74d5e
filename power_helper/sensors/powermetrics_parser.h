// Parser for `powermetrics -f plist` output: framing of the NUL-separated document stream and
// translation of one plist document into readings. Pure: no I/O, no clock (the caller passes the
// time bytes arrived), so it runs the same on Linux against the real captures.
//
// Framing: documents are separated by NUL, and there is no NUL after the last one, so a document
// is complete at its `</plist>` close tag, not at the next NUL. Bytes may arrive split anywhere.
// A document that does not parse, or bytes before a document's `<?xml` that are not a NUL or
// whitespace (the remains of a truncated document), are skipped with a warning; a partial
// document older than `partial_timeout_ns` (10 s) is dropped.
//
// Channels (ms = powermetrics' window, elapsed_ns):
//   Apple Silicon (processor.*): cpu, gpu, ane from X_energy (mJ) and X_power (mW, else
//     energy / window); "combined" = cpu + gpu + ane (contains them; power from combined_power
//     when present). macOS <= 12 adds dram (dram_energy) and package (package_energy, the SoC
//     package: contains cpu, gpu, ane).
//   Intel Macs: package from package_joules (J) and package_watts (W).
//   No processor power (--samplers gpu_power only): gpu from gpu.gpu_energy / elapsed.
//   Nothing usable: no readings, and `no_power_reason` says why.
//
// Thread safety: a PowermetricsStreamParser is used by one thread.
#ifndef EPROF_POWER_HELPER_SENSORS_POWERMETRICS_PARSER_H_
#define EPROF_POWER_HELPER_SENSORS_POWERMETRICS_PARSER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "power_helper/sensors/sensor.h"

namespace eprof::power {

struct PowermetricsDocument {
  int64_t elapsed_ns = 0;         // the window powermetrics measured
  std::string timestamp;          // <date>, UTC, 1 s resolution: a label only
  std::string hw_model;           // "MacBookPro18,3"
  std::vector<Reading> readings;  // empty when the document has no power data
  std::string no_power_reason;    // set when readings is empty
};

// Parses one plist document. INVALID_ARGUMENT for XML that does not parse, a root that is not a
// dict, or a missing / non-positive elapsed_ns.
absl::StatusOr<PowermetricsDocument> ParsePowermetricsPlist(absl::string_view xml);

// The channels powermetrics reports on this kind of Mac (for Describe before any sample).
std::vector<v1::Channel> PowermetricsChannels(bool apple_silicon);

class PowermetricsStreamParser {
 public:
  explicit PowermetricsStreamParser(int64_t partial_timeout_ns = 10'000'000'000)
      : partial_timeout_ns_(partial_timeout_ns) {}

  // Appends `bytes` that arrived at `now_ns` and returns the documents completed by them, in
  // order. Bad documents are skipped (counted, logged).
  std::vector<PowermetricsDocument> Feed(absl::string_view bytes, int64_t now_ns);

  // Drops a partial document that has waited longer than the timeout; call periodically.
  void CheckTimeout(int64_t now_ns);

  // End of stream: drops the partial document, if any (counted as skipped when non-empty).
  void Finish();

  uint64_t skipped_documents() const { return skipped_; }
  size_t buffered_bytes() const { return buffer_.size(); }

 private:
  void Skip(absl::string_view why);

  int64_t partial_timeout_ns_;
  std::string buffer_;
  int64_t partial_since_ns_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace eprof::power

#endif  // EPROF_POWER_HELPER_SENSORS_POWERMETRICS_PARSER_H_
