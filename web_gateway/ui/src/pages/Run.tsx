// A stored run's page: metadata, summary, phases, warnings, power and per-token energy, the
// layer heatmap with its metric and token slider, the treemap, timeline and energy flow; export
// and delete. Marks itself drawn (data-drawn, performance mark "eprof-run-drawn") once every
// chart it shows has drawn, which the browser benchmark times.
import { useEffect, useRef, useState } from "react";
import type { GetRunResponse } from "../gen/eprof/v1/profiler_pb";
import { create } from "@bufbuild/protobuf";
import { DetailLevel, ExportFormat, Phase, RunPartsSchema } from "../gen/eprof/v1/profiler_pb";
import { errorText, useAsync, useClient } from "../app/client";
import { href, navigate } from "../app/route";
import { Empty, EnergyTags, ErrorLine, Panel } from "../ui/common";
import { LineChart, PowerChart } from "../ui/charts";
import { Heatmap } from "../ui/heatmap";
import { Sankey, Timeline, Treemap } from "../ui/breakdown";
import { PhaseTable, SummaryPanel, TokenText, Warnings } from "../ui/run_panels";
import { RunView } from "../shape/run_view";
import { phaseBands, powerSeries } from "../shape/power";
import { tokenEnergySeries } from "../shape/tokens";
import { availableMetrics, heatmapMatrix, METRIC_LABELS, sumLayers, type HeatMetric } from "../shape/layers";
import { energyFlow, energyTree, pipelineTimeline } from "../shape/breakdown";
import { detailName, outcome } from "../names";
import * as fmt from "../format";

// What the page reads first: everything but each token's layers (the phases carry theirs).
const PAGE_PARTS = create(RunPartsSchema, {
  phases: true, tokens: true, layers: true, components: true, deep: true, powerSamples: true, omitTokenLayers: true,
});
// What the token slider reads when first used.
const TOKEN_LAYER_PARTS = create(RunPartsSchema, { tokens: true, layers: true, components: true, deep: true });

export function RunPage(props: { id: string }) {
  const client = useClient();
  const run = useAsync(async (signal) => {
    const r = await client.getRun({ runId: props.id, parts: PAGE_PARTS }, { signal });
    performance.mark("eprof-run-fetched");
    return r;
  }, [client, props.id]);
  // The data of the run this page is for (moving from one run's page to another's keeps the
  // last one's data until the new one has come).
  if (run.loading && run.data?.summary?.runId !== props.id) {
    return <div className="page"><p className="muted">Loading run {props.id.slice(0, 8)}…</p></div>;
  }
  if (run.error) {
    return (
      <div className="page">
        <ErrorLine error={run.error} what={`run ${props.id}`} />
        <p><a href={href.history()}>Back to the history</a></p>
      </div>
    );
  }
  return <RunBody key={props.id} run={run.data!} />;
}

/**
 * Which charts have drawn. Once every expected one has, the page element gets data-drawn="1" and
 * the performance mark "eprof-run-drawn" is made (set on the element directly: a state change
 * would render the whole page once more). One set per page: RunBody is keyed by the run's id.
 */
function useDrawn(expected: readonly string[]) {
  const drawn = useRef(new Set<string>());
  const page = useRef<HTMLDivElement>(null);
  const mark = (name: string) => () => {
    if (drawn.current.has(name)) return;
    drawn.current.add(name);
    performance.mark(`eprof-run-drawn-${name}`);
    if (expected.every((e) => drawn.current.has(e)) && page.current) {
      page.current.dataset.drawn = "1";
      performance.mark("eprof-run-drawn");
    }
  };
  return { page, mark };
}

function RunBody(props: { run: GetRunResponse }) {
  const { run } = props;
  const s = run.summary!;
  const view = RunView.fromStored(run);
  const t0 = view.t0Ns;
  const series = powerSeries(run.powerSamples, s.channels, t0);
  const bands = phaseBands(run.phases, undefined, t0, t0);
  const tokenSeries = tokenEnergySeries(run.tokens);
  const tree = energyTree(s.model?.name ?? s.request?.model ?? "model", run.phases.filter((p) => p.phase === Phase.PREFILL || p.phase === Phase.DECODE));
  const flow = energyFlow(run.phases);
  const bars = pipelineTimeline(run.phases);
  const hasTokenChart = tokenSeries.x.length > 0;
  const expected = ["heatmap", "timeline", ...(series.x.length ? ["power"] : []), ...(hasTokenChart ? ["tokens"] : []),
                    ...(tree ? ["treemap"] : []), ...(flow ? ["sankey"] : [])];
  const drawn = useDrawn(expected);

  return (
    <div className="page" data-testid="run-page" ref={drawn.page} data-run-id={s.runId}>
      <Panel title={`Run ${s.runId.slice(0, 8)}`} wide testId="run-meta" extra={<RunActions run={run} />}>
        <dl className="figures">
          <div><dt>id</dt><dd><code>{s.runId}</code></dd></div>
          <div><dt>created</dt><dd>{fmt.dateTime(s.createdAtUnixMs)}</dd></div>
          <div><dt>model</dt><dd>{s.model?.name} ({s.model?.family}, {fmt.count(s.model?.numParameters ?? 0)} parameters)</dd></div>
          <div><dt>status</dt><dd>{outcome(s.status, s.stopReason)}</dd></div>
          <div><dt>device · dtype</dt><dd>{s.device} · {s.dtype}</dd></div>
          <div><dt>detail</dt><dd>{detailName(s.detail)}</dd></div>
          <div><dt>power source</dt><dd>{s.powerSource || "none"} <EnergyTags energy={s.totalEnergy} /></dd></div>
          <div><dt>timing</dt><dd>{s.timingMethod}</dd></div>
          <div><dt>tokens</dt><dd>{s.inputTokens} in, {s.outputTokens} out</dd></div>
          <div><dt>sampling</dt><dd>temperature {fmt.number(s.request?.sampling?.temperature ?? 0)}
            {s.request?.sampling?.topK ? `, top-k ${s.request.sampling.topK}` : ""}
            {s.request?.sampling?.topP ? `, top-p ${fmt.number(s.request.sampling.topP)}` : ""}
            {s.request?.sampling?.seed !== undefined ? `, seed ${s.request.sampling.seed}` : ""}</dd></div>
          <div><dt>tags</dt><dd>{s.tags.join(", ") || "—"}</dd></div>
          <div><dt>experiment</dt><dd>{s.experiment || "—"}</dd></div>
        </dl>
        <details><summary>prompt ({fmt.bytes(s.promptBytes || new TextEncoder().encode(s.request?.prompt ?? "").length)})</summary><pre className="prompt">{s.request?.prompt}</pre></details>
      </Panel>
      <Panel title="Summary" wide><SummaryPanel run={run} /></Panel>
      <Panel title="Phases"><PhaseTable phases={run.phases} /></Panel>
      <Panel title="Warnings"><Warnings warnings={s.warnings} /></Panel>
      <Panel title="Power" wide>
        {series.x.length ? <PowerChart series={series} channels={s.channels} bands={bands} onDrawn={drawn.mark("power")} />
          : <Empty>No power samples were stored for this run (no power source, or detail without samples).</Empty>}
      </Panel>
      <Panel title="Energy per decode token" wide>
        {hasTokenChart ? (
          <LineChart x={tokenSeries.x} ys={[tokenSeries.total, tokenSeries.dynamic]} labels={["total (mJ)", "dynamic (mJ)"]}
                     xLabel="token" yLabel="energy (mJ)" unit="mJ" testId="token-energy-chart" onDrawn={drawn.mark("tokens")} />
        ) : <Empty>No per-token figures (detail {detailName(s.detail)}, or no decode tokens).</Empty>}
      </Panel>
      <Panel title="Generated text" wide><TokenText tokens={run.tokens} final={view.finalTokens} /></Panel>
      <LayerPanel run={run} onDrawn={drawn.mark("heatmap")} />
      <Panel title="Energy by layer and component">
        {tree ? <Treemap tree={tree} onDrawn={drawn.mark("treemap")} />
          : <Empty>No per-layer energy (detail below layers, or no power data).</Empty>}
      </Panel>
      <Panel title="Energy flow">
        {flow ? <Sankey flow={flow} onDrawn={drawn.mark("sankey")} />
          : <Empty>No per-component energy (detail below components, or no power data).</Empty>}
      </Panel>
      <Panel title="Pipeline timeline" wide>
        <Timeline bars={bars} phaseIds={run.phases.map((p) => p.phase)} onDrawn={drawn.mark("timeline")} />
      </Panel>
    </div>
  );
}

/**
 * The heatmap of the whole run (the phases' layers, which the page reads first) or of one token.
 * Each token's own layers are read only when first asked for (slider, play, unticking "all"):
 * at detail components they are most of a run's bytes.
 */
function LayerPanel(props: { run: GetRunResponse; onDrawn: () => void }) {
  const { run } = props;
  const client = useClient();
  const perToken = run.summary!.detail >= DetailLevel.LAYERS && run.tokens.length > 0;
  const [full, setFull] = useState<GetRunResponse | null>(
    run.tokens.some((t) => t.layers.length > 0) ? run : null);
  const [loading, setLoading] = useState(false);
  const [loadError, setLoadError] = useState("");
  const [all, setAll] = useState(true);
  const [pos, setPos] = useState(0);
  const [playing, setPlaying] = useState(false);
  const tokens = run.tokens;
  const ensureTokens = () => {
    if (full || loading) return;
    setLoading(true);
    client.getRun({ runId: run.summary!.runId, parts: TOKEN_LAYER_PARTS }).then(
      (r) => { setFull(r); setLoading(false); },
      (e) => { setLoadError(errorText(e)); setLoading(false); setAll(true); setPlaying(false); });
  };
  const tokenLayers = full && !all ? full.tokens[pos]?.layers ?? [] : null;
  const lists = tokenLayers ? [tokenLayers] : run.phases.map((p) => p.layers).filter((l) => l.length);
  const layers = sumLayers(lists);
  const metrics = availableMetrics(layers);
  const [metric, setMetric] = useState<HeatMetric>(metrics.includes("energy") ? "energy" : "time");
  const shown: HeatMetric = metrics.includes(metric) ? metric : "time";
  const matrix = heatmapMatrix(layers, shown);

  useEffect(() => {
    if (!playing || !full) return;
    const t = window.setInterval(() => {
      setPos((p) => {
        if (p + 1 >= tokens.length) { setPlaying(false); return p; }
        return p + 1;
      });
    }, 120);
    return () => clearInterval(t);
  }, [playing, full, tokens.length]);

  const tok = tokens[pos];
  const showing = tokenLayers ? tok?.index : "all";
  return (
    <Panel title="Layers × components" wide extra={
      <div className="controls">
        <label>metric{" "}
          <select data-testid="metric-select" value={shown} onChange={(e) => setMetric(e.target.value as HeatMetric)}>
            {metrics.map((m) => <option key={m} value={m}>{METRIC_LABELS[m]}</option>)}
          </select>
        </label>
        <label><input type="checkbox" data-testid="token-all" checked={all} disabled={!perToken}
                      onChange={(e) => { setAll(e.target.checked); setPlaying(false); if (!e.target.checked) ensureTokens(); }} /> all tokens</label>
        <input type="range" data-testid="token-slider" min={0} max={Math.max(0, tokens.length - 1)} value={pos}
               aria-label="token shown in the heatmap" disabled={!perToken}
               onChange={(e) => { setAll(false); setPos(Number(e.target.value)); ensureTokens(); }} />
        <button type="button" data-testid="play" disabled={!perToken || tokens.length < 2}
                onClick={() => { ensureTokens(); if (!playing && pos + 1 >= tokens.length) setPos(0); setAll(false); setPlaying(!playing); }}>
          {playing ? "Pause" : "Play"}
        </button>
        <span className="muted">
          {loading ? "reading each token's layers…" : all ? "all tokens (prefill and decode)" : tok ? `token ${tok.index} ${JSON.stringify(tok.text)}` : ""}
        </span>
      </div>}>
      <ErrorLine error={loadError} what="each token's layers could not be read" />
      <Heatmap matrix={matrix} token={showing} onDrawn={props.onDrawn}
               caption={!perToken ? "this run's detail level records no per-token layers" : undefined} />
    </Panel>
  );
}

async function download(client: ReturnType<typeof useClient>, runId: string, format: ExportFormat): Promise<void> {
  const parts: Uint8Array[] = [];
  let type = format === ExportFormat.JSON ? "application/json" : "text/csv";
  let name = `eprof-run-${runId}.${format === ExportFormat.JSON ? "json" : "csv"}`;
  for await (const c of client.exportRun({ runId, format })) {
    if (c.contentType) type = c.contentType;
    if (c.filename) name = c.filename;
    parts.push(c.data);
  }
  const url = URL.createObjectURL(new Blob(parts as BlobPart[], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function RunActions(props: { run: GetRunResponse }) {
  const client = useClient();
  const id = props.run.summary!.runId;
  const [busy, setBusy] = useState("");
  const [error, setError] = useState("");
  const [confirming, setConfirming] = useState(false);
  const act = (what: string, f: () => Promise<void>) => {
    setBusy(what);
    setError("");
    f().then(() => setBusy(""), (e) => { setBusy(""); setError(`${what} failed: ${errorText(e)}`); });
  };
  return (
    <div className="controls">
      <button type="button" data-testid="export-json" disabled={!!busy} onClick={() => act("export", () => download(client, id, ExportFormat.JSON))}>Export JSON</button>
      <button type="button" data-testid="export-csv" disabled={!!busy} onClick={() => act("export", () => download(client, id, ExportFormat.CSV))}>Export CSV</button>
      {confirming ? (
        <span role="alertdialog" aria-label="confirm delete" className="confirm">
          Delete this run and all its figures? This cannot be undone.{" "}
          <button type="button" className="danger" data-testid="delete-confirm" autoFocus
                  onClick={() => act("delete", async () => { await client.deleteRun({ runId: id }); navigate(href.history()); })}>Delete</button>
          <button type="button" data-testid="delete-cancel" onClick={() => setConfirming(false)}>Keep it</button>
        </span>
      ) : <button type="button" className="danger" data-testid="delete" disabled={!!busy} onClick={() => setConfirming(true)}>Delete…</button>}
      {busy ? <span className="muted">{busy}…</span> : null}
      <ErrorLine error={error} />
    </div>
  );
}
