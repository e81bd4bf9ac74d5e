// The summary's figures as eprofctl prints them, and the history's query.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Quality } from "../src/gen/eprof/v1/power_pb";
import {
  Attribution, EnergySchema, GetRunResponseSchema, Phase, PhaseRecordSchema, RunSort, RunStatus, RunSummarySchema,
} from "../src/gen/eprof/v1/profiler_pb";
import { energyPair, listRunsRequest, summaryRows } from "../src/shape/summary";

const e = (totalMj: number, dynamicMj: number, quality = Quality.MEASURED, attribution = Attribution.COUNTER) =>
  create(EnergySchema, { totalMj, dynamicMj, quality, attribution });

describe("summary", () => {
  it("energy pairs as eprofctl prints them", () => {
    expect(energyPair(e(1234, 56))).toBe("1.23 J (dynamic 56.0 mJ)");
    expect(energyPair(create(EnergySchema, { attribution: Attribution.NONE }))).toBe("no energy data");
  });
  it("rows of a run with estimated, time-shared energy", () => {
    const run = create(GetRunResponseSchema, {
      summary: create(RunSummarySchema, {
        inputTokens: 7, outputTokens: 16, prefillTokensPerS: 350, decodeTokensPerS: 41.26,
        startNs: 0n, endNs: 2_500_000_000n, powerSource: "estimate",
        prefillEnergy: e(20, 5, Quality.ESTIMATED, Attribution.TIME_SHARE),
        decodeEnergy: e(400, 100, Quality.ESTIMATED, Attribution.TIME_SHARE),
        totalEnergy: e(2000, 600, Quality.ESTIMATED, Attribution.TIME_SHARE),
        prefillEnergyPerInputToken: e(2.857, 0.714), decodeEnergyPerOutputToken: e(25, 6.25),
        joulesPerToken: 0.087, tokensPerJoule: 11.5, energyDelayProductJS: 5, baselinePowerMw: 5000,
        carbonGCo2e: 0.000222, gridIntensityGPerKwh: 400,
      }),
      phases: [create(PhaseRecordSchema, { phase: Phase.PREFILL, startNs: 0n, endNs: 20_000_000n }),
               create(PhaseRecordSchema, { phase: Phase.DECODE, startNs: 20_000_000n, endNs: 408_000_000n })],
    });
    const r = summaryRows(run);
    expect(r.phases).toEqual([
      { phase: "prefill", time: "20.0 ms", tokens: "7 in", rate: "350", energy: "20.0 mJ (dynamic 5.00 mJ)" },
      { phase: "decode", time: "388 ms", tokens: "16 out", rate: "41.3", energy: "400 mJ (dynamic 100 mJ)" },
      { phase: "run", time: "2.50 s", tokens: "", rate: "", energy: "2.00 J (dynamic 600 mJ)" },
    ]);
    expect(r.figures).toEqual([
      ["energy per input token", "2.86 mJ (dynamic 0.714 mJ)"],
      ["energy per output token", "25.0 mJ (dynamic 6.25 mJ)"],
      ["J/token", "0.087"],
      ["tokens/J", "11.5"],
      ["energy-delay product", "5.00 J·s"],
      ["idle baseline", "5.00 W"],
      ["carbon", "0.000 g CO2e at 400 g/kWh"],
    ]);
    expect(r.caveats.length).toBe(2);
    expect(r.caveats[0]).toContain("ESTIMATED");
  });
  it("a run without energy has no figures", () => {
    const run = create(GetRunResponseSchema, { summary: create(RunSummarySchema, { totalEnergy: { attribution: Attribution.NONE } }) });
    expect(summaryRows(run).figures).toEqual([]);
    expect(summaryRows(run).phases[0].time).toBe("-");
  });
});

describe("history query", () => {
  it("filters become the ListRuns request; `to` includes its whole day", () => {
    const req = listRunsRequest({ model: " tiny ", tag: "a", experiment: "", from: "2026-12-01", to: "2026-12-02",
      status: RunStatus.COMPLETED, sort: "jpt", ascending: true, pageSize: 25, pageToken: "p2" });
    expect(req.model).toBe("tiny");
    expect(req.tags).toEqual(["a"]);
    expect(req.statuses).toEqual([RunStatus.COMPLETED]);
    expect(req.sort).toBe(RunSort.JOULES_PER_TOKEN);
    expect(req.sinceUnixMs).toBe(BigInt(new Date(2026, 11, 1).getTime()));
    expect(req.untilUnixMs).toBe(BigInt(new Date(2026, 11, 3).getTime()));
    const none = listRunsRequest({ model: "", tag: "", experiment: "", from: "", to: "", status: 0, sort: "date",
      ascending: false, pageSize: 50, pageToken: "" });
    expect([none.sinceUnixMs, none.untilUnixMs, none.tags, none.statuses]).toEqual([0n, 0n, [], []]);
  });
  it("a day the clocks change is covered to its next midnight", () => {
    const f = { model: "", tag: "", experiment: "", from: "", to: "2026-03-29", status: 0 as const, sort: "date" as const,
      ascending: false, pageSize: 50, pageToken: "" };
    const until = new Date(Number(listRunsRequest(f).untilUnixMs));
    expect([until.getFullYear(), until.getMonth(), until.getDate(), until.getHours(), until.getMinutes()]).toEqual([2026, 2, 30, 0, 0]);
  });
});
