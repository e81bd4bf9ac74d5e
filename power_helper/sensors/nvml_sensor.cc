#include "power_helper/sensors/nvml_sensor.h"

#include <dlfcn.h>

#include "absl/strings/str_cat.h"

namespace eprof::power {
namespace {

// NVML's C types, as far as the calls below need them (nvml.h is not required to build).
using nvmlReturn_t = int;
using nvmlDevice_t = void*;
constexpr nvmlReturn_t kNvmlSuccess = 0;

class RealNvml final : public NvmlApi {
 public:
  ~RealNvml() override {
    if (shutdown_) shutdown_();
    if (lib_) dlclose(lib_);
  }

  absl::Status Load() {
    lib_ = dlopen("libnvidia-ml.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (lib_ == nullptr) {
      return absl::UnavailableError(absl::StrCat(
          "libnvidia-ml.so.1 not found (", dlerror(), "): no NVIDIA driver on this machine"));
    }
    auto init = reinterpret_cast<nvmlReturn_t (*)()>(dlsym(lib_, "nvmlInit_v2"));
    count_ = reinterpret_cast<nvmlReturn_t (*)(unsigned*)>(dlsym(lib_, "nvmlDeviceGetCount_v2"));
    handle_ = reinterpret_cast<nvmlReturn_t (*)(unsigned, nvmlDevice_t*)>(
        dlsym(lib_, "nvmlDeviceGetHandleByIndex_v2"));
    name_ = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned)>(
        dlsym(lib_, "nvmlDeviceGetName"));
    energy_ = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, unsigned long long*)>(
        dlsym(lib_, "nvmlDeviceGetTotalEnergyConsumption"));
    power_ = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, unsigned*)>(
        dlsym(lib_, "nvmlDeviceGetPowerUsage"));
    auto shutdown = reinterpret_cast<nvmlReturn_t (*)()>(dlsym(lib_, "nvmlShutdown"));
    if (!init || !count_ || !handle_) {
      return absl::UnavailableError("libnvidia-ml.so.1 lacks nvmlInit_v2 / nvmlDeviceGetCount_v2");
    }
    nvmlReturn_t rc = init();
    if (rc != kNvmlSuccess) {
      return absl::UnavailableError(absl::StrCat("nvmlInit_v2 failed with NVML error ", rc,
                                                 ": is the NVIDIA driver loaded?"));
    }
    shutdown_ = shutdown;
    return absl::OkStatus();
  }

  int DeviceCount() override {
    unsigned n = 0;
    return count_(&n) == kNvmlSuccess ? static_cast<int>(n) : 0;
  }
  std::string DeviceName(int index) override {
    char buf[96] = {0};
    nvmlDevice_t d;
    if (!name_ || !Handle(index, &d) || name_(d, buf, sizeof(buf)) != kNvmlSuccess) return "GPU";
    return buf;
  }
  bool TotalEnergyMj(int index, uint64_t* energy_mj) override {
    nvmlDevice_t d;
    unsigned long long v = 0;
    if (!energy_ || !Handle(index, &d) || energy_(d, &v) != kNvmlSuccess) return false;
    *energy_mj = v;
    return true;
  }
  bool PowerMw(int index, unsigned* power_mw) override {
    nvmlDevice_t d;
    return power_ && Handle(index, &d) && power_(d, power_mw) == kNvmlSuccess;
  }

 private:
  bool Handle(int index, nvmlDevice_t* d) {
    return handle_(static_cast<unsigned>(index), d) == kNvmlSuccess;
  }
  void* lib_ = nullptr;
  nvmlReturn_t (*count_)(unsigned*) = nullptr;
  nvmlReturn_t (*handle_)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*name_)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*energy_)(nvmlDevice_t, unsigned long long*) = nullptr;
  nvmlReturn_t (*power_)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*shutdown_)() = nullptr;
};

}  // namespace

absl::StatusOr<std::unique_ptr<NvmlApi>> NvmlApi::LoadReal() {
  auto api = std::make_unique<RealNvml>();
  absl::Status s = api->Load();
  if (!s.ok()) return s;
  return std::unique_ptr<NvmlApi>(std::move(api));
}

std::unique_ptr<NvmlSensor> NvmlSensor::Create(NvmlSensorOptions options) {
  auto sensor = std::unique_ptr<NvmlSensor>(new NvmlSensor(options.clock));
  v1::Source& info = sensor->info_;
  info = MakeSource(
      "nvml",
      "NVIDIA GPUs through NVML (libnvidia-ml.so.1, loaded at run time)",
      /*min_interval_ns=*/1'000'000, /*default_interval_ns=*/100'000'000);
  if (options.api) {
    sensor->api_ = std::move(options.api);
  } else {
    absl::StatusOr<std::unique_ptr<NvmlApi>> api = NvmlApi::LoadReal();
    if (!api.ok()) {
      info.set_available(false);
      info.set_unavailable_reason(std::string(api.status().message()));
      return sensor;
    }
    sensor->api_ = *std::move(api);
  }
  const int count = sensor->api_->DeviceCount();
  for (int i = 0; i < count; ++i) {
    uint64_t e = 0;
    unsigned p = 0;
    const bool counter = sensor->api_->TotalEnergyMj(i, &e);
    if (!counter && !sensor->api_->PowerMw(i, &p)) continue;
    std::string channel = absl::StrCat("gpu", i);
    *info.add_channels() = MakeChannel(
        channel, "nvml", absl::StrCat("NVIDIA ", sensor->api_->DeviceName(i), " (GPU ", i, ")"),
        v1::CHANNEL_KIND_GPU, counter ? v1::QUALITY_MEASURED : v1::QUALITY_DERIVED,
        counter ? "mJ" : "mW", counter);
    sensor->gpus_.push_back(Gpu{i, channel, counter});
  }
  info.set_available(!sensor->gpus_.empty());
  if (sensor->gpus_.empty()) {
    info.set_unavailable_reason(
        absl::StrCat("NVML found ", count, " GPUs and none reports energy or power"));
  }
  return sensor;
}

absl::Status NvmlSensor::ReadBaseline(int64_t now_ns) {
  if (gpus_.empty()) return absl::FailedPreconditionError(info_.unavailable_reason());
  for (Gpu& g : gpus_) {
    unsigned p = 0;
    if (api_->PowerMw(g.index, &p)) g.last_power_mw = p;
    if (g.has_energy_counter && !api_->TotalEnergyMj(g.index, &g.last_energy_mj)) {
      return absl::UnavailableError(absl::StrCat("NVML energy of GPU ", g.index, " unreadable"));
    }
  }
  return absl::OkStatus();
}

absl::Status NvmlSensor::ReadWindow(int64_t now_ns, int64_t window_ns,
                                    std::vector<Reading>* readings) {
  for (Gpu& g : gpus_) {
    Reading r;
    r.channel = g.channel;
    unsigned p = 0;
    const bool have_power = api_->PowerMw(g.index, &p);
    const double power_mw = have_power ? static_cast<double>(p) : g.last_power_mw;
    const double integrated_mj =
        (g.last_power_mw + power_mw) / 2 * static_cast<double>(window_ns) / 1e9;
    uint64_t e = 0;
    if (g.has_energy_counter && api_->TotalEnergyMj(g.index, &e)) {
      if (e >= g.last_energy_mj) {
        r.energy_mj = static_cast<double>(e - g.last_energy_mj);
        r.quality = v1::QUALITY_MEASURED;
      } else {  // counter reset (driver reload): new baseline, this window from power
        r.energy_mj = integrated_mj;
        r.quality = v1::QUALITY_DERIVED;
      }
      g.last_energy_mj = e;
    } else {
      r.energy_mj = integrated_mj;
      r.quality = v1::QUALITY_DERIVED;
    }
    r.power_mw = r.energy_mj * 1e9 / static_cast<double>(window_ns);
    g.last_power_mw = power_mw;
    readings->push_back(std::move(r));
  }
  return absl::OkStatus();
}

}  // namespace eprof::power
