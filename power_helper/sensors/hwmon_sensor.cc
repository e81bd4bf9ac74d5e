#include "power_helper/sensors/hwmon_sensor.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace eprof::power {

HwmonSensor::HwmonSensor(const HwmonSensorOptions& options)
    : PolledSensor(options.clock), fs_(options.fs ? options.fs : FileSystem::Real()) {}

std::unique_ptr<HwmonSensor> HwmonSensor::Create(const HwmonSensorOptions& options) {
  auto sensor = std::unique_ptr<HwmonSensor>(new HwmonSensor(options));
  const std::string base = options.sysfs_root + "/class/hwmon";
  v1::Source& info = sensor->info_;
  info = MakeSource(
      "hwmon",
      absl::StrCat("Linux hwmon power*_input / power*_average (", base, ")"),
      /*min_interval_ns=*/1'000'000, /*default_interval_ns=*/100'000'000);
  absl::StatusOr<std::vector<std::string>> dirs = sensor->fs_->ListDir(base);
  if (dirs.ok()) {
    for (const std::string& dir : *dirs) {
      if (!absl::StartsWith(dir, "hwmon")) continue;
      const std::string path = absl::StrCat(base, "/", dir);
      absl::StatusOr<std::string> name = ReadTrimmedFile(*sensor->fs_, path + "/name");
      absl::StatusOr<std::vector<std::string>> files = sensor->fs_->ListDir(path);
      if (!name.ok() || !files.ok()) continue;
      // power<N>_input preferred over power<N>_average for the same N.
      std::map<std::string, std::string> by_index;
      for (const std::string& f : *files) {
        if (!absl::StartsWith(f, "power")) continue;
        size_t us = f.find('_');
        if (us == std::string::npos) continue;
        std::string index = f.substr(5, us - 5);
        std::string kind = f.substr(us + 1);
        if (kind == "input" || (kind == "average" && !by_index.count(index))) {
          by_index[index] = f;
        }
      }
      for (const auto& [index, file] : by_index) {
        std::string channel = absl::StrCat(*name, "-", dir);
        if (by_index.size() > 1) absl::StrAppend(&channel, "-", index);
        v1::ChannelKind kind =
            absl::StrContains(*name, "gpu") ? v1::CHANNEL_KIND_GPU : v1::CHANNEL_KIND_OTHER;
        *info.add_channels() =
            MakeChannel(channel, "hwmon", absl::StrCat("hwmon ", *name, " ", path, "/", file),
                        kind, v1::QUALITY_DERIVED, "uW", /*energy_counter=*/false);
        sensor->inputs_.push_back(Input{channel, absl::StrCat(path, "/", file), 0});
      }
    }
  }
  info.set_available(!sensor->inputs_.empty());
  if (sensor->inputs_.empty()) {
    info.set_unavailable_reason(
        absl::StrCat("no power*_input or power*_average file under ", base, "/hwmon*"));
  }
  return sensor;
}

absl::Status HwmonSensor::ReadBaseline(int64_t now_ns) {
  if (inputs_.empty()) return absl::FailedPreconditionError(info_.unavailable_reason());
  for (Input& in : inputs_) {
    EPROF_ASSIGN_OR_RETURN(uint64_t uw, ReadUint64File(*fs_, in.path));
    in.last_power_mw = static_cast<double>(uw) / 1e3;
  }
  return absl::OkStatus();
}

absl::Status HwmonSensor::ReadWindow(int64_t now_ns, int64_t window_ns,
                                     std::vector<Reading>* readings) {
  for (Input& in : inputs_) {
    EPROF_ASSIGN_OR_RETURN(uint64_t uw, ReadUint64File(*fs_, in.path));
    const double now_mw = static_cast<double>(uw) / 1e3;
    Reading r;
    r.channel = in.channel;
    r.power_mw = (in.last_power_mw + now_mw) / 2;  // trapezoid over the window
    r.energy_mj = r.power_mw * static_cast<double>(window_ns) / 1e9;
    r.quality = v1::QUALITY_DERIVED;
    in.last_power_mw = now_mw;
    readings->push_back(std::move(r));
  }
  return absl::OkStatus();
}

}  // namespace eprof::power
