#include "power_helper/sensors/factory.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "power_helper/sensors/estimate_sensor.h"
#include "power_helper/sensors/hwmon_sensor.h"
#include "power_helper/sensors/nvml_sensor.h"
#include "power_helper/sensors/powermetrics_sensor.h"
#include "power_helper/sensors/rapl_sensor.h"
#include "power_helper/sensors/replay_sensor.h"

namespace eprof::power {
namespace {

#if defined(__APPLE__)
constexpr bool kMacOS = true;
#else
constexpr bool kMacOS = false;
#endif

absl::StatusOr<std::unique_ptr<Sensor>> CreateOne(const std::string& name,
                                                  const SourceOptions& o) {
  if (name == "rapl") {
    RaplSensorOptions r;
    r.sysfs_root = o.sysfs_root;
    r.clock = o.clock;
    return std::unique_ptr<Sensor>(RaplSensor::Create(r));
  }
  if (name == "hwmon") {
    HwmonSensorOptions h;
    h.sysfs_root = o.sysfs_root;
    h.clock = o.clock;
    return std::unique_ptr<Sensor>(HwmonSensor::Create(h));
  }
  if (name == "nvml") {
    NvmlSensorOptions n;
    n.clock = o.clock;
    return std::unique_ptr<Sensor>(NvmlSensor::Create(std::move(n)));
  }
  if (name == "estimate") {
    EstimateSensorOptions e;
    e.proc_root = o.proc_root;
    e.tdp_w = o.tdp_w;
    e.idle_w = o.idle_w;
    e.clock = o.clock;
    return std::unique_ptr<Sensor>(EstimateSensor::Create(e));
  }
  if (name == "powermetrics") {
    if (!kMacOS && o.powermetrics_path.empty()) {
      return absl::UnimplementedError(
          "this helper was built for Linux: the powermetrics source exists only on macOS (on "
          "Linux it runs only with --powermetrics-path=FAKE, for tests); use rapl, nvml, hwmon "
          "or estimate, or replay:FILE to play a powermetrics capture");
    }
    PowermetricsSensorOptions p;
    if (!o.powermetrics_path.empty()) p.executable = o.powermetrics_path;
    p.require_root = o.powermetrics_require_root;
#if defined(__aarch64__) || defined(__arm64__)
    p.apple_silicon = true;
#else
    p.apple_silicon = !kMacOS;  // fakes on Linux replay Apple Silicon captures
#endif
    p.clock = o.clock;
    return std::unique_ptr<Sensor>(std::make_unique<PowermetricsSensor>(p));
  }
  if (absl::StartsWith(name, "replay:")) {
    ReplaySensorOptions r;
    r.path = name.substr(7);
    r.fast = o.fast;
    r.clock = o.clock;
    if (r.path.empty()) return absl::InvalidArgumentError("replay: needs a file: replay:FILE");
    EPROF_ASSIGN_OR_RETURN(std::unique_ptr<ReplaySensor> s, ReplaySensor::Create(r));
    return std::unique_ptr<Sensor>(std::move(s));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown source \"", name,
      "\": use auto, rapl, nvml, hwmon, estimate, powermetrics or replay:FILE"));
}

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<Sensor>>> CreateSensors(const SourceOptions& options) {
  std::vector<std::unique_ptr<Sensor>> out;
  if (options.source != "auto") {
    EPROF_ASSIGN_OR_RETURN(std::unique_ptr<Sensor> s, CreateOne(options.source, options));
    out.push_back(std::move(s));
    return out;
  }
  std::vector<std::string> order = {"rapl", "nvml", "hwmon", "estimate"};
  if (kMacOS) order.insert(order.begin(), "powermetrics");
  for (const std::string& name : order) {
    EPROF_ASSIGN_OR_RETURN(std::unique_ptr<Sensor> s, CreateOne(name, options));
    out.push_back(std::move(s));
  }
  // Default first: the first available measured source, else the estimate.
  size_t best = out.size();
  for (size_t i = 0; i < out.size(); ++i) {
    v1::Source d = out[i]->Describe();
    if (d.available() && d.name() != "estimate") {
      best = i;
      break;
    }
  }
  if (best == out.size()) best = out.size() - 1;
  std::rotate(out.begin(), out.begin() + best, out.begin() + best + 1);
  return out;
}

}  // namespace eprof::power
