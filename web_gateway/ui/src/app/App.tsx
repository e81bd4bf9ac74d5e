// The dashboard's frame: the header (eprofd's state, a banner while a stream reconnects), the
// navigation, and the page of the current route, each inside an error boundary.
import { useMemo } from "react";
import { profilerClient } from "../api";
import { ClientContext, StatusContext, usePolledStatus, useStreamStates, type DaemonStatus } from "./client";
import { href, useRoute } from "./route";
import { ErrorBoundary } from "../ui/common";
import { LivePage } from "../pages/Live";
import { HistoryPage } from "../pages/History";
import { RunPage } from "../pages/Run";
import { ComparePage } from "../pages/Compare";
import { phaseName } from "../names";

function Connection(props: { s: DaemonStatus }) {
  const { s } = props;
  if (!s.status && !s.error) return <span data-testid="connection" className="conn">connecting to eprofd…</span>;
  if (s.refused) {
    return (
      <span data-testid="connection" className="conn down" role="alert">
        eprof-web refused this page ({s.error}): its access token changed (eprof-web restarted?).
        Open the URL with <code>?token=</code> that eprof-web printed (the quick start prints it again
        with <code>deploy/quickstart.sh status</code>).
      </span>
    );
  }
  if (s.error) {
    return (
      <span data-testid="connection" className="conn down" role="alert">
        eprofd unreachable ({s.error}) — retrying every 2 s. Is eprofd running? Start it with{" "}
        <code>deploy/quickstart.sh</code> or your service manager.
      </span>
    );
  }
  const st = s.status!;
  const p = st.power;
  const run = st.currentRun;
  return (
    <span data-testid="connection" className="conn up">
      connected to eprofd {st.version} ·{" "}
      {p?.connected ? `power: ${p.source}${p.inProcessEstimate ? " (estimate)" : ""}`
        : p?.inProcessEstimate ? "power: in-process estimate" : `no power helper${p?.error ? ` (${p.error})` : ""}`}
      {run?.runId ? ` · running ${run.model} (${phaseName(run.phase)}, ${run.tokensGenerated}/${run.maxNewTokens})` : ""}
      {st.queuedRuns ? ` · ${st.queuedRuns} queued` : ""}
    </span>
  );
}

export function App(props: { baseUrl: string }) {
  const client = useMemo(() => profilerClient(props.baseUrl), [props.baseUrl]);
  const status = usePolledStatus(client, 2000);
  const streams = useStreamStates();
  const route = useRoute();
  const retrying = streams.find((s) => s.kind === "retrying");
  const failed = streams.find((s) => s.kind === "failed");
  // Made once per route: the status poll re-renders the frame every 2 s, and a page made anew
  // would redraw its charts (and lose a zoom). Live reads the status from its context.
  const routeKey = JSON.stringify(route);
  const page = useMemo(() => {
    switch (route.page) {
      case "live": return <LivePage />;
      case "history": return <HistoryPage />;
      case "run": return <RunPage id={route.id} />;
      case "compare": return <ComparePage ids={route.ids} />;
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [routeKey]);
  const current = route.page === "run" ? "history" : route.page;
  return (
    <ClientContext.Provider value={client}>
      <StatusContext.Provider value={status}>
        <header className="top">
          <a className="brand" href={href.live()}>eprof</a>
          <nav aria-label="pages">
            <a data-testid="nav-live" href={href.live()} aria-current={current === "live" ? "page" : undefined}>Live</a>
            <a data-testid="nav-history" href={href.history()} aria-current={current === "history" ? "page" : undefined}>History</a>
            <a data-testid="nav-compare" href={href.compare([])} aria-current={current === "compare" ? "page" : undefined}>Compare</a>
          </nav>
          <Connection s={status} />
        </header>
        {retrying && retrying.kind === "retrying" ? (
          <div className="banner" data-testid="stream-banner" role="alert">
            The run's stream dropped ({retrying.error || "connection lost"}): reconnecting, attempt {retrying.attempt}
            {retrying.inMs ? `, next in ${(retrying.inMs / 1000).toFixed(1)} s` : ""}. Nothing recorded is lost; the run's events replay when it is back.
          </div>
        ) : failed && failed.kind === "failed" ? (
          <div className="banner bad" data-testid="stream-banner" role="alert">The run's stream ended with an error: {failed.error}</div>
        ) : null}
        <main>
          <ErrorBoundary name={`the ${route.page} page`} key={routeKey}>{page}</ErrorBoundary>
        </main>
      </StatusContext.Provider>
    </ClientContext.Provider>
  );
}
