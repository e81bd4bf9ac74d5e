// The treemap's tree and layout, and the pipeline timeline, with exact values.
import { clone, create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  Attribution, Component, ComponentMetricsSchema, EnergySchema, LayerMetricsSchema, Phase, PhaseRecordSchema,
} from "../src/gen/eprof/v1/profiler_pb";
import { energyFlow, energyTree, layoutTreemap, pipelineTimeline } from "../src/shape/breakdown";

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
    expect([first.value, second.value]).toEqual([80, 40]);
    expect(first.children!.map((c) => [c.data.name, c.value])).toEqual([["down_proj", 55], ["q_proj", 25]]);
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
  it("the energy flow: run → phase → part of the layers", () => {
    const withNorm = [phases[0], clone(PhaseRecordSchema, phases[1]), phase(Phase.POST_INFERENCE, 400, 410, 1)];
    withNorm[1].layers[0].components.push(create(ComponentMetricsSchema, { component: Component.INPUT_NORM, durationNs: 1n, energy: energy(2) }));
    expect(energyFlow(withNorm)).toEqual({
      nodes: [{ name: "prefill + decode" }, { name: "prefill" }, { name: "attention" }, { name: "MLP" }, { name: "outside layers" },
              { name: "decode" }, { name: "norms" }],
      links: [
        { source: 1, target: 2, value: 5 }, { source: 1, target: 3, value: 15 }, { source: 1, target: 4, value: 10 },
        { source: 0, target: 1, value: 30 },
        { source: 5, target: 2, value: 20 }, { source: 5, target: 3, value: 40 }, { source: 5, target: 6, value: 2 },
        { source: 5, target: 4, value: 30 }, { source: 0, target: 5, value: 92 },
      ],
    });
    expect(energyFlow([phase(Phase.PREFILL, 0, 1, 3, [layer(0, 3, [])])])).toBeNull();
  });
});
