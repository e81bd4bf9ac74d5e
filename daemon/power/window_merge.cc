#include "daemon/power/window_merge.h"

#include <utility>

#include "power_helper/sensors/sensor.h"

namespace eprof::daemon {

void WindowMerger::Add(const v1::PowerSample& s, std::vector<v1::PowerSample>* out) {
  if (windows_ > 0 && s.t_end_ns() - s.window_ns() != merged_.t_end_ns()) Emit(out);  // a gap
  if (windows_ == 0) {
    merged_ = s;
  } else {
    merged_.set_window_ns(merged_.window_ns() + (s.t_end_ns() - merged_.t_end_ns()));
    merged_.set_t_end_ns(s.t_end_ns());
    merged_.set_seq(s.seq());
    for (const v1::Reading& add : s.readings()) {
      v1::Reading* into = nullptr;
      for (v1::Reading& r : *merged_.mutable_readings()) {
        if (r.channel() == add.channel()) into = &r;
      }
      if (into == nullptr) {
        *merged_.add_readings() = add;
        continue;
      }
      into->set_energy_mj(into->energy_mj() + add.energy_mj());
      into->set_quality(power::WorseQuality(into->quality(), add.quality()));
    }
  }
  ++windows_;
  if (merged_.window_ns() >= interval_ns_) Emit(out);
}

void WindowMerger::Emit(std::vector<v1::PowerSample>* out) {
  for (v1::Reading& r : *merged_.mutable_readings()) {
    r.set_power_mw(
        power::MergedPowerMw(windows_, r.power_mw(), r.energy_mj(), merged_.window_ns()));
  }
  out->push_back(std::move(merged_));
  merged_.Clear();
  windows_ = 0;
}

}  // namespace eprof::daemon
