// Layer × component matrices from LayerMetrics: one token's, or summed over tokens or phases.
import type { ActivationStats, AttentionHeadStats, LayerMetrics } from "../gen/eprof/v1/profiler_pb";
import { Component } from "../gen/eprof/v1/profiler_pb";
import { componentName } from "../names";

export interface CellAgg {
  durationNs: number;
  energyMj: number;
  dynamicMj: number;
  /** Every summed part carried energy (a provisional live token carries none). */
  hasEnergy: boolean;
  activations?: ActivationStats;
}
export interface LayerAgg extends CellAgg {
  layer: number;
  components: Map<Component, CellAgg>;
  heads: AttentionHeadStats[];
  output?: ActivationStats;
}

function addCell(into: CellAgg, durationNs: bigint, energy: { totalMj: number; dynamicMj: number } | undefined) {
  into.durationNs += Number(durationNs);
  if (energy) {
    into.energyMj += energy.totalMj;
    into.dynamicMj += energy.dynamicMj;
  } else {
    into.hasEnergy = false;
  }
}
const emptyCell = (): CellAgg => ({ durationNs: 0, energyMj: 0, dynamicMj: 0, hasEnergy: true });

/**
 * Sums layer lists (one per token or phase) by layer and component, one list at a time (the live
 * view adds each token as it comes, instead of summing them all again every frame). Statistics
 * (activations, heads) cannot be summed: they are kept only while a single list has been added.
 */
export class LayerSums {
  private readonly byLayer = new Map<number, LayerAgg>();
  private lists = 0;

  add(list: readonly LayerMetrics[]): this {
    const single = ++this.lists === 1;
    if (this.lists === 2) {
      for (const agg of this.byLayer.values()) {
        agg.heads = [];
        agg.output = undefined;
        for (const cell of agg.components.values()) cell.activations = undefined;
      }
    }
    for (const l of list) {
      let agg = this.byLayer.get(l.layer);
      if (!agg) {
        agg = { layer: l.layer, ...emptyCell(), components: new Map(), heads: [] };
        this.byLayer.set(l.layer, agg);
      }
      addCell(agg, l.durationNs, l.energy);
      for (const c of l.components) {
        let cell = agg.components.get(c.component);
        if (!cell) { cell = emptyCell(); agg.components.set(c.component, cell); }
        addCell(cell, c.durationNs, c.energy);
        if (single && c.activations) cell.activations = c.activations;
      }
      if (single) {
        agg.heads = [...l.attentionHeads];
        agg.output = l.output;
      }
    }
    return this;
  }

  /** Layers in order, the parts outside the layers (-1) last. */
  result(): LayerAgg[] {
    return [...this.byLayer.values()].sort((a, b) => (a.layer < 0 ? 1 : b.layer < 0 ? -1 : a.layer - b.layer));
  }
}

export function sumLayers(lists: readonly (readonly LayerMetrics[])[]): LayerAgg[] {
  const sums = new LayerSums();
  for (const list of lists) sums.add(list);
  return sums.result();
}

export type HeatMetric =
  | "time" | "energy" | "dynamic"
  | "act_mean_abs" | "act_std" | "act_max_abs" | "act_near_zero"
  | "head_entropy" | "head_max_weight" | "head_sparsity";

export const METRIC_LABELS: Record<HeatMetric, string> = {
  time: "time (ms)",
  energy: "energy (mJ)",
  dynamic: "dynamic energy (mJ)",
  act_mean_abs: "activation mean |x|",
  act_std: "activation std",
  act_max_abs: "activation max |x|",
  act_near_zero: "activations near zero (fraction)",
  head_entropy: "attention entropy per head (nats)",
  head_max_weight: "attention max weight per head",
  head_sparsity: "attention sparsity per head (fraction)",
};
export const isHeadMetric = (m: HeatMetric) => m.startsWith("head_");
export const isActivationMetric = (m: HeatMetric) => m.startsWith("act_");

export interface Matrix {
  rows: string[];
  cols: string[];
  /** values[row][col]; null where the layer has no such part or no figure. */
  values: (number | null)[][];
  metric: HeatMetric;
}

export const layerLabel = (layer: number) => (layer < 0 ? "outside layers" : `layer ${layer}`);

function cellValue(cell: CellAgg, metric: HeatMetric): number | null {
  switch (metric) {
    case "time": return cell.durationNs / 1e6;
    case "energy": return cell.hasEnergy ? cell.energyMj : null;
    case "dynamic": return cell.hasEnergy ? cell.dynamicMj : null;
    case "act_mean_abs": return cell.activations?.meanAbs ?? null;
    case "act_std": return cell.activations?.std ?? null;
    case "act_max_abs": return cell.activations?.maxAbs ?? null;
    case "act_near_zero": return cell.activations?.nearZeroFraction ?? null;
    default: return null;
  }
}

/** Rows are layers; columns components (or heads, for the attention metrics). */
export function heatmapMatrix(layers: readonly LayerAgg[], metric: HeatMetric): Matrix {
  if (isHeadMetric(metric)) {
    const heads = new Set<number>();
    for (const l of layers) for (const h of l.heads) heads.add(h.head);
    const cols = [...heads].sort((a, b) => a - b);
    const withHeads = layers.filter((l) => l.heads.length > 0);
    const pick = (h: AttentionHeadStats) =>
      metric === "head_entropy" ? h.entropyNats : metric === "head_max_weight" ? h.maxWeight : h.sparseFraction;
    return {
      metric,
      rows: withHeads.map((l) => layerLabel(l.layer)),
      cols: cols.map((h) => `head ${h}`),
      values: withHeads.map((l) => cols.map((c) => {
        const h = l.heads.find((x) => x.head === c);
        return h ? pick(h) : null;
      })),
    };
  }
  const present = new Set<Component>();
  for (const l of layers) for (const c of l.components.keys()) present.add(c);
  const cols = [...present].sort((a, b) => a - b);
  if (cols.length === 0) {
    // Detail `layers`: one column, the layer as a whole.
    return {
      metric,
      rows: layers.map((l) => layerLabel(l.layer)),
      cols: ["layer"],
      values: layers.map((l) => [cellValue(l, metric)]),
    };
  }
  return {
    metric,
    rows: layers.map((l) => layerLabel(l.layer)),
    cols: cols.map(componentName),
    values: layers.map((l) => cols.map((c) => {
      const cell = l.components.get(c);
      return cell ? cellValue(cell, metric) : null;
    })),
  };
}

export function matrixValues(m: Matrix): number[] {
  const out: number[] = [];
  for (const row of m.values) for (const v of row) if (v !== null) out.push(v);
  return out;
}

/** Which metrics have any figure in these layers (the selector offers only those). */
export function availableMetrics(layers: readonly LayerAgg[]): HeatMetric[] {
  const out: HeatMetric[] = ["time"];
  const anyEnergy = layers.some((l) => l.hasEnergy);
  if (anyEnergy) out.push("energy", "dynamic");
  const anyAct = layers.some((l) => [...l.components.values()].some((c) => c.activations));
  if (anyAct) out.push("act_mean_abs", "act_std", "act_max_abs", "act_near_zero");
  if (layers.some((l) => l.heads.length > 0)) out.push("head_entropy", "head_max_weight", "head_sparsity");
  return out;
}
