// A finished run's figures, the same ones `eprofctl profile` prints (client_cli/summary_view.cc),
// as rows for the summary panel; and the run list's query from the history filters.
import { create } from "@bufbuild/protobuf";
import type { Energy, GetRunResponse, ListRunsRequest, RunSummary } from "../gen/eprof/v1/profiler_pb";
import { Attribution, ListRunsRequestSchema, Phase, RunSort, RunStatus } from "../gen/eprof/v1/profiler_pb";
import { Quality } from "../gen/eprof/v1/power_pb";
import * as fmt from "../format";
import { attributionLabel } from "../names";

export const hasEnergy = (e: Energy | undefined) =>
  !!e && e.attribution !== Attribution.NONE && e.attribution !== Attribution.UNSPECIFIED;

/** "12.3 mJ (dynamic 4.5 mJ)", or "no energy data", as eprofctl prints an energy. */
export function energyPair(e: Energy | undefined): string {
  if (!e || e.attribution === Attribution.NONE) return "no energy data";
  return `${fmt.energy(e.totalMj)} (dynamic ${fmt.energy(e.dynamicMj)})`;
}

export interface PhaseRow { phase: string; time: string; tokens: string; rate: string; energy: string }

export interface SummaryRows {
  /** prefill, decode and the whole run. */
  phases: PhaseRow[];
  /** Label, value: present only when the run has energy figures. */
  figures: [string, string][];
  /** Said in words: the power was estimated, or split by time share. */
  caveats: string[];
}

export function summaryRows(run: GetRunResponse): SummaryRows {
  const s = run.summary as RunSummary;
  const find = (p: Phase) => run.phases.find((x) => x.phase === p);
  const span = (p: Phase) => {
    const r = find(p);
    return r ? fmt.duration(r.endNs - r.startNs) : "-";
  };
  const phases: PhaseRow[] = [
    { phase: "prefill", time: span(Phase.PREFILL), tokens: `${s.inputTokens} in`, rate: fmt.number(s.prefillTokensPerS), energy: energyPair(s.prefillEnergy) },
    { phase: "decode", time: span(Phase.DECODE), tokens: `${s.outputTokens} out`, rate: fmt.number(s.decodeTokensPerS), energy: energyPair(s.decodeEnergy) },
    { phase: "run", time: fmt.duration(s.endNs - s.startNs), tokens: "", rate: "", energy: energyPair(s.totalEnergy) },
  ];
  const figures: [string, string][] = [];
  const caveats: string[] = [];
  if (hasEnergy(s.totalEnergy)) {
    figures.push(
      ["energy per input token", energyPair(s.prefillEnergyPerInputToken)],
      ["energy per output token", energyPair(s.decodeEnergyPerOutputToken)],
      ["J/token", fmt.number(s.joulesPerToken)],
      ["tokens/J", fmt.number(s.tokensPerJoule)],
      ["energy-delay product", `${fmt.number(s.energyDelayProductJS)} J·s`],
      ["idle baseline", fmt.power(s.baselinePowerMw)],
      ["carbon", `${fmt.number(s.carbonGCo2e)} g CO2e at ${fmt.number(s.gridIntensityGPerKwh)} g/kWh`],
    );
    if (s.totalEnergy!.quality === Quality.ESTIMATED) {
      caveats.push(`power source ${s.powerSource}: ESTIMATED power, not a measurement`);
    }
    if (s.totalEnergy!.attribution === Attribution.TIME_SHARE) {
      caveats.push(`energy split among parts by ${attributionLabel(Attribution.TIME_SHARE)}: each part's share of the time, not a measurement of it`);
    }
  }
  return { phases, figures, caveats };
}

export type SortKey = "date" | "energy" | "jpt" | "tps";
export interface RunFilters {
  model: string;
  tag: string;
  experiment: string;
  /** yyyy-mm-dd, inclusive, in the browser's time zone; "" for no bound. */
  from: string;
  to: string;
  status: RunStatus | 0;
  sort: SortKey;
  ascending: boolean;
  pageSize: number;
  pageToken: string;
}

const SORTS: Record<SortKey, RunSort> = {
  date: RunSort.CREATED_AT, energy: RunSort.TOTAL_ENERGY, jpt: RunSort.JOULES_PER_TOKEN, tps: RunSort.DECODE_TOKENS_PER_S,
};

/**
 * The ListRuns request for the history's filters; `to` covers the whole of its day (to the next
 * local midnight, which is 23 or 25 hours later on a day the clocks change).
 */
export function listRunsRequest(f: RunFilters): ListRunsRequest {
  const day = (d: string, plus = 0) => {
    const [y, m, dd] = d.split("-").map(Number);
    return new Date(y, m - 1, dd + plus).getTime();
  };
  return create(ListRunsRequestSchema, {
    model: f.model.trim(),
    tags: f.tag.trim() ? [f.tag.trim()] : [],
    experiment: f.experiment.trim(),
    sinceUnixMs: f.from ? BigInt(day(f.from)) : 0n,
    untilUnixMs: f.to ? BigInt(day(f.to, 1)) : 0n,
    statuses: f.status ? [f.status] : [],
    sort: SORTS[f.sort],
    ascending: f.ascending,
    pageSize: f.pageSize,
    pageToken: f.pageToken,
  });
}
