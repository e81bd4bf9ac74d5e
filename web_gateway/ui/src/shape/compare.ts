// CompareRuns → rows of the side-by-side table: each run's figure and its change against the
// first run, judged better or worse only where the metric says which way is better.
import type { CompareRunsResponse, GetRunResponse } from "../gen/eprof/v1/profiler_pb";
import { Phase } from "../gen/eprof/v1/profiler_pb";
import { sumLayers } from "./layers";

export type Verdict = "better" | "worse" | "same" | "";

export interface CompareRow {
  name: string;
  unit: string;
  values: number[];
  /** value / first's, per run (1 for the first; NaN when the first is 0). */
  ratios: number[];
  /** Per run: better, worse or the same as the first; "" when not judged or the first. */
  verdicts: Verdict[];
}

export function compareRows(res: CompareRunsResponse): CompareRow[] {
  return res.metrics.map((m) => ({
    name: m.name,
    unit: m.unit,
    values: [...m.values],
    // Against a first value of 0 there is no ratio (eprofd sends 0): shown as "—", not judged.
    ratios: m.values.map((_, i) => (i === 0 ? 1 : m.values[0] === 0 ? NaN : m.ratioVsFirst[i] ?? NaN)),
    verdicts: m.values.map((_, i): Verdict => {
      if (i === 0 || !m.judged || m.values[0] === 0) return "";
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

/**
 * Series overlaid for 2 to 4 runs on one x axis (uPlot's shape): x is the union of the runs' x
 * values in order, each run's y null where it has no point.
 */
export interface Overlay { x: number[]; ys: (number | null)[][] }

function overlay(points: Map<number, number>[]): Overlay {
  const xs = new Set<number>();
  for (const p of points) for (const k of p.keys()) xs.add(k);
  const x = [...xs].sort((a, b) => a - b);
  return { x, ys: points.map((p) => x.map((k) => p.get(k) ?? null)) };
}

/** Decode tokens' energy (mJ) by token index, per run. */
export function tokenEnergyOverlay(runs: readonly GetRunResponse[]): Overlay {
  return overlay(runs.map((r) => new Map(
    r.tokens.filter((t) => t.phase === Phase.DECODE && t.energy).map((t) => [t.index, t.energy!.totalMj]))));
}

/** Each layer's energy over prefill and decode (mJ) by layer index (-1: outside layers), per run. */
export function layerEnergyOverlay(runs: readonly GetRunResponse[]): Overlay {
  return overlay(runs.map((r) => new Map(
    sumLayers(r.phases.map((p) => p.layers)).filter((l) => l.hasEnergy).map((l) => [l.layer, l.energyMj]))));
}
