// The data shaping the panels draw from, with exact expected values.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Quality, ChannelSchema, PowerSampleSchema, ReadingSchema } from "../src/gen/eprof/v1/power_pb";
import {
  Attribution, Component, CompareRunsResponseSchema, ComponentMetricsSchema, EnergySchema,
  GetRunResponseSchema, LayerMetricsSchema, Phase, PhaseRecordSchema, ProfileEventSchema,
  RunStatus, RunSummarySchema, TokenRecordSchema, AttentionHeadStatsSchema, ActivationStatsSchema,
} from "../src/gen/eprof/v1/profiler_pb";
import * as fmt from "../src/format";
import { viridisScale } from "../src/shape/colour";
import { compareRows, layerEnergyOverlay, phaseGroups, tokenEnergyOverlay } from "../src/shape/compare";
import { availableMetrics, heatmapMatrix, sumLayers, LayerSums } from "../src/shape/layers";
import { followWindow, phaseBands, powerSeries } from "../src/shape/power";
import { RunView } from "../src/shape/run_view";
import { tokenEnergySeries, tokenFigures, tokenScale } from "../src/shape/tokens";
import { outcome, qualityLabel } from "../src/names";

const energy = (totalMj: number, dynamicMj: number) =>
  create(EnergySchema, { totalMj, dynamicMj, attribution: Attribution.TIME_SHARE });
const comp = (component: Component, ms: number, mj?: number) =>
  create(ComponentMetricsSchema, {
    component, durationNs: BigInt(ms * 1e6), energy: mj === undefined ? undefined : energy(mj, mj / 2),
  });
const layer = (l: number, ms: number, mj: number | undefined, comps: ReturnType<typeof comp>[]) =>
  create(LayerMetricsSchema, {
    layer: l, durationNs: BigInt(ms * 1e6), energy: mj === undefined ? undefined : energy(mj, mj / 2), components: comps,
  });

describe("format", () => {
  it("prints energies, powers and durations exactly as eprofctl does", () => {
    expect(fmt.energy(0)).toBe("0 mJ");
    expect(fmt.energy(12.34)).toBe("12.3 mJ");
    expect(fmt.energy(1234)).toBe("1.23 J");
    expect(fmt.energy(0.5)).toBe("0.500 mJ");
    expect(fmt.energy(2.5e6)).toBe("2.50 kJ");
    expect(fmt.power(850)).toBe("850 mW");
    expect(fmt.power(12400)).toBe("12.4 W");
    expect(fmt.duration(850_000n)).toBe("850 µs");
    expect(fmt.duration(12_400_000)).toBe("12.4 ms");
    expect(fmt.duration(3.25e9)).toBe("3.25 s");
    expect(fmt.duration(125e9)).toBe("2m 05s");
    expect(fmt.number(0.087)).toBe("0.087");
    expect(fmt.number(41.26)).toBe("41.3");
    expect(fmt.percent(1.125)).toBe("+13%");   // eprofctl's Number(pct, 2)
    expect(fmt.percent(0.97)).toBe("−3.0%");
    expect(fmt.percent(1.0042)).toBe("+0.42%");
    expect(fmt.bytes(1536)).toBe("1.50 KiB");
    expect(fmt.preview("a  b\n c", 60)).toBe("a b c");
    // Cut to n characters, the last one the truncation mark.
    expect(fmt.preview("x".repeat(70), 10)).toBe(`${"x".repeat(9)}…`);
  });
  it("says an estimate in words", () => {
    expect(qualityLabel(Quality.ESTIMATED)).toBe("estimate");
    expect(qualityLabel(Quality.MEASURED)).toBe("measured");
    expect(qualityLabel(Quality.UNSPECIFIED)).toBe("estimate");  // unset is treated as an estimate
    expect(outcome(RunStatus.COMPLETED, "max_new_tokens")).toBe("completed (max new tokens)");
    expect(outcome(RunStatus.CANCELLED, "cancelled")).toBe("cancelled");
    expect(outcome(RunStatus.FAILED, "")).toBe("failed");
  });
});

describe("layers", () => {
  const tok0 = [layer(0, 2, 10, [comp(Component.Q_PROJ, 1, 4), comp(Component.DOWN_PROJ, 1, 6)]),
                layer(-1, 1, 3, [comp(Component.LM_HEAD, 1, 3)])];
  const tok1 = [layer(0, 4, 20, [comp(Component.Q_PROJ, 3, 12), comp(Component.DOWN_PROJ, 1, 8)]),
                layer(-1, 2, 5, [comp(Component.LM_HEAD, 2, 5)])];
  it("sums by layer and component, outside layers last", () => {
    const agg = sumLayers([tok1, tok0]);
    expect(new LayerSums().add(tok1).add(tok0).result()).toEqual(agg);
    expect(agg.map((l) => l.layer)).toEqual([0, -1]);
    expect(agg[0].durationNs).toBe(6e6);
    expect(agg[0].energyMj).toBe(30);
    expect(agg[0].components.get(Component.Q_PROJ)!.energyMj).toBe(16);
    const m = heatmapMatrix(agg, "energy");
    expect(m.rows).toEqual(["layer 0", "outside layers"]);
    expect(m.cols).toEqual(["q_proj", "down_proj", "lm_head"]);
    expect(m.values).toEqual([[16, 14, null], [null, null, 8]]);
    expect(heatmapMatrix(agg, "time").values).toEqual([[4, 2, null], [null, null, 3]]);
    expect(heatmapMatrix(agg, "dynamic").values[0]).toEqual([8, 7, null]);
  });
  it("a provisional token (no energy) has time but no energy cells", () => {
    const provisional = [layer(0, 2, undefined, [comp(Component.Q_PROJ, 2)])];
    const agg = sumLayers([tok0, provisional]);
    const m = heatmapMatrix(agg, "energy");
    expect(m.values[0][0]).toBeNull();
    expect(heatmapMatrix(agg, "time").values[0][0]).toBe(3);
  });
  it("detail layers gives one column; deep gives heads and activations", () => {
    expect(heatmapMatrix(sumLayers([[layer(0, 1, 2, []), layer(1, 3, 4, [])]]), "energy"))
      .toEqual({ metric: "energy", rows: ["layer 0", "layer 1"], cols: ["layer"], values: [[2], [4]] });
    const deep = create(LayerMetricsSchema, {
      layer: 0, durationNs: 1n,
      components: [create(ComponentMetricsSchema, {
        component: Component.ATTENTION, durationNs: 1n,
        activations: create(ActivationStatsSchema, { meanAbs: 0.5, std: 1, maxAbs: 3, nearZeroFraction: 0.25 }),
      })],
      attentionHeads: [create(AttentionHeadStatsSchema, { head: 1, entropyNats: 2.5, maxWeight: 0.75, sparseFraction: 0.125 }),
                       create(AttentionHeadStatsSchema, { head: 0, entropyNats: 1.5, maxWeight: 0.5, sparseFraction: 0 })],
    });
    const agg = sumLayers([[deep]]);
    expect(availableMetrics(agg)).toEqual(["time", "act_mean_abs", "act_std", "act_max_abs", "act_near_zero",
                                           "head_entropy", "head_max_weight", "head_sparsity"]);
    expect(heatmapMatrix(agg, "head_entropy")).toEqual({ metric: "head_entropy", rows: ["layer 0"], cols: ["head 0", "head 1"], values: [[1.5, 2.5]] });
    expect(heatmapMatrix(agg, "act_near_zero").values).toEqual([[0.25]]);
    // Added one list at a time (the live view): statistics go once a second list is added.
    const sums = new LayerSums().add([deep]);
    expect(availableMetrics(sums.result())).toContain("head_entropy");
    sums.add([deep]);
    expect(availableMetrics(sums.result())).toEqual(["time"]);
    expect(heatmapMatrix(sums.result(), "time").values).toEqual([[2e-6]]);
  });
});

describe("colour", () => {
  it("viridis from the domain's ends", () => {
    const s = viridisScale([2, 4, NaN, 6]);
    expect([s.min, s.max]).toEqual([2, 6]);
    expect(s.position(4)).toBe(0.5);
    expect(s.colour(2)).toBe("#440154");
    expect(s.colour(6)).toBe("#fde725");
    expect(viridisScale([]).position(3)).toBe(0);
  });
});

describe("run view and power", () => {
  const ev = (seq: number, tNs: number, event: object) => create(ProfileEventSchema, { seq: BigInt(seq), runId: "r1", tNs: BigInt(tNs), event } as never);
  it("builds the run from its events and skips a replayed seq", () => {
    const v = new RunView();
    const channel = create(ChannelSchema, { name: "cpu", quality: Quality.ESTIMATED });
    v.apply(ev(0, 0, { case: "runStarted", value: { channels: [channel] } }));
    v.apply(ev(1, 1e9, { case: "phaseStarted", value: { phase: Phase.PREFILL, startNs: 1_000_000_000n } }));
    const sample = create(PowerSampleSchema, {
      tEndNs: 1_500_000_000n, windowNs: 500_000_000n,
      readings: [create(ReadingSchema, { channel: "cpu", powerMw: 2500, energyMj: 1250, quality: Quality.ESTIMATED })],
    });
    v.apply(ev(2, 1.5e9, { case: "powerSample", value: sample }));
    expect(v.apply(ev(2, 1.5e9, { case: "powerSample", value: sample }))).toBe(false);
    v.apply(ev(3, 2e9, { case: "phaseEnded", value: { phase: create(PhaseRecordSchema, { phase: Phase.PREFILL, startNs: 1_000_000_000n, endNs: 2_000_000_000n }) } }));
    v.apply(ev(4, 2e9, { case: "phaseStarted", value: { phase: Phase.DECODE, startNs: 2_000_000_000n } }));
    v.apply(ev(5, 2.2e9, { case: "token", value: { token: create(TokenRecordSchema, { index: 0, text: "Hi" }), energyFinal: false } }));
    expect(v.samples.length).toBe(1);
    expect(v.tokenCount).toBe(1);
    expect(v.finalTokens[0]).toBe(false);
    expect(v.currentPhase).toBe(Phase.DECODE);
    expect(v.t0Ns).toBe(1e9);
    const p = powerSeries(v.samples, v.channels, v.t0Ns);
    expect(p).toEqual({ channels: ["cpu"], x: [0.5], y: [[2.5]] });
    expect(phaseBands(v.phases, v.openPhase, v.t0Ns, v.nowNs)).toEqual([
      { phase: Phase.PREFILL, from: 0, to: 1, open: false },
      { phase: Phase.DECODE, from: 1, to: 1.2, open: true },
    ]);
    v.apply(ev(6, 3e9, { case: "summary", value: create(RunSummarySchema, { runId: "r1" }) }));
    expect(v.done).toBe(true);
    expect(v.currentPhase).toBeUndefined();
  });
  it("a sample without a channel leaves a gap; the window follows the run", () => {
    const s = (t: number, r: [string, number][]) => create(PowerSampleSchema, {
      tEndNs: BigInt(t), windowNs: 0n, readings: r.map(([channel, powerMw]) => create(ReadingSchema, { channel, powerMw })),
    });
    const p = powerSeries([s(1e9, [["a", 1000], ["b", 500]]), s(2e9, [["b", 250]])], [], 0);
    expect(p).toEqual({ channels: ["a", "b"], x: [1, 2], y: [[1, null], [0.5, 0.25]] });
    expect(followWindow([0, 10, 50], 50, 30)).toEqual([20, 50]);
    expect(followWindow([0, 5], 5, 30)).toEqual([0, 5]);
  });
  it("a stored run replaces the provisional tokens", () => {
    const v = new RunView();
    v.apply(ev(0, 0, { case: "token", value: { token: create(TokenRecordSchema, { index: 0 }), energyFinal: false } }));
    v.applyStored(create(GetRunResponseSchema, { summary: { runId: "r1" }, tokens: [create(TokenRecordSchema, { index: 0, energy: energy(5, 1) })] }));
    expect(v.finalTokens).toEqual([true]);
    expect(v.tokens[0].energy!.totalMj).toBe(5);
  });
});

describe("tokens", () => {
  const t = (index: number, phase: Phase, mj: number, ns: number) =>
    create(TokenRecordSchema, { index, phase, startNs: 0n, endNs: BigInt(ns), energy: energy(mj, mj / 4), text: `t${index}` });
  it("figures, the decode-only scale and the energy series", () => {
    const toks = [t(0, Phase.PREFILL, 100, 1e6), t(1, Phase.DECODE, 2, 1e6), t(2, Phase.DECODE, 4, 2e6)];
    expect(tokenFigures(toks[2])).toEqual({ index: 2, text: "t2", phase: Phase.DECODE, durationNs: 2e6,
      probability: 0, energyMj: 4, dynamicMj: 1, powerMw: 2000 });
    const s = tokenScale(toks);
    expect([s.min, s.max]).toEqual([2, 4]);
    expect(tokenEnergySeries(toks)).toEqual({ x: [1, 2], total: [2, 4], dynamic: [0.5, 1] });
  });
});

describe("compare", () => {
  it("judges only where better has a meaning", () => {
    const res = create(CompareRunsResponseSchema, {
      metrics: [
        { name: "J/token", unit: "J", values: [2, 1, 2], deltaVsFirst: [0, -1, 0], ratioVsFirst: [1, 0.5, 1], lowerIsBetter: true, judged: true },
        { name: "tokens/s", unit: "1/s", values: [10, 20], deltaVsFirst: [0, 10], ratioVsFirst: [1, 2], lowerIsBetter: false, judged: true },
        { name: "output tokens", unit: "", values: [5, 9], deltaVsFirst: [0, 4], ratioVsFirst: [1, 1.8], judged: false },
        { name: "total energy", unit: "mJ", values: [0, 5], deltaVsFirst: [0, 5], ratioVsFirst: [1, 0], lowerIsBetter: true, judged: true },
      ],
      phases: [{ phase: Phase.PREFILL, energy: [energy(3, 1), energy(4, 2)] }],
    });
    const rows = compareRows(res);
    expect(rows.map((r) => r.verdicts)).toEqual([["", "better", "same"], ["", "better"], ["", ""], ["", ""]]);
    expect(rows[0].ratios).toEqual([1, 0.5, 1]);
    // No ratio against a first run without the figure (eprofd's 0 would read as −100%).
    expect(rows[3].ratios).toEqual([1, NaN]);
    expect(fmt.percent(rows[3].ratios[1])).toBe("—");
    expect(phaseGroups(res)).toEqual([{ phase: Phase.PREFILL, mj: [3, 4] }]);
  });
  it("overlays per-token and per-layer energy of runs of different lengths", () => {
    const tok = (index: number, mj: number) => create(TokenRecordSchema, { index, phase: index ? Phase.DECODE : Phase.PREFILL, energy: energy(mj, 0) });
    const a = create(GetRunResponseSchema, {
      tokens: [tok(0, 50), tok(1, 2), tok(2, 3)],
      phases: [create(PhaseRecordSchema, { phase: Phase.DECODE, layers: [layer(0, 1, 4, []), layer(-1, 1, 1, [])] })],
    });
    const b = create(GetRunResponseSchema, {
      tokens: [tok(0, 40), tok(1, 5), tok(2, 6), tok(3, 7)],
      phases: [create(PhaseRecordSchema, { phase: Phase.PREFILL, layers: [layer(0, 1, 1, []), layer(1, 1, 2, [])] }),
               create(PhaseRecordSchema, { phase: Phase.DECODE, layers: [layer(0, 1, 3, []), layer(1, 1, 4, [])] })],
    });
    expect(tokenEnergyOverlay([a, b])).toEqual({ x: [1, 2, 3], ys: [[2, 3, null], [5, 6, 7]] });
    expect(layerEnergyOverlay([a, b])).toEqual({ x: [-1, 0, 1], ys: [[1, 4, null], [null, 4, 6]] });
  });
});
