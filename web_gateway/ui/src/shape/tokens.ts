// Per-token figures: energy series and the colours of the streamed text.
import type { TokenRecord } from "../gen/eprof/v1/profiler_pb";
import { Phase } from "../gen/eprof/v1/profiler_pb";
import { viridisScale, type Scale } from "./colour";

export interface TokenFigures {
  index: number;
  text: string;
  phase: Phase;
  energyMj: number | null;
  dynamicMj: number | null;
  durationNs: number;
  /** Mean power over the token, mW (energy / duration). */
  powerMw: number | null;
  probability: number;
}

export function tokenFigures(t: TokenRecord): TokenFigures {
  const durationNs = Number(t.endNs - t.startNs);
  const e = t.energy;
  const energyMj = e ? e.totalMj : null;
  return {
    index: t.index, text: t.text, phase: t.phase, durationNs, probability: t.probability,
    energyMj, dynamicMj: e ? e.dynamicMj : null,
    powerMw: energyMj !== null && durationNs > 0 ? (energyMj / durationNs) * 1e9 : null,
  };
}

/**
 * Colours decode tokens by energy on one scale; the prefill token (0) holds the whole prompt's
 * energy and would flatten the scale, so it is left out of the domain and drawn apart.
 */
export function tokenScale(tokens: readonly TokenRecord[]): Scale {
  return viridisScale(tokens.filter((t) => t && t.phase === Phase.DECODE && t.energy).map((t) => t.energy!.totalMj));
}

/** Decode tokens' energy per token: x = token index, y = total and dynamic mJ. */
export function tokenEnergySeries(tokens: readonly TokenRecord[]) {
  const x: number[] = [], total: (number | null)[] = [], dynamic: (number | null)[] = [];
  for (const t of tokens) {
    if (!t || t.phase !== Phase.DECODE) continue;
    x.push(t.index);
    total.push(t.energy ? t.energy.totalMj : null);
    dynamic.push(t.energy ? t.energy.dynamicMj : null);
  }
  return { x, total, dynamic };
}
