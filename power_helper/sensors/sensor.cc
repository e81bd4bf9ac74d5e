#include "power_helper/sensors/sensor.h"

#include "absl/strings/match.h"

namespace eprof::power {

const char* QualityName(v1::Quality quality) {
  switch (quality) {
    case v1::QUALITY_MEASURED:
      return "MEASURED";
    case v1::QUALITY_DERIVED:
      return "DERIVED";
    default:
      return "ESTIMATED";
  }
}

v1::Quality QualityFromName(const std::string& name) {
  if (name == "MEASURED") return v1::QUALITY_MEASURED;
  if (name == "DERIVED") return v1::QUALITY_DERIVED;
  return v1::QUALITY_ESTIMATED;
}

v1::ChannelKind KindFromChannelName(const std::string& name) {
  if (absl::StartsWith(name, "package")) return v1::CHANNEL_KIND_PACKAGE;
  if (absl::StartsWith(name, "psys")) return v1::CHANNEL_KIND_PLATFORM;
  if (absl::StartsWith(name, "dram")) return v1::CHANNEL_KIND_DRAM;
  if (absl::StartsWith(name, "ane")) return v1::CHANNEL_KIND_ACCELERATOR;
  if (absl::StrContains(name, "gpu") || absl::StartsWith(name, "uncore")) {
    return v1::CHANNEL_KIND_GPU;
  }
  if (absl::StartsWith(name, "cpu") || absl::StartsWith(name, "core")) {
    return v1::CHANNEL_KIND_CPU;
  }
  return v1::CHANNEL_KIND_OTHER;
}

v1::Channel MakeChannel(const std::string& name, const std::string& source,
                        const std::string& description, v1::ChannelKind kind,
                        v1::Quality quality, const std::string& native_unit,
                        bool energy_counter, std::vector<std::string> contains) {
  v1::Channel channel;
  channel.set_name(name);
  channel.set_source(source);
  channel.set_description(description);
  channel.set_kind(kind);
  channel.set_quality(quality);
  channel.set_native_unit(native_unit);
  channel.set_energy_counter(energy_counter);
  for (std::string& c : contains) channel.add_contains(std::move(c));
  return channel;
}

v1::Source MakeSource(const std::string& name, const std::string& description,
                      int64_t min_interval_ns, int64_t default_interval_ns,
                      int64_t max_interval_ns) {
  v1::Source info;
  info.set_name(name);
  info.set_description(description);
  info.set_min_interval_ns(min_interval_ns);
  info.set_max_interval_ns(max_interval_ns);
  info.set_default_interval_ns(default_interval_ns);
  return info;
}

v1::Quality WorseQuality(v1::Quality a, v1::Quality b) {
  auto badness = [](v1::Quality q) {
    return q == v1::QUALITY_UNSPECIFIED ? static_cast<int>(v1::QUALITY_ESTIMATED)
                                        : static_cast<int>(q);
  };
  return badness(b) > badness(a) ? b : a;
}

double MergedPowerMw(int windows, double own_power_mw, double energy_mj, int64_t window_ns) {
  if (windows == 1 || window_ns <= 0) return own_power_mw;
  return energy_mj * 1e9 / static_cast<double>(window_ns);
}

}  // namespace eprof::power
