#include "power_helper/probe.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace eprof::power {

std::string SampleToJson(uint64_t seq, const std::string& source, const SensorSample& sample) {
  nlohmann::ordered_json j;
  j["seq"] = seq;
  j["t_end_ns"] = sample.t_end_ns;
  j["window_ns"] = sample.window_ns;
  j["source"] = source;
  nlohmann::ordered_json channels = nlohmann::ordered_json::object();
  for (const Reading& r : sample.readings) {
    channels[r.channel] = {{"energy_mj", r.energy_mj},
                           {"power_mw", r.power_mw},
                           {"quality", QualityName(r.quality)}};
  }
  j["channels"] = std::move(channels);
  return j.dump();
}

int RunProbe(std::vector<std::unique_ptr<Sensor>>& sensors, const ProbeOptions& options,
             std::ostream& out, std::ostream& info) {
  for (const auto& s : sensors) {
    v1::Source d = s->Describe();
    info << absl::StrFormat("source %s: %s\n  %s\n", d.name(),
                            d.available() ? "available" : "UNAVAILABLE", d.description());
    if (!d.available()) info << "  reason: " << d.unavailable_reason() << "\n";
    for (const v1::Channel& c : d.channels()) {
      std::string contains;
      if (!c.contains().empty()) {
        contains = " (contains " + absl::StrJoin(c.contains(), ", ") + ")";
      }
      info << absl::StrFormat("  channel %-14s %-9s %-5s %s%s\n", c.name(),
                              QualityName(c.quality()), c.native_unit(), c.description(),
                              contains);
    }
  }
  Sensor& sensor = *sensors[0];
  v1::Source d = sensor.Describe();
  if (!d.available()) {
    info << "error: source " << d.name() << " cannot run here: " << d.unavailable_reason() << "\n";
    return 1;
  }
  int64_t interval_ns = options.interval_ms > 0 ? options.interval_ms * 1'000'000
                                                 : d.default_interval_ns();
  interval_ns = std::clamp(interval_ns, d.min_interval_ns(), d.max_interval_ns());
  if (absl::Status s = sensor.Start(interval_ns); !s.ok()) {
    info << "error: " << s.message() << "\n";
    return 1;
  }
  int rc = 0;
  for (int64_t i = 0; options.samples < 0 || i < options.samples; ++i) {
    if (options.stop && options.stop->load()) break;
    absl::StatusOr<SensorSample> sample = sensor.Next(interval_ns);
    if (!sample.ok()) {
      if (!absl::IsOutOfRange(sample.status()) && !absl::IsCancelled(sample.status())) {
        info << "error: " << sample.status().message() << "\n";
        rc = 1;
      }
      break;
    }
    if (options.json) {
      out << SampleToJson(static_cast<uint64_t>(i), d.name(), *sample) << "\n";
    } else {
      out << absl::StrFormat("#%d t_end=%.3f s window=%.3f ms", i, sample->t_end_ns / 1e9,
                             sample->window_ns / 1e6);
      for (const Reading& r : sample->readings) {
        out << absl::StrFormat("  %s=%.1f mW (%.3f mJ%s)", r.channel, r.power_mw, r.energy_mj,
                               r.quality == v1::QUALITY_ESTIMATED ? ", ESTIMATE" : "");
      }
      out << "\n";
    }
    out.flush();
  }
  sensor.Stop();
  return rc;
}

}  // namespace eprof::power
