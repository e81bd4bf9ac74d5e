// Live: pick a model, set the run up, start and cancel it, and watch it: loading, phase, power,
// the text coloured by energy, the layer heatmap, the summary. A run started elsewhere (eprofctl,
// another tab) is attached to through Watch as soon as GetStatus shows it.
import { useCallback, useEffect, useRef, useState } from "react";
import type { ModelInfo } from "../gen/eprof/v1/profiler_pb";
import { Phase, RunStatus } from "../gen/eprof/v1/profiler_pb";
import { errorText, streamStates, useAsync, useClient, useDaemonStatus } from "../app/client";
import { LiveRun } from "../app/live_run";
import { href } from "../app/route";
import { Empty, ErrorBoundary, ErrorLine, Panel } from "../ui/common";
import { PowerChart } from "../ui/charts";
import { Heatmap } from "../ui/heatmap";
import { PhaseTable, SummaryPanel, TokenText, Warnings } from "../ui/run_panels";
import { followWindow, phaseBands, powerSeries } from "../shape/power";
import { heatmapMatrix, sumLayers } from "../shape/layers";
import { phaseName, statusName } from "../names";
import * as fmt from "../format";
import { DEFAULT_FORM, DETAILS, profileRequest, type Form } from "../shape/request";

function ModelFacts(props: { m?: ModelInfo }) {
  const m = props.m;
  if (!m) return <p className="muted" data-testid="model-facts">No model chosen.</p>;
  return (
    <p data-testid="model-facts" className={m.problem ? "error" : ""}>
      {m.family} · {fmt.count(m.numParameters)} parameters · {m.dtype} · {fmt.bytes(m.sizeBytes)} ·{" "}
      {m.numLayers} layers · context {m.contextLength} · {m.loaded ? "loaded" : "not loaded"}
      {m.hasTokenizer ? "" : " · no tokenizer.json"}
      {m.problem ? ` · cannot run: ${m.problem}` : ""}
    </p>
  );
}

/** A labelled input with its allowed values said under it (a placeholder would be cut off). */
function Field(props: { label: string; testId: string; value: string; set: (v: string) => void; hint?: string; type?: string; list?: string }) {
  const hintId = `${props.testId}-hint`;
  return (
    <label className="field">
      <span>{props.label}</span>
      <input data-testid={props.testId} value={props.value} type={props.type ?? "text"} list={props.list}
             aria-describedby={props.hint ? hintId : undefined} onChange={(e) => props.set(e.target.value)} />
      {props.hint ? <small id={hintId} className="hint">{props.hint}</small> : null}
    </label>
  );
}

export function LivePage() {
  const client = useClient();
  const daemon = useDaemonStatus();
  const models = useAsync((signal) => client.listModels({}, { signal }), [client]);
  const [form, setForm] = useState<Form>(DEFAULT_FORM);
  const set = (k: keyof Form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const [formError, setFormError] = useState("");
  const [run, setRun] = useState<LiveRun | null>(null);
  const [, setFrame] = useState(0);
  const [heatMetric, setHeatMetric] = useState<"energy" | "time">("time");
  const frame = useRef(0);

  // Redraw at most once per animation frame, however many events arrive.
  const changed = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => { frame.current = 0; setFrame((n) => n + 1); });
  }, []);
  useEffect(() => () => { cancelAnimationFrame(frame.current); }, []);

  useEffect(() => {
    const list = models.data?.models ?? [];
    if (!form.model && list.length) {
      const usable = list.find((m) => !m.problem) ?? list[0];
      setForm((f) => ({ ...f, model: usable.name }));
    }
  }, [models.data, form.model]);

  useEffect(() => {
    if (!run) return;
    streamStates.set("live", run.state);
  });
  useEffect(() => () => { run?.close(); streamStates.set("live", undefined); }, [run]);

  // Attach to a run started elsewhere (or left going by an earlier visit of this page).
  const current = daemon.status?.currentRun;
  // Over a run of its own that has ended, the page does not jump to another one (its summary
  // would vanish): it offers to follow it instead.
  const attach = useCallback((runId: string) => {
    const r = new LiveRun(client, changed);
    setRun(r);
    void r.attach(runId);
  }, [client, changed]);
  const other = current?.runId && run && run.runId !== current.runId && !run.active ? current : undefined;
  useEffect(() => {
    if (!current?.runId) return;
    if (run && (run.runId === current.runId || run.active || run.origin === "started")) return;
    attach(current.runId);
  }, [current?.runId, run, attach]);

  const start = () => {
    let req;
    try { req = profileRequest(form); } catch (e) { setFormError((e as Error).message); return; }
    setFormError("");
    run?.close();
    const r = new LiveRun(client, changed);
    setRun(r);
    void r.start(req);
  };
  const [cancelError, setCancelError] = useState("");
  const cancel = () => { run?.cancel().then(() => setCancelError(""), (e) => setCancelError(errorText(e))); };

  const view = run?.view;
  // A run loads its model: the picker's facts ("loaded") are read again when it ends.
  const runDone = !!view?.done;
  const reloadModels = models.reload;
  useEffect(() => { if (runDone) reloadModels(); }, [runDone, reloadModels]);
  const modelList = models.data?.models ?? [];
  const chosen = modelList.find((m) => m.name === form.model);
  const going = !!run && run.active;

  // Latency of the live view: from a token event's arrival to the frame that drew it.
  const measured = useRef(0);
  useEffect(() => {
    if (!run || !run.timing.lastTokenAt || run.timing.lastTokenAt === measured.current) return;
    measured.current = run.timing.lastTokenAt;  // once per token: the first frame that drew it
    const lag = performance.now() - run.timing.lastTokenAt;
    const w = window as unknown as { __eprofLiveLag?: number; __eprofLiveLagMax?: number };
    w.__eprofLiveLag = lag;
    w.__eprofLiveLagMax = Math.max(w.__eprofLiveLagMax ?? 0, lag);
  });

  return (
    <div className="page" data-testid="live-page" data-seen-loading={run?.seenLoading ? "1" : undefined}>
      <Panel title="Run" testId="run-form" wide extra={
        <button type="button" data-testid="models-refresh" onClick={models.reload} disabled={models.loading}>
          {models.loading ? "Refreshing…" : "Refresh models"}
        </button>}>
        <ErrorLine error={models.error} what="models could not be listed" />
        {!models.loading && !models.error && modelList.length === 0 ? (
          <Empty>No models under eprofd's model roots ({daemon.status?.modelRoots.join(", ") || "none configured"}).
            Make one with <code>eprof-llm mkmodel --preset demo --out DIR</code> in a model root, then refresh.</Empty>
        ) : null}
        <div className="form-grid">
          <label className="field">
            <span>model</span>
            <select data-testid="model-select" value={form.model} onChange={(e) => set("model")(e.target.value)}>
              {modelList.map((m) => <option key={m.name} value={m.name}>{m.name}{m.problem ? " (cannot run)" : ""}</option>)}
            </select>
          </label>
          <label className="field">
            <span>detail</span>
            <select data-testid="detail" value={form.detail} onChange={(e) => set("detail")(e.target.value)}>
              {DETAILS.map(([n]) => <option key={n} value={n}>{n}</option>)}
            </select>
          </label>
          <Field label="max new tokens" testId="max-new-tokens" value={form.maxNewTokens} set={set("maxNewTokens")} hint="1 to eprofd's cap" />
          <Field label="temperature" testId="temperature" value={form.temperature} set={set("temperature")} hint="0 = greedy, up to 10" />
          <Field label="top-p" testId="top-p" value={form.topP} set={set("topP")} hint="(0, 1]; empty = off" />
          <Field label="top-k" testId="top-k" value={form.topK} set={set("topK")} hint="tokens; empty = off" />
          <Field label="seed" testId="seed" value={form.seed} set={set("seed")} hint="empty = random (recorded)" />
          <Field label="idle baseline (ms)" testId="idle-baseline-ms" value={form.idleBaselineMs} set={set("idleBaselineMs")} hint="0 to 60000; 0 skips it" />
          <Field label="warm-up runs" testId="warmup-runs" value={form.warmupRuns} set={set("warmupRuns")} hint="0 to 10" />
          <Field label="dtype" testId="dtype" value={form.dtype} set={set("dtype")} hint="empty = the checkpoint's; float32, bfloat16" list="dtypes" />
          <Field label="device" testId="device" value={form.device} set={set("device")} hint={`empty = default; ${daemon.status?.devices.join(", ") ?? "cpu"}`} list="devices" />
          <Field label="tags" testId="tags" value={form.tags} set={set("tags")} hint="comma separated" />
          <Field label="experiment" testId="experiment" value={form.experiment} set={set("experiment")} />
        </div>
        <datalist id="dtypes"><option value="float32" /><option value="bfloat16" /></datalist>
        <datalist id="devices">{daemon.status?.devices.map((d) => <option key={d} value={d} />)}</datalist>
        <label className="field wide">
          <span>prompt</span>
          <textarea data-testid="prompt" rows={3} value={form.prompt} onChange={(e) => set("prompt")(e.target.value)} />
        </label>
        <ModelFacts m={chosen} />
        <div className="actions">
          <button type="button" className="primary" data-testid="start" onClick={start} disabled={going || !chosen || !!chosen.problem}>Start</button>
          <button type="button" data-testid="cancel" onClick={cancel} disabled={!going || !run?.runId}>Cancel</button>
          <ErrorLine error={formError} />
          <ErrorLine error={cancelError} what="cancel failed" />
        </div>
      </Panel>
      {other && run?.origin === "started" ? (
        <p className="note wide-note" data-testid="other-run">
          Another run is going: {other.model}, started elsewhere.{" "}
          <button type="button" onClick={() => attach(other.runId)}>Follow it</button>
        </p>
      ) : null}
      {run && view ? (
        <ErrorBoundary name="the live run" key={run.runId || "new"}>
          <LiveRunPanels run={run} metric={heatMetric} setMetric={setHeatMetric} />
        </ErrorBoundary>
      ) : (
        <Empty>No run yet. Start one above, or run <code>eprofctl profile -m MODEL -p "…"</code>: it shows here as it runs.</Empty>
      )}
    </div>
  );
}

function LiveRunPanels(props: { run: LiveRun; metric: "energy" | "time"; setMetric: (m: "energy" | "time") => void }) {
  const { run } = props;
  const v = run.view;
  const t0 = v.t0Ns;
  const series = powerSeries(v.samples, v.channels, t0);
  const bands = phaseBands(v.phases, v.openPhase, t0, v.nowNs);
  const nowS = (v.nowNs - t0) / 1e9;
  const xRange = v.done ? undefined : followWindow(series.x, nowS, 30);
  const tokens = v.tokens.filter(Boolean);
  // While it runs: the tokens so far, summed as they came (for energy, those whose energy was
  // final when they came). At the end: the stored run's layers summed per phase, every energy
  // final.
  const storedLayers = run.stored?.phases.map((p) => p.layers).filter((l) => l.length) ?? [];
  const matrix = heatmapMatrix(
    storedLayers.length ? sumLayers(storedLayers) : (props.metric === "energy" ? run.energySums : run.timeSums).result(),
    props.metric);
  const summedTokens = props.metric === "energy" ? run.energyTokens : tokens.length;
  const loading = v.loading;
  const maxNew = v.started?.request?.maxNewTokens ?? 0;
  // Before RunStarted the run waits in eprofd's queue (or eprofd has not answered yet).
  const status = v.summary ? statusName(v.summary.status) : run.error ? "failed" : v.started ? "running" : "waiting to start";
  return (
    <>
      <Panel title="Progress" testId="progress" wide>
        <div className="progress-row">
          <span>run <a data-testid="run-id" data-run-id={v.runId} href={v.runId ? href.run(v.runId) : undefined}>{v.runId ? v.runId.slice(0, 8) : "…"}</a></span>
          <span>model <strong>{v.started?.model?.name ?? "…"}</strong></span>
          <span>status <strong data-testid="run-status">{status}</strong></span>
          <span>phase <strong data-testid="phase">{v.currentPhase ? phaseName(v.currentPhase) : v.done ? "done" : "…"}</strong></span>
          <span>section <strong data-testid="section">{v.openSection?.name ?? "—"}</strong></span>
          <span>tokens <strong data-testid="token-count">{tokens.length}</strong>{maxNew ? ` / ${maxNew}` : ""}</span>
          {v.started?.queuePosition ? <span>waited behind {v.started.queuePosition} run(s)</span> : null}
          {v.started?.powerSource ? <span>power source <strong>{v.started.powerSource}</strong></span> : <span>no power source</span>}
        </div>
        {loading && (v.currentPhase === Phase.MODEL_LOAD || !v.phases.some((p) => p.phase === Phase.MODEL_LOAD)) ? (
          <div data-testid="loading" className="loading">
            loading the model: {fmt.bytes(loading.bytesLoaded)} of {fmt.bytes(loading.bytesTotal)}
            {" "}({loading.bytesTotal ? fmt.number((100 * Number(loading.bytesLoaded)) / Number(loading.bytesTotal)) : "0"}%),
            {" "}{loading.tensorsLoaded} of {loading.tensorsTotal} tensors
            <progress max={Number(loading.bytesTotal) || 1} value={Number(loading.bytesLoaded)} />
          </div>
        ) : run.seenLoading ? <div className="muted" data-testid="loading">model loaded</div> : null}
        <ErrorLine error={run.error} />
      </Panel>
      <Panel title="Power" wide>
        <PowerChart series={series} channels={v.channels} bands={bands} xRange={xRange} />
      </Panel>
      <Panel title="Generated text" wide>
        <TokenText tokens={v.tokens} final={v.finalTokens} version={run.timing.lastTokenVersion} />
      </Panel>
      <Panel title="Layers × components" wide extra={
        <label>show{" "}
          <select data-testid="live-metric" value={props.metric} onChange={(e) => props.setMetric(e.target.value as "energy" | "time")}>
            <option value="time">time</option>
            <option value="energy">energy</option>
          </select>
        </label>}>
        <Heatmap matrix={matrix} empty={v.done ? undefined : "No per-layer figures yet (or the run's detail level records none)."}
          caption={storedLayers.length ? "the whole run, as stored" : props.metric === "energy"
          ? `over the ${summedTokens} tokens whose energy was final when they came (every token's final energy comes when the run ends)`
          : `over ${summedTokens} tokens`} />
      </Panel>
      {run.stored?.summary ? (
        <Panel title="Summary" wide>
          <SummaryPanel run={run.stored} />
          {run.stored.summary.status !== RunStatus.RUNNING ? <p><a href={href.run(v.runId)}>Open the run's page</a></p> : null}
        </Panel>
      ) : null}
      {v.phases.length ? <Panel title="Phases"><PhaseTable phases={v.phases} /></Panel> : null}
      <Panel title="Warnings"><Warnings warnings={v.summary?.warnings ?? v.warnings} /></Panel>
    </>
  );
}
