#include "daemon/profiler/run_timeline.h"

#include "daemon/profiler/run_figures.h"

namespace eprof::daemon {

void RunTimeline::BeginPhase(v1::Phase phase) {
  BeginPhaseAt(phase, end_ns() >= 0 ? end_ns() : events_->clock()->NowNs());
}

void RunTimeline::BeginPhaseAt(v1::Phase phase, int64_t start_ns) {
  phases_.push_back({phase, start_ns, -1, {}});
  v1::ProfileEvent e;
  e.mutable_phase_started()->set_phase(phase);
  e.mutable_phase_started()->set_start_ns(start_ns);
  events_->Emit(e);
}

void RunTimeline::EndPhaseAt(int64_t end_ns) {
  PhaseSpan& p = phases_.back();
  p.end_ns = end_ns;
  power_->Drain();
  v1::ProfileEvent e;
  *e.mutable_phase_ended()->mutable_phase() = BuildPhase(
      p.phase, p.start_ns, p.end_ns, p.sections, power_->timeline(), power_->baseline());
  // Stored with the next batch of rows (provisional energy; the run's end stores the final one).
  rows_->rows().phases.push_back(e.phase_ended().phase());
  events_->Emit(e);
}

v1::SectionRecord RunTimeline::StartSection(const std::string& name) {
  v1::SectionRecord s;
  s.set_phase(phases_.back().phase);
  s.set_name(name);
  s.set_start_ns(events_->clock()->NowNs());
  v1::ProfileEvent started;
  started.mutable_section_started()->set_phase(s.phase());
  started.mutable_section_started()->set_name(name);
  started.mutable_section_started()->set_start_ns(s.start_ns());
  events_->Emit(started);
  return s;
}

void RunTimeline::EndSection(v1::SectionRecord section) {
  section.set_end_ns(events_->clock()->NowNs());
  v1::ProfileEvent ended;
  *ended.mutable_section_ended()->mutable_section() = section;
  events_->Emit(ended);
  phases_.back().sections.push_back(std::move(section));
}

std::vector<v1::PhaseRecord> RunTimeline::Records() const {
  std::vector<v1::PhaseRecord> records;
  records.reserve(phases_.size());
  for (const PhaseSpan& p : phases_) {
    records.push_back(BuildPhase(p.phase, p.start_ns, p.end_ns, p.sections, power_->timeline(),
                                 power_->baseline()));
  }
  return records;
}

}  // namespace eprof::daemon
