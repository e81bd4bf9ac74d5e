// Colour scales. Heatmaps and token energies use viridis (perceptually uniform, readable with
// the common colour-vision deficiencies); channels get a fixed categorical palette (Okabe–Ito).
import { interpolateViridis } from "d3-scale-chromatic";

export interface Scale {
  min: number;
  max: number;
  /** A value's position in [0, 1] (0 when the domain is empty or a single value). */
  position(v: number): number;
  colour(v: number): string;
}

export function viridisScale(values: Iterable<number>): Scale {
  let min = Infinity, max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) { min = 0; max = 0; }
  const span = max - min;
  const position = (v: number) => (span > 0 ? Math.min(1, Math.max(0, (v - min) / span)) : 0);
  return { min, max, position, colour: (v: number) => interpolateViridis(position(v)) };
}

/** Text that stays readable on a viridis cell: dark on the bright (yellow) end. */
export function textOn(position: number): string {
  return position > 0.6 ? "#111" : "#fff";
}

// Okabe–Ito, distinguishable with every common colour-vision deficiency.
export const CHANNEL_COLOURS = [
  "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];
export const channelColour = (i: number): string => CHANNEL_COLOURS[i % CHANNEL_COLOURS.length];

// Phases' band colours (light, behind the lines) and names in the same order as Phase.
export const PHASE_COLOURS: Record<number, string> = {
  1: "rgba(120,120,120,0.16)", // model_load
  2: "rgba(86,180,233,0.16)",  // idle_baseline
  3: "rgba(240,228,66,0.20)",  // pre_inference
  4: "rgba(230,159,0,0.20)",   // prefill
  5: "rgba(0,158,115,0.16)",   // decode
  6: "rgba(204,121,167,0.18)", // post_inference
  7: "rgba(0,114,178,0.14)",   // warmup
};
