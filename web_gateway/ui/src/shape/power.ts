// Power samples → chart series (seconds from the run's start, watts per channel), and the
// phases → bands behind them.
import type { Channel, PowerSample } from "../gen/eprof/v1/power_pb";
import type { PhaseRecord } from "../gen/eprof/v1/profiler_pb";
import { Phase } from "../gen/eprof/v1/profiler_pb";
import type { OpenSpan } from "./run_view";

export interface PowerSeries {
  /** Channels in the order of `y`. */
  channels: string[];
  /** Window ends, seconds since t0. */
  x: number[];
  /** Watts per channel, one array per channel (null where a sample lacks the channel). */
  y: (number | null)[][];
}

export function powerSeries(samples: readonly PowerSample[], channels: readonly Channel[], t0Ns: number): PowerSeries {
  const names = channels.map((c) => c.name);
  for (const s of samples) for (const r of s.readings) if (!names.includes(r.channel)) names.push(r.channel);
  const index = new Map(names.map((n, i) => [n, i]));
  const x: number[] = [];
  const y: (number | null)[][] = names.map(() => []);
  for (const s of samples) {
    x.push((Number(s.tEndNs) - t0Ns) / 1e9);
    const row: (number | null)[] = names.map(() => null);
    for (const r of s.readings) row[index.get(r.channel)!] = r.powerMw / 1e3;
    row.forEach((v, i) => y[i].push(v));
  }
  return { channels: names, x, y };
}

export interface Band { phase: Phase; from: number; to: number; open: boolean }

/** Ended phases, and the open one up to `nowNs`, in seconds since t0. */
export function phaseBands(phases: readonly PhaseRecord[], open: OpenSpan | undefined, t0Ns: number, nowNs: number): Band[] {
  const bands: Band[] = phases.map((p) => ({
    phase: p.phase, from: (Number(p.startNs) - t0Ns) / 1e9, to: (Number(p.endNs) - t0Ns) / 1e9, open: false,
  }));
  if (open) bands.push({ phase: open.phase, from: (open.startNs - t0Ns) / 1e9, to: (nowNs - t0Ns) / 1e9, open: true });
  return bands;
}

/** The x range a live chart shows: the last `windowS` seconds, or everything when shorter. */
export function followWindow(x: readonly number[], nowS: number, windowS: number): [number, number] {
  const first = x.length ? x[0] : 0;
  const hi = Math.max(nowS, x.length ? x[x.length - 1] : 0);
  return [Math.max(first, hi - windowS), Math.max(hi, first + 1e-3)];
}
