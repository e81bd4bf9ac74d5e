// The treemap's tree and layout, and the pipeline timeline, with exact values.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  Attribution, Component, ComponentMetricsSchema, EnergySchema, LayerMetricsSchema, Phase, PhaseRecordSchema,
} from "../src/gen/eprof/v1/profiler_pb";
import { energyTree, layoutTreemap, pipelineTimeline } from "../src/shape/breakdown";

const energy = (totalMj: number) => create(EnergySchema, { totalMj, dynamicMj: totalMj / 2, attribution: Attribution.COUNTER });
const phase = (p: Phase, s: number, e: number, mj: number, layers = [] as ReturnType<typeof create<typeof LayerMetricsSchema>>[]) =>
  create(PhaseRecordSchema, { phase: p, startNs: BigInt(s), endNs: BigInt(e), energy: energy(mj), layers });
const layer = (l: number, mj: number, comps: [Component, number][]) => create(LayerMetricsSchema, {
  layer: l, durationNs: 1n, energy: energy(mj),
  components: comps.map(([component, cmj]) => create(ComponentMetricsSchema, { component, durationNs: 1n, energy: energy(cmj) })),
});

describe("breakdown", () => {
  const phases = [
    phase(Phase.PREFILL, 0, 100, 30, [layer(0, 20, [[Component.Q_PROJ, 5], [Component.DOWN_PROJ, 15]]), layer(-1, 10, [[Component.LM_HEAD, 10]])]),
    phase(Phase.DECODE, 100, 400, 90, [layer(0, 60, [[Component.Q_PROJ, 20], [Component.DOWN_PROJ, 40]]), layer(-1, 30, [[Component.LM_HEAD, 30]])]),
  ];
  it("sums prefill and decode into model → layer → component", () => {
    expect(energyTree("tiny", phases)).toEqual({
      name: "tiny",
      children: [
        { name: "layer 0", children: [{ name: "q_proj", mj: 25 }, { name: "down_proj", mj: 55 }] },
        { name: "outside layers", children: [{ name: "lm_head", mj: 40 }] },
      ],
    });
    expect(energyTree("tiny", [phase(Phase.PREFILL, 0, 1, 0)])).toBeNull();
    expect(energyTree("m", [phase(Phase.PREFILL, 0, 1, 3, [layer(0, 3, [])])])).toEqual({ name: "m", children: [{ name: "layer 0", mj: 3 }] });
  });
  it("lays the treemap out by energy, areas in proportion", () => {
    const root = layoutTreemap(energyTree("tiny", phases)!, 120, 100);
    expect(root.value).toBe(120);
    const [first, second] = root.children!;
    expect(first.data.name).toBe("layer 0");
    const area = (n: typeof root) => (n.x1 - n.x0) * (n.y1 - n.y0);
    expect(area(first) / area(second)).toBeCloseTo(2, 0);
  });
  it("the pipeline timeline: positions and energy shares", () => {
    expect(pipelineTimeline(phases)).toEqual([
      { phase: "prefill", start: 0, width: 0.25, durationNs: 100, mj: 30, energyShare: 0.25 },
      { phase: "decode", start: 0.25, width: 0.75, durationNs: 300, mj: 90, energyShare: 0.75 },
    ]);
    expect(pipelineTimeline([])).toEqual([]);
  });
});
