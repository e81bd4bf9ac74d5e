// History: the stored runs from ListRuns, sortable, filterable and paginated, with a prompt
// preview; pick 2 to 4 to compare. Filters and sort live in the component (not the URL).
import { useState } from "react";
import { RunStatus } from "../gen/eprof/v1/profiler_pb";
import { useAsync, useClient } from "../app/client";
import { href, navigate } from "../app/route";
import { Empty, EnergyTags, ErrorLine, Panel } from "../ui/common";
import { hasEnergy, listRunsRequest, type RunFilters, type SortKey } from "../shape/summary";
import { statusName } from "../names";
import * as fmt from "../format";

const STATUSES: [string, RunStatus | 0][] = [
  ["", 0], ["completed", RunStatus.COMPLETED], ["cancelled", RunStatus.CANCELLED], ["failed", RunStatus.FAILED],
  ["interrupted", RunStatus.INTERRUPTED], ["running", RunStatus.RUNNING], ["queued", RunStatus.QUEUED],
];
const EMPTY: RunFilters = {
  model: "", tag: "", experiment: "", from: "", to: "", status: 0, sort: "date", ascending: false,
  pageSize: 25, pageToken: "",
};

export function HistoryPage() {
  const client = useClient();
  const [f, setF] = useState<RunFilters>(EMPTY);
  // Page tokens of the pages before this one, for "previous".
  const [back, setBack] = useState<string[]>([]);
  const [selected, setSelected] = useState<string[]>([]);
  const list = useAsync((signal) => client.listRuns(listRunsRequest(f), { signal }), [client, JSON.stringify(f)]);
  const filter = (k: keyof RunFilters) => (v: string) => { setBack([]); setF((p) => ({ ...p, [k]: v, pageToken: "" })); };
  const sortBy = (sort: SortKey) => {
    setBack([]);
    setF((p) => ({ ...p, sort, ascending: p.sort === sort ? !p.ascending : false, pageToken: "" }));
  };
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : s.length < 4 ? [...s, id] : s));
  const runs = list.data?.runs ?? [];
  // A sortable column's header: aria-sort on the <th> (screen readers read it there).
  const sortHeader = (k: SortKey, label: string) => (
    <th aria-sort={f.sort === k ? (f.ascending ? "ascending" : "descending") : "none"}>
      <button type="button" className="sort" data-testid={`sort-${k}`} onClick={() => sortBy(k)}>
        {label}{f.sort === k ? (f.ascending ? " ▲" : " ▼") : ""}
      </button>
    </th>
  );
  const filtered = f.model || f.tag || f.experiment || f.from || f.to || f.status;
  return (
    <div className="page" data-testid="history-page">
      <Panel title="Filters" wide>
        <div className="form-grid">
          <label className="field"><span>model</span><input data-testid="filter-model" value={f.model} onChange={(e) => filter("model")(e.target.value)} /></label>
          <label className="field"><span>tag</span><input data-testid="filter-tag" value={f.tag} onChange={(e) => filter("tag")(e.target.value)} /></label>
          <label className="field"><span>experiment</span><input data-testid="filter-experiment" value={f.experiment} onChange={(e) => filter("experiment")(e.target.value)} /></label>
          <label className="field"><span>from (day)</span><input type="date" data-testid="filter-from" value={f.from} onChange={(e) => filter("from")(e.target.value)} /></label>
          <label className="field"><span>to (day, inclusive)</span><input type="date" data-testid="filter-to" value={f.to} onChange={(e) => filter("to")(e.target.value)} /></label>
          <label className="field"><span>status</span>
            <select data-testid="filter-status" value={STATUSES.find(([, s]) => s === f.status)?.[0] ?? ""}
                    onChange={(e) => { setBack([]); setF((p) => ({ ...p, status: STATUSES.find(([n]) => n === e.target.value)?.[1] ?? 0, pageToken: "" })); }}>
              {STATUSES.map(([n]) => <option key={n} value={n}>{n || "any"}</option>)}
            </select>
          </label>
          <label className="field"><span>per page</span>
            <select data-testid="page-size" value={f.pageSize} onChange={(e) => { setBack([]); setF((p) => ({ ...p, pageSize: Number(e.target.value), pageToken: "" })); }}>
              {[10, 25, 50, 100].map((n) => <option key={n} value={n}>{n}</option>)}
            </select>
          </label>
        </div>
        <div className="actions">
          <button type="button" onClick={() => { setBack([]); setF(EMPTY); }} disabled={!filtered}>Clear filters</button>
          <button type="button" className="primary" data-testid="compare-selected" disabled={selected.length < 2}
                  onClick={() => navigate(href.compare(selected))}>
            Compare {selected.length ? `${selected.length} selected` : "(pick 2 to 4)"}
          </button>
          <button type="button" onClick={list.reload}>Refresh</button>
        </div>
      </Panel>
      <Panel title="Runs" wide extra={<span data-testid="total-count">{list.data ? `${list.data.totalCount} run${list.data.totalCount === 1 ? "" : "s"}` : ""}</span>}>
        <ErrorLine error={list.error} what="runs could not be listed" />
        {list.data && runs.length === 0 ? (
          filtered ? <Empty>No run matches these filters.</Empty>
            : <Empty>No runs yet: start one on the <a href={href.live()}>Live</a> page or with <code>eprofctl profile</code>.</Empty>
        ) : null}
        {runs.length ? (
          <div className="table-scroll">
            <table data-testid="history-table" className="runs">
              <thead>
                <tr>
                  <th><span className="sr-only">select</span></th>
                  {sortHeader("date", "date")}
                  <th>model</th><th>status</th><th>prompt</th><th>tokens</th>
                  {sortHeader("energy", "energy")}
                  {sortHeader("jpt", "J/token")}
                  {sortHeader("tps", "tokens/s")}
                  <th>tags</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.runId} data-testid="run-row" data-run-id={r.runId} data-energy-mj={r.totalEnergy?.totalMj ?? 0}
                      data-jpt={r.joulesPerToken} data-tps={r.decodeTokensPerS} data-created={String(r.createdAtUnixMs)}>
                    <td><input type="checkbox" data-testid="select-run" aria-label={`select run ${r.runId.slice(0, 8)} to compare`}
                               checked={selected.includes(r.runId)} onChange={() => toggle(r.runId)} /></td>
                    <td><a data-testid="run-link" href={href.run(r.runId)}>{fmt.dateTime(r.createdAtUnixMs)}</a></td>
                    <td>{r.model?.name ?? r.request?.model}</td>
                    <td>{statusName(r.status)}{r.partial ? " (partial)" : ""}</td>
                    <td className="preview" title={r.request?.prompt}>{fmt.preview(r.request?.prompt ?? "", 48)}</td>
                    <td>{r.inputTokens} in / {r.outputTokens} out</td>
                    <td>{hasEnergy(r.totalEnergy) ? fmt.energy(r.totalEnergy!.totalMj) : "—"} <EnergyTags energy={r.totalEnergy} /></td>
                    <td>{hasEnergy(r.totalEnergy) ? fmt.number(r.joulesPerToken) : "—"}</td>
                    <td>{fmt.number(r.decodeTokensPerS)}</td>
                    <td>{[...r.tags, r.experiment ? `experiment ${r.experiment}` : ""].filter(Boolean).join(", ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <div className="actions">
          <button type="button" data-testid="prev-page" disabled={back.length === 0 || list.loading}
                  onClick={() => { const b = [...back]; const t = b.pop() ?? ""; setBack(b); setF((p) => ({ ...p, pageToken: t })); }}>
            Previous
          </button>
          <span className="muted">page {back.length + 1}</span>
          <button type="button" data-testid="next-page" disabled={!list.data?.nextPageToken || list.loading}
                  onClick={() => { setBack((b) => [...b, f.pageToken]); setF((p) => ({ ...p, pageToken: list.data!.nextPageToken })); }}>
            Next
          </button>
        </div>
      </Panel>
    </div>
  );
}
