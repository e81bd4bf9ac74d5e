// What every page shares: the client to eprofd, the daemon's status (polled), and the state of
// the streams pages follow (for the header's banner). One instance each, made by App.
import { createContext, useCallback, useContext, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Profiler, StreamState } from "../api";
import type { GetStatusResponse } from "../gen/eprof/v1/profiler_pb";

export const ClientContext = createContext<Profiler | null>(null);

export function useClient(): Profiler {
  const c = useContext(ClientContext);
  if (!c) throw new Error("no ClientContext");
  return c;
}

/** The message of an error from a call, for the page. */
export function errorText(err: unknown): string {
  return ConnectError.from(err).rawMessage || String(err);
}

export interface DaemonStatus {
  status?: GetStatusResponse;
  /** Why the last GetStatus failed; empty while eprofd answers. */
  error: string;
  /** The gateway refused the page (its token changed, e.g. eprof-web restarted): polling stops. */
  refused?: boolean;
  /** Consecutive failures. */
  failures: number;
  /** Time of the last answer or failure (ms, performance.now()). */
  at: number;
}

export const StatusContext = createContext<DaemonStatus>({ error: "", failures: 0, at: 0 });
export const useDaemonStatus = () => useContext(StatusContext);

/** Polls GetStatus every `everyMs` (faster while failing is pointless: same interval). */
export function usePolledStatus(client: Profiler, everyMs: number): DaemonStatus {
  const [s, setS] = useState<DaemonStatus>({ error: "", failures: 0, at: 0 });
  useEffect(() => {
    let stop = false;
    let timer = 0;
    const ctl = new AbortController();
    const tick = async () => {
      try {
        const status = await client.getStatus({}, { signal: ctl.signal, timeoutMs: 5000 });
        if (!stop) setS({ status, error: "", failures: 0, at: performance.now() });
      } catch (err) {
        const code = ConnectError.from(err).code;
        const refused = code === Code.Unauthenticated || code === Code.PermissionDenied;
        if (!stop) setS((p) => ({ status: p.status, error: errorText(err), refused, failures: p.failures + 1, at: performance.now() }));
        if (refused) return;  // retrying cannot help: the page must be opened with the new token
      }
      if (!stop) timer = window.setTimeout(tick, everyMs);
    };
    void tick();
    return () => { stop = true; ctl.abort(); clearTimeout(timer); };
  }, [client, everyMs]);
  return s;
}

// The streams pages follow, by a key of the page's choosing; the header shows the worst.
type Listener = () => void;
class StreamStates {
  private states = new Map<string, StreamState>();
  private listeners = new Set<Listener>();
  private snapshot: StreamState[] = [];
  set(key: string, s: StreamState | undefined): void {
    const gone = s === undefined || s.kind === "ended";
    const before = this.states.get(key);
    if (gone ? before === undefined : JSON.stringify(before) === JSON.stringify(s)) return;
    if (gone) this.states.delete(key);
    else this.states.set(key, s!);
    this.snapshot = [...this.states.values()];
    for (const l of this.listeners) l();
  }
  subscribe = (l: Listener) => { this.listeners.add(l); return () => { this.listeners.delete(l); }; };
  get = () => this.snapshot;
}
export const streamStates = new StreamStates();
export const useStreamStates = () => useSyncExternalStore(streamStates.subscribe, streamStates.get);

export interface Async<T> { data?: T; error?: string; loading: boolean; reload: () => void }

/** Runs `load` when `deps` change (and on reload()); the latest call wins. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [nonce, setNonce] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctl = new AbortController();
    setState((p) => ({ data: p.data, loading: true }));
    loadRef.current(ctl.signal).then(
      (data) => { if (!ctl.signal.aborted) setState({ data, loading: false }); },
      (err) => { if (!ctl.signal.aborted) setState({ error: errorText(err), loading: false }); },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}
