#include "power_helper/sensors/rapl_sensor.h"

#include <map>
#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace eprof::power {
namespace {

struct FoundZone {
  std::string id;    // "intel-rapl:0:1"
  std::string dir;
  std::string name;  // contents of `name`: "package-0", "core", ...
  std::string parent_id;
  bool mmio = false;
};

// Powercap nests zones two deep (zones, their subzones); a tree deeper than this is not one.
constexpr int kMaxZoneDepth = 4;

// Depth-first over zone directories: `dir` holds subzones named "<parent_id>:..". Only those
// are followed, so that a tree that lists a zone inside itself (a link back, a bind mount) ends.
void FindZones(const FileSystem& fs, const std::string& dir, const std::string& parent_id,
               std::map<std::string, FoundZone>* out, int depth = 0) {
  if (depth >= kMaxZoneDepth) return;
  absl::StatusOr<std::vector<std::string>> names = fs.ListDir(dir);
  if (!names.ok()) return;
  for (const std::string& entry : *names) {
    const bool mmio = absl::StartsWith(entry, "intel-rapl-mmio:");
    if (!absl::StartsWith(entry, "intel-rapl:") && !mmio) continue;
    if (!parent_id.empty() && !absl::StartsWith(entry, parent_id + ":")) continue;
    std::string zone_dir = absl::StrCat(dir, "/", entry);
    absl::StatusOr<std::string> name = ReadTrimmedFile(fs, zone_dir + "/name");
    if (!name.ok() || !fs.Exists(zone_dir + "/energy_uj")) continue;
    // A zone id has one more ':' than its parent's: sysfs lists subzones both in the class
    // directory and inside their parent, so derive the parent from the id.
    std::string parent;
    size_t colon = entry.rfind(':');
    if (std::count(entry.begin(), entry.end(), ':') >= 2) parent = entry.substr(0, colon);
    (*out)[entry] = FoundZone{entry, zone_dir, *name, parent, mmio};
    FindZones(fs, zone_dir, entry, out, depth + 1);
  }
}

}  // namespace

uint64_t RaplDeltaUj(uint64_t prev_uj, uint64_t now_uj, uint64_t max_energy_range_uj) {
  if (now_uj >= prev_uj) return now_uj - prev_uj;
  // Wrapped: the counter went from prev up to max_energy_range_uj, then from 0 to now.
  if (max_energy_range_uj < prev_uj) return now_uj;  // inconsistent range: count from 0
  return (max_energy_range_uj - prev_uj) + now_uj;
}

RaplSensor::RaplSensor(const RaplSensorOptions& options)
    : PolledSensor(options.clock), fs_(options.fs ? options.fs : FileSystem::Real()) {}

std::unique_ptr<RaplSensor> RaplSensor::Create(const RaplSensorOptions& options) {
  auto sensor = std::unique_ptr<RaplSensor>(new RaplSensor(options));
  const std::string base = options.sysfs_root + "/class/powercap";
  v1::Source& info = sensor->info_;
  info = MakeSource("rapl", absl::StrCat("Linux powercap RAPL (", base, ")"),
                    /*min_interval_ns=*/1'000'000,
                    /*default_interval_ns=*/100'000'000);

  std::map<std::string, FoundZone> found;
  FindZones(*sensor->fs_, base, "", &found);
  // Names of non-mmio zones: mmio duplicates of them are dropped.
  std::set<std::string> plain_names;
  for (const auto& [id, z] : found) {
    if (!z.mmio) plain_names.insert(z.name);
  }
  // Package number of each top-level zone ("package-1" → "1").
  std::map<std::string, std::string> package_of;
  for (const auto& [id, z] : found) {
    if (z.parent_id.empty() && absl::StartsWith(z.name, "package-")) {
      package_of[id] = z.name.substr(8);
    }
  }
  std::vector<std::string> packages;
  std::map<std::string, std::vector<std::string>> package_contains;
  std::vector<std::pair<const FoundZone*, std::string>> chosen;  // zone, channel name
  for (const auto& [id, z] : found) {
    if (z.mmio && plain_names.count(z.name) && z.parent_id.empty()) continue;
    if (z.mmio && !z.parent_id.empty()) continue;
    std::string channel = z.name;
    if (!z.parent_id.empty()) {
      auto it = package_of.find(z.parent_id);
      std::string pkg = it == package_of.end() ? "0" : it->second;
      if (pkg != "0") channel = absl::StrCat(z.name, "-", pkg);
      if (it != package_of.end() && z.name != "dram") {
        package_contains[found.at(z.parent_id).name].push_back(channel);
      }
    } else if (absl::StartsWith(z.name, "package-")) {
      packages.push_back(channel);
    }
    chosen.emplace_back(&z, channel);
  }
  for (const auto& [zone, channel] : chosen) {
    absl::StatusOr<uint64_t> range = ReadUint64File(*sensor->fs_, zone->dir + "/max_energy_range_uj");
    if (!range.ok()) {
      EPROF_LOG(WARNING) << "RAPL zone " << zone->id << " skipped: " << range.status();
      continue;
    }
    std::vector<std::string> contains;
    v1::ChannelKind kind = KindFromChannelName(zone->name);
    if (absl::StartsWith(zone->name, "package-")) {
      contains = package_contains[zone->name];
    } else if (zone->name == "psys") {
      for (const std::string& p : packages) {
        contains.push_back(p);
        for (const std::string& c : package_contains[p]) contains.push_back(c);
      }
    }
    *info.add_channels() = MakeChannel(
        channel, "rapl", absl::StrCat("RAPL ", zone->name, " (", zone->id, ")"), kind,
        v1::QUALITY_MEASURED, "uJ", /*energy_counter=*/true, std::move(contains));
    sensor->zones_.push_back(Zone{channel, zone->dir, *range, 0});
  }
  if (sensor->zones_.empty()) {
    info.set_available(false);
    info.set_unavailable_reason(absl::StrCat(
        "no readable ", base, "/intel-rapl:* zones: this CPU, kernel or VM exposes no RAPL "
        "(AMD needs Linux >= 5.11)"));
    info.clear_channels();
  } else {
    info.set_available(true);
  }
  return sensor;
}

absl::Status RaplSensor::ReadBaseline(int64_t now_ns) {
  if (zones_.empty()) return absl::FailedPreconditionError(info_.unavailable_reason());
  for (Zone& zone : zones_) {
    const std::string why =
        absl::StrCat("RAPL ", zone.channel, " (energy_uj is root-only since Linux 5.10)");
    EPROF_ASSIGN_OR_RETURN(std::unique_ptr<CounterFile> file,
                           fs_->OpenCounter(zone.dir + "/energy_uj"), why);
    zone.energy = std::move(file);
    EPROF_ASSIGN_OR_RETURN(zone.last_energy_uj, zone.energy->Read(), why);
  }
  return absl::OkStatus();
}

void RaplSensor::Release() {
  for (Zone& zone : zones_) zone.energy.reset();
}

absl::Status RaplSensor::ReadWindow(int64_t now_ns, int64_t window_ns,
                                    std::vector<Reading>* readings) {
  readings->reserve(zones_.size());
  for (Zone& zone : zones_) {
    absl::StatusOr<uint64_t> read = zone.energy->Read();
    if (!read.ok()) return Annotate(read.status(), absl::StrCat("RAPL ", zone.channel));
    const uint64_t now_uj = *read;
    const uint64_t delta_uj = RaplDeltaUj(zone.last_energy_uj, now_uj, zone.max_energy_range_uj);
    zone.last_energy_uj = now_uj;
    Reading r;
    r.channel = zone.channel;
    r.energy_mj = static_cast<double>(delta_uj) / 1e3;
    r.power_mw = r.energy_mj * 1e9 / static_cast<double>(window_ns);
    r.quality = v1::QUALITY_MEASURED;
    readings->push_back(std::move(r));
  }
  return absl::OkStatus();
}

}  // namespace eprof::power
