#include "power_helper/sensors/estimate_sensor.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace eprof::power {

absl::StatusOr<CpuTimes> ParseProcStat(const std::string& text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, "cpu ")) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 5) break;
    CpuTimes t;
    uint64_t idle = 0;
    // user nice system idle iowait irq softirq steal (guest and guest_nice are already in user).
    for (size_t i = 1; i < fields.size() && i <= 8; ++i) {
      uint64_t v = 0;
      if (!absl::SimpleAtoi(fields[i], &v)) {
        return absl::InvalidArgumentError(absl::StrCat("/proc/stat: bad field \"", fields[i],
                                                       "\" in line \"", line, "\""));
      }
      t.total += v;
      if (i == 4 || i == 5) idle += v;  // idle, iowait
    }
    t.busy = t.total - idle;
    return t;
  }
  return absl::InvalidArgumentError("/proc/stat has no aggregate \"cpu \" line");
}

EstimateSensor::EstimateSensor(const EstimateSensorOptions& options)
    : PolledSensor(options.clock),
      options_(options),
      fs_(options.fs ? options.fs : FileSystem::Real()) {}

std::unique_ptr<EstimateSensor> EstimateSensor::Create(const EstimateSensorOptions& options) {
  auto sensor = std::unique_ptr<EstimateSensor>(new EstimateSensor(options));
  v1::Source& info = sensor->info_;
  // Shortest interval 10 ms: /proc/stat counts in 10 ms ticks.
  info = MakeSource(
      "estimate",
      absl::StrFormat("ESTIMATE, not a measurement: CPU utilisation from "
                      "%s/stat x %.1f W TDP (%.1f W idle)",
                      options.proc_root, options.tdp_w, options.idle_w),
      /*min_interval_ns=*/10'000'000, /*default_interval_ns=*/100'000'000);
  absl::StatusOr<std::string> stat = sensor->fs_->ReadFile(options.proc_root + "/stat");
  absl::Status ok = stat.ok() ? ParseProcStat(*stat).status() : stat.status();
  if (!(options.tdp_w >= options.idle_w && options.idle_w >= 0)) {
    ok = absl::InvalidArgumentError(absl::StrFormat(
        "TDP %.1f W must be >= idle power %.1f W >= 0", options.tdp_w, options.idle_w));
  }
  info.set_available(ok.ok());
  if (ok.ok()) {
    *info.add_channels() = MakeChannel(
        "cpu-estimate", "estimate",
        "ESTIMATE of CPU power from utilisation x TDP (no sensor read)", v1::CHANNEL_KIND_CPU,
        v1::QUALITY_ESTIMATED, "W (model)", /*energy_counter=*/false);
  } else {
    info.set_unavailable_reason(std::string(ok.message()));
  }
  return sensor;
}

absl::Status EstimateSensor::ReadBaseline(int64_t now_ns) {
  EPROF_ASSIGN_OR_RETURN(std::string text, fs_->ReadFile(options_.proc_root + "/stat"));
  EPROF_ASSIGN_OR_RETURN(last_, ParseProcStat(text));
  return absl::OkStatus();
}

absl::Status EstimateSensor::ReadWindow(int64_t now_ns, int64_t window_ns,
                                        std::vector<Reading>* readings) {
  EPROF_ASSIGN_OR_RETURN(std::string text, fs_->ReadFile(options_.proc_root + "/stat"));
  EPROF_ASSIGN_OR_RETURN(CpuTimes now, ParseProcStat(text));
  double utilisation = 0;
  if (now.total > last_.total && now.busy >= last_.busy) {
    utilisation = static_cast<double>(now.busy - last_.busy) /
                  static_cast<double>(now.total - last_.total);
    if (utilisation > 1) utilisation = 1;
  }
  last_ = now;
  Reading r;
  r.channel = "cpu-estimate";
  r.power_mw = (options_.idle_w + utilisation * (options_.tdp_w - options_.idle_w)) * 1e3;
  r.energy_mj = r.power_mw * static_cast<double>(window_ns) / 1e9;
  r.quality = v1::QUALITY_ESTIMATED;
  readings->push_back(std::move(r));
  return absl::OkStatus();
}

}  // namespace eprof::power
