#include "power_helper/sensors/replay_sensor.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "power_helper/sensors/powermetrics_parser.h"

namespace eprof::power {
namespace {

// No single channel of a machine eprof profiles draws this much; a trace saying so is broken.
constexpr double kMaxPowerMw = 1e8;  // 100 kW

}  // namespace

absl::Status CheckRecordedSample(const SensorSample& s) {
  if (s.window_ns <= 0) return absl::InvalidArgumentError("window_ns must be > 0");
  for (const Reading& r : s.readings) {
    const double power_mw = r.energy_mj * 1e9 / static_cast<double>(s.window_ns);
    if (!std::isfinite(r.energy_mj) || r.energy_mj < 0 || !std::isfinite(r.power_mw) ||
        r.power_mw < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "channel ", r.channel, " has energy ", r.energy_mj, " mJ and power ", r.power_mw,
          " mW; both must be finite and >= 0"));
    }
    if (power_mw > kMaxPowerMw || r.power_mw > kMaxPowerMw) {
      return absl::InvalidArgumentError(absl::StrCat(
          "channel ", r.channel, " draws ", std::max(power_mw, r.power_mw),
          " mW, more than the ", kMaxPowerMw, " mW (100 kW) any channel can: a broken trace"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SensorSample>> ParseJsonTrace(const std::string& text) {
  std::vector<SensorSample> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == absl::string_view::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr,
                                             /*allow_exceptions=*/false);
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("trace line ", line_no, ": ", why));
    };
    if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
    if (!j.contains("t_end_ns") || !j["t_end_ns"].is_number_integer() ||
        !j.contains("window_ns") || !j["window_ns"].is_number_integer()) {
      return bad("needs integer t_end_ns and window_ns");
    }
    SensorSample s;
    s.t_end_ns = j["t_end_ns"].get<int64_t>();
    s.window_ns = j["window_ns"].get<int64_t>();
    if (s.window_ns <= 0) return bad("window_ns must be > 0");
    if (!out.empty() && s.t_end_ns - s.window_ns < out.back().t_end_ns) {
      return bad("window overlaps the previous one");
    }
    if (j.contains("channels")) {
      if (!j["channels"].is_object()) return bad("channels must be an object");
      for (auto& [name, c] : j["channels"].items()) {
        if (!c.is_object() || !c.contains("energy_mj") || !c["energy_mj"].is_number()) {
          return bad(absl::StrCat("channel ", name, " needs a numeric energy_mj"));
        }
        Reading r;
        r.channel = name;
        r.energy_mj = c["energy_mj"].get<double>();
        r.power_mw = c.contains("power_mw") && c["power_mw"].is_number()
                         ? c["power_mw"].get<double>()
                         : r.energy_mj * 1e9 / static_cast<double>(s.window_ns);
        r.quality = QualityFromName(c.value("quality", std::string("MEASURED")));
        s.readings.push_back(std::move(r));
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

ReplaySensor::ReplaySensor(const ReplaySensorOptions& options)
    : options_(options), clock_(options.clock ? options.clock : Clock::Real()) {}

absl::StatusOr<std::unique_ptr<ReplaySensor>> ReplaySensor::Create(
    const ReplaySensorOptions& options) {
  FileSystem* fs = options.fs ? options.fs : FileSystem::Real();
  EPROF_ASSIGN_OR_RETURN(std::string text, fs->ReadDocument(options.path, kMaxReplayBytes),
                         "replay");
  auto sensor = std::unique_ptr<ReplaySensor>(new ReplaySensor(options));
  size_t first = text.find_first_not_of(std::string(" \t\r\n\0", 5));
  if (first != std::string::npos && text[first] == '<') {
    PowermetricsStreamParser parser;
    int64_t t_ns = 0;
    for (PowermetricsDocument& doc : parser.Feed(text, 0)) {
      t_ns += doc.elapsed_ns;
      sensor->recorded_.push_back(SensorSample{t_ns, doc.elapsed_ns, std::move(doc.readings)});
    }
    parser.Finish();
  } else {
    EPROF_ASSIGN_OR_RETURN(sensor->recorded_, ParseJsonTrace(text),
                           absl::StrCat("replay ", options.path));
  }
  for (size_t i = 0; i < sensor->recorded_.size(); ++i) {
    if (absl::Status s = CheckRecordedSample(sensor->recorded_[i]); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("replay ", options.path, ": sample ", i + 1, ": ", s.message()));
    }
  }
  if (sensor->recorded_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replay ", options.path,
        ": no samples (expected a powermetrics plist stream or a probe --json trace)"));
  }
  v1::Source& info = sensor->info_;
  info.set_name("replay");
  info.set_description(absl::StrCat("replay of ", options.path, options.fast ? " (fast)" : " (real time)"));
  info.set_available(true);
  info.set_min_interval_ns(kMinApiIntervalNs);
  info.set_max_interval_ns(kMaxApiIntervalNs);
  info.set_default_interval_ns(
      std::clamp(sensor->recorded_[0].window_ns, kMinApiIntervalNs, kMaxApiIntervalNs));
  std::map<std::string, bool> seen;
  for (const SensorSample& s : sensor->recorded_) {
    for (const Reading& r : s.readings) {
      if (seen[r.channel]) continue;
      seen[r.channel] = true;
      std::vector<std::string> contains;
      if (r.channel == "combined") contains = {"cpu", "gpu", "ane"};
      *info.add_channels() =
          MakeChannel(r.channel, "replay", absl::StrCat("recorded channel ", r.channel),
                      KindFromChannelName(r.channel), r.quality, "mJ (recorded)", false,
                      std::move(contains));
    }
  }
  return sensor;
}

absl::Status ReplaySensor::Start(int64_t /*interval_ns*/) {
  interrupt_.Reset();
  next_ = 0;
  const SensorSample& first = recorded_.front();
  offset_ns_ = clock_->NowNs() - (first.t_end_ns - first.window_ns);
  return absl::OkStatus();
}

absl::Status ReplaySensor::NextInto(int64_t /*interval_ns*/, SensorSample* sample) {
  if (interrupt_.interrupted()) return absl::CancelledError("sensor interrupted");
  if (next_ >= recorded_.size()) {
    return absl::OutOfRangeError(absl::StrCat("replay of ", options_.path, " ended after ",
                                              recorded_.size(), " samples"));
  }
  const SensorSample& recorded = recorded_[next_++];
  sample->t_end_ns = recorded.t_end_ns;
  sample->window_ns = recorded.window_ns;
  sample->readings.assign(recorded.readings.begin(), recorded.readings.end());
  if (!options_.fast) {
    sample->t_end_ns += offset_ns_;
    if (!clock_->SleepUntilNs(sample->t_end_ns, &interrupt_)) {
      return absl::CancelledError("sensor interrupted");
    }
  }
  return absl::OkStatus();
}

}  // namespace eprof::power
