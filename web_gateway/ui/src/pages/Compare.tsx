// Compare 2 to 4 runs: CompareRuns' metrics side by side with the change against the first
// (better or worse only where the metric has a better direction), phase energies as grouped bars,
// per-token and per-layer energy overlaid.
import { useState } from "react";
import { RunParts } from "../gen/eprof/v1/profiler_pb";
import { create } from "@bufbuild/protobuf";
import { RunPartsSchema } from "../gen/eprof/v1/profiler_pb";
import { useAsync, useClient } from "../app/client";
import { href, navigate } from "../app/route";
import { Empty, EnergyTags, ErrorLine, Panel } from "../ui/common";
import { LineChart } from "../ui/charts";
import { GroupedBars } from "../ui/breakdown";
import { compareRows, layerEnergyOverlay, phaseGroups, tokenEnergyOverlay } from "../shape/compare";
import { layerLabel } from "../shape/layers";
import { statusName } from "../names";
import * as fmt from "../format";

// Phases with their layers (the per-layer overlay) and tokens without theirs (the per-token one).
const PARTS: RunParts = create(RunPartsSchema, { phases: true, tokens: true, layers: true, omitTokenLayers: true });

export function ComparePage(props: { ids: string[] }) {
  const client = useClient();
  const [input, setInput] = useState(props.ids.join(", "));
  const ids = props.ids;
  const ok = ids.length >= 2 && ids.length <= 4;
  const cmp = useAsync(async (signal) => {
    if (!ok) return null;
    const [res, ...runs] = await Promise.all([
      client.compareRuns({ runIds: ids }, { signal }),
      ...ids.map((runId) => client.getRun({ runId, parts: PARTS }, { signal })),
    ]);
    return { res, runs };
  }, [client, ids.join(",")]);

  const form = (
    <form className="actions" onSubmit={(e) => { e.preventDefault(); navigate(href.compare(input.split(/[\s,]+/).filter(Boolean))); }}>
      <label className="field wide"><span>run ids (2 to 4, comma separated; the first is the reference)</span>
        <input data-testid="compare-ids" value={input} onChange={(e) => setInput(e.target.value)} /></label>
      <button type="submit">Compare</button>
    </form>
  );
  if (!ok) {
    return (
      <div className="page" data-testid="compare-page">
        <Panel title="Compare runs" wide>
          {form}
          <Empty>Pick 2 to 4 runs in the <a href={href.history()}>history</a> (tick them, then "Compare"), or enter their ids.</Empty>
        </Panel>
      </div>
    );
  }
  const data = cmp.data;
  const labels = data ? data.res.runs.map((r, i) => `${i + 1}: ${r.model?.name ?? ""} ${r.runId.slice(0, 8)}`) : [];
  const tokenOverlay = data ? tokenEnergyOverlay(data.runs) : undefined;
  const layerOverlay = data ? layerEnergyOverlay(data.runs) : undefined;
  return (
    <div className="page" data-testid="compare-page">
      <Panel title="Compare runs" wide>{form}<ErrorLine error={cmp.error} what="the runs could not be compared" /></Panel>
      {data ? (
        <>
          <Panel title="Metrics" wide>
            <div className="table-scroll">
              <table className="compact" data-testid="compare-table">
                <thead>
                  <tr><th>metric</th>{data.res.runs.map((r, i) => (
                    <th key={r.runId}><a href={href.run(r.runId)}>{labels[i]}</a><br />
                      <span className="muted">{statusName(r.status)} · {fmt.dateTime(r.createdAtUnixMs)}</span> <EnergyTags energy={r.totalEnergy} /></th>
                  ))}</tr>
                </thead>
                <tbody>
                  {compareRows(data.res).map((row) => (
                    <tr key={row.name}>
                      <td>{row.name.replace(/_/g, " ")} <span className="muted">({row.unit})</span></td>
                      {row.values.map((v, i) => (
                        <td key={i} className={row.verdicts[i]}>
                          {fmt.number(v)}
                          {i > 0 ? <span className="muted"> {fmt.percent(row.ratios[i])}</span> : null}
                          {row.verdicts[i] && row.verdicts[i] !== "same" ? <span className={`verdict ${row.verdicts[i]}`}> {row.verdicts[i]}</span> : null}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p className="muted">Changes are against run 1. "better" and "worse" only where the metric has a direction (energy: lower; speed: higher).</p>
          </Panel>
          <Panel title="Energy per phase" wide>
            {data.res.phases.length ? <GroupedBars groups={phaseGroups(data.res)} runs={labels} /> : <Empty>No phase energies.</Empty>}
          </Panel>
          <Panel title="Energy per decode token" wide>
            {tokenOverlay && tokenOverlay.x.length ? (
              <LineChart x={tokenOverlay.x} ys={tokenOverlay.ys} labels={labels} xLabel="token" yLabel="energy (mJ)" unit="mJ" testId="token-overlay" />
            ) : <Empty>No per-token energy in these runs.</Empty>}
          </Panel>
          <Panel title="Energy per layer" wide>
            {layerOverlay && layerOverlay.x.length ? (
              <>
                <LineChart x={layerOverlay.x} ys={layerOverlay.ys} labels={labels} xLabel="layer (−1: outside the layers)" yLabel="energy (mJ)"
                           unit="mJ" points testId="layer-overlay" />
                <p className="muted">{layerOverlay.x.map(layerLabel).join(" · ")}</p>
              </>
            ) : <Empty>No per-layer energy (detail below layers, or no power data).</Empty>}
          </Panel>
        </>
      ) : cmp.loading ? <p className="muted">Comparing…</p> : null}
    </div>
  );
}
