// CompareRuns → rows of the side-by-side table: each run's figure and its change against the
// first run, judged better or worse only where the metric says which way is better.
import type { CompareRunsResponse } from "../gen/eprof/v1/profiler_pb";

export type Verdict = "better" | "worse" | "same" | "";

export interface CompareRow {
  name: string;
  unit: string;
  values: number[];
  /** value / first's, per run (1 for the first). */
  ratios: number[];
  /** Per run: better, worse or the same as the first; "" when not judged or the first. */
  verdicts: Verdict[];
}

export function compareRows(res: CompareRunsResponse): CompareRow[] {
  return res.metrics.map((m) => ({
    name: m.name,
    unit: m.unit,
    values: [...m.values],
    ratios: m.values.map((_, i) => m.ratioVsFirst[i] ?? (i === 0 ? 1 : NaN)),
    verdicts: m.values.map((_, i): Verdict => {
      if (i === 0 || !m.judged) return "";
      const d = m.deltaVsFirst[i] ?? 0;
      if (d === 0) return "same";
      return (d < 0) === m.lowerIsBetter ? "better" : "worse";
    }),
  }));
}

/** Phase energies as grouped bars: one group per phase, one bar per run (mJ). */
export function phaseGroups(res: CompareRunsResponse): { phase: number; mj: number[] }[] {
  return res.phases.map((p) => ({ phase: p.phase, mj: p.energy.map((e) => e.totalMj) }));
}
