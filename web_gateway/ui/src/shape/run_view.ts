// A run as the events of its Profile or Watch stream build it, and as GetRun gives it: the one
// shape every live and stored panel draws from.
import type { Channel, PowerSample } from "../gen/eprof/v1/power_pb";
import type {
  GetRunResponse, ModelLoading, PhaseRecord, ProfileEvent, RunStarted, RunSummary, SectionRecord,
  TokenRecord, Warning,
} from "../gen/eprof/v1/profiler_pb";
import { Phase } from "../gen/eprof/v1/profiler_pb";

export interface OpenSpan { phase: Phase; name?: string; startNs: number }

/**
 * Mutable on purpose: a stream of a 1,000-token run applies thousands of events, and the view
 * redraws at most once per frame from `version`. Owned by one view; not shared across streams.
 */
export class RunView {
  runId = "";
  started?: RunStarted;
  loading?: ModelLoading;
  openPhase?: OpenSpan;
  openSection?: OpenSpan;
  phases: PhaseRecord[] = [];
  sections: SectionRecord[] = [];
  tokens: TokenRecord[] = [];
  /** Tokens whose energy (and their layers') is final, by index. */
  finalTokens: boolean[] = [];
  samples: PowerSample[] = [];
  warnings: Warning[] = [];
  summary?: RunSummary;
  /** Highest seq applied (-1: none): a reconnected Watch replays from 0 and is skipped to here. */
  lastSeq = -1;
  /** Latest event time, CLOCK_MONOTONIC ns. */
  nowNs = 0;
  version = 0;

  get channels(): Channel[] {
    return this.summary?.channels.length ? this.summary.channels : (this.started?.channels ?? []);
  }
  get done(): boolean { return this.summary !== undefined; }
  /** The run's time origin: its first phase, else its first event. */
  get t0Ns(): number {
    if (this.phases.length) return Number(this.phases[0].startNs);
    if (this.openPhase) return this.openPhase.startNs;
    if (this.samples.length) return Number(this.samples[0].tEndNs - this.samples[0].windowNs);
    return this.nowNs;
  }

  /** Applies one event; false when it was already applied (its seq is not new). */
  apply(e: ProfileEvent): boolean {
    const seq = Number(e.seq);
    if (seq <= this.lastSeq) return false;
    this.lastSeq = seq;
    if (e.runId) this.runId = e.runId;
    const t = Number(e.tNs);
    if (t > this.nowNs) this.nowNs = t;
    const ev = e.event;
    switch (ev.case) {
      case "runStarted": this.started = ev.value; break;
      case "modelLoading": this.loading = ev.value; break;
      case "phaseStarted":
        this.openPhase = { phase: ev.value.phase, startNs: Number(ev.value.startNs) };
        this.openSection = undefined;
        break;
      case "phaseEnded":
        if (ev.value.phase) this.phases.push(ev.value.phase);
        this.openPhase = undefined;
        break;
      case "sectionStarted":
        this.openSection = { phase: ev.value.phase, name: ev.value.name, startNs: Number(ev.value.startNs) };
        break;
      case "sectionEnded":
        if (ev.value.section) this.sections.push(ev.value.section);
        this.openSection = undefined;
        break;
      case "powerSample": {
        this.samples.push(ev.value);
        const end = Number(ev.value.tEndNs);
        if (end > this.nowNs) this.nowNs = end;
        break;
      }
      case "token":
        if (ev.value.token) {
          const tok = ev.value.token;
          this.tokens[tok.index] = tok;
          this.finalTokens[tok.index] = ev.value.energyFinal;
        }
        break;
      case "warning": this.warnings.push(ev.value); break;
      case "summary":
        this.summary = ev.value;
        this.openPhase = undefined;
        this.openSection = undefined;
        break;
      default: break;
    }
    ++this.version;
    return true;
  }

  /** Replaces what the stream built with the stored run's final figures. */
  applyStored(run: GetRunResponse): void {
    if (run.summary) {
      this.summary = run.summary;
      this.runId = run.summary.runId;
    }
    if (run.phases.length) this.phases = run.phases;
    if (run.tokens.length) {
      this.tokens = run.tokens;
      this.finalTokens = run.tokens.map(() => true);
    }
    if (run.powerSamples.length) this.samples = run.powerSamples;
    ++this.version;
  }

  static fromStored(run: GetRunResponse): RunView {
    const v = new RunView();
    v.applyStored(run);
    v.warnings = run.summary?.warnings ?? [];
    if (run.summary) v.nowNs = Number(run.summary.endNs);
    return v;
  }

  /** The phase the run is in, or undefined before the first and after the summary. */
  get currentPhase(): Phase | undefined { return this.openPhase?.phase; }
  get tokenCount(): number { return this.tokens.filter(Boolean).length; }
}
