// A stored run's energy broken down: the treemap model → layer → component, and the pipeline
// timeline of phases (width by duration, share of the run's energy).
import { hierarchy, treemap, type HierarchyRectangularNode } from "d3-hierarchy";
import type { PhaseRecord } from "../gen/eprof/v1/profiler_pb";
import { componentGroup, componentName, phaseName } from "../names";
import { layerLabel, sumLayers } from "./layers";

export interface EnergyNode {
  name: string;
  /** mJ; set on leaves only (d3 sums them up). */
  mj?: number;
  children?: EnergyNode[];
}

/**
 * Prefill's and decode's layers summed: the model, its layers (and the parts outside them), each
 * layer's components. A layer without components (detail `layers`) is a leaf. Parts without
 * energy (no power data) are left out; null when nothing has energy.
 */
export function energyTree(model: string, phases: readonly PhaseRecord[]): EnergyNode | null {
  const layers = sumLayers(phases.map((p) => p.layers)).filter((l) => l.hasEnergy && l.energyMj > 0);
  if (layers.length === 0) return null;
  return {
    name: model,
    children: layers.map((l) => {
      const comps = [...l.components.entries()].filter(([, c]) => c.hasEnergy && c.energyMj > 0);
      return comps.length === 0
        ? { name: layerLabel(l.layer), mj: l.energyMj }
        : { name: layerLabel(l.layer), children: comps.map(([c, cell]) => ({ name: componentName(c), mj: cell.energyMj })) };
    }),
  };
}

/** Lays `node` out in a width × height box, largest first. */
export function layoutTreemap(node: EnergyNode, width: number, height: number): HierarchyRectangularNode<EnergyNode> {
  const root = hierarchy(node).sum((d) => d.mj ?? 0).sort((a, b) => (b.value ?? 0) - (a.value ?? 0));
  return treemap<EnergyNode>().size([width, height]).paddingInner(1).paddingTop((d) => (d.depth === 0 ? 0 : 14))(root);
}

export interface TimelineBar {
  phase: string;
  /** Fractions of the run's span, [0, 1]. */
  start: number;
  width: number;
  durationNs: number;
  mj: number;
  /** Share of the phases' summed energy, [0, 1]. */
  energyShare: number;
}

export function pipelineTimeline(phases: readonly PhaseRecord[]): TimelineBar[] {
  if (phases.length === 0) return [];
  const t0 = Math.min(...phases.map((p) => Number(p.startNs)));
  const t1 = Math.max(...phases.map((p) => Number(p.endNs)));
  const span = Math.max(1, t1 - t0);
  const total = phases.reduce((s, p) => s + (p.energy?.totalMj ?? 0), 0);
  return phases.map((p) => {
    const mj = p.energy?.totalMj ?? 0;
    return {
      phase: phaseName(p.phase),
      start: (Number(p.startNs) - t0) / span,
      width: Number(p.endNs - p.startNs) / span,
      durationNs: Number(p.endNs - p.startNs),
      mj,
      energyShare: total > 0 ? mj / total : 0,
    };
  });
}

export interface FlowNode { name: string }
export interface FlowLink { source: number; target: number; value: number }
export interface Flow { nodes: FlowNode[]; links: FlowLink[] }

/**
 * The energy flow d3-sankey draws: prefill + decode → each of them → part of the layers
 * (attention, MLP, norms, outside the layers: embedding, final norm, lm_head, sampling), in mJ.
 * Only parts with energy; null when there are none (below detail `components`).
 */
export function energyFlow(phases: readonly PhaseRecord[]): Flow | null {
  const groups = ["attention", "mlp", "norm", "outside"] as const;
  const labels: Record<(typeof groups)[number], string> = {
    attention: "attention", mlp: "MLP", norm: "norms", outside: "outside layers",
  };
  // The root is what the components used in prefill and decode, not the run's whole energy
  // (which also has the idle baseline, the model load and the time between phases).
  const nodes: FlowNode[] = [{ name: "prefill + decode" }];
  const links: FlowLink[] = [];
  const groupNode = new Map<string, number>();
  for (const p of phases) {
    const sums = new Map<string, number>();
    for (const l of p.layers) {
      for (const c of l.components) {
        if (!c.energy || c.energy.totalMj <= 0) continue;
        const g = componentGroup(c.component);
        sums.set(g, (sums.get(g) ?? 0) + c.energy.totalMj);
      }
    }
    if (sums.size === 0) continue;
    const pi = nodes.push({ name: phaseName(p.phase) }) - 1;
    let total = 0;
    for (const g of groups) {
      const v = sums.get(g);
      if (v === undefined) continue;
      let gi = groupNode.get(g);
      if (gi === undefined) { gi = nodes.push({ name: labels[g] }) - 1; groupNode.set(g, gi); }
      links.push({ source: pi, target: gi, value: v });
      total += v;
    }
    links.push({ source: 0, target: pi, value: total });
  }
  return links.length ? { nodes, links } : null;
}
