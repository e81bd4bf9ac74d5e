// eprofd through eprof-web: a Connect-ES client over gRPC-web on the page's own origin (the
// cookie eprof-web set from the URL's token goes with every call), and the policy that follows
// a run's stream across drops.
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { ProfileEvent } from "./gen/eprof/v1/profiler_pb";
import { ProfilerService } from "./gen/eprof/v1/profiler_pb";

export type Profiler = Client<typeof ProfilerService>;

export function profilerClient(baseUrl: string): Profiler {
  return createClient(ProfilerService, createGrpcWebTransport({ baseUrl }));
}

/** Delay before reconnect attempt `attempt` (0-based): 0.5 s doubling, at most 8 s. */
export function backoffMs(attempt: number): number {
  return Math.min(8000, 500 * 2 ** Math.max(0, attempt));
}

/** Errors worth retrying: eprofd or the gateway away, not a refusal or a bad request. */
export function retryable(err: unknown): boolean {
  const code = ConnectError.from(err).code;
  return code === Code.Unavailable || code === Code.Unknown || code === Code.Internal ||
         code === Code.DeadlineExceeded || code === Code.Aborted;
}

export type StreamState =
  | { kind: "open" }
  | { kind: "retrying"; attempt: number; inMs: number; error: string }
  | { kind: "ended" }
  | { kind: "failed"; error: string };

/**
 * Reads `open()`'s stream into `onEvent`; when it drops with a retryable error, opens it again
 * after `backoffMs` (the caller's onEvent skips what it has seen by seq). Stops at the stream's
 * end, a non-retryable error, or `signal`. `sleep` is injectable for tests.
 * `open` must be safe to call again: Watch(run_id), never Profile (a second Profile is a second
 * run). A page that started a run with Profile follows its drops with Watch of that run's id.
 * There is no cap on attempts: the header says "reconnecting" for as long as eprofd is away.
 */
export async function follow(
  open: (signal: AbortSignal) => AsyncIterable<ProfileEvent>,
  onEvent: (e: ProfileEvent) => void,
  onState: (s: StreamState) => void,
  signal: AbortSignal,
  sleep: (ms: number, signal: AbortSignal) => Promise<void> = abortableSleep,
): Promise<void> {
  for (let attempt = 0; !signal.aborted;) {
    try {
      let first = true;
      for await (const e of open(signal)) {
        if (first) { onState({ kind: "open" }); first = false; attempt = 0; }
        try {
          onEvent(e);
        } catch (bug) {
          // The page's own failure, not the stream's: reopening would replay into it forever.
          onState({ kind: "failed", error: `this page could not show an event: ${String(bug)}` });
          return;
        }
      }
      onState({ kind: "ended" });
      return;
    } catch (err) {
      if (signal.aborted) return;
      const ce = ConnectError.from(err);
      if (!retryable(err)) { onState({ kind: "failed", error: ce.rawMessage }); return; }
      const inMs = backoffMs(attempt);
      onState({ kind: "retrying", attempt: attempt + 1, inMs, error: ce.rawMessage });
      ++attempt;
      await sleep(inMs, signal);
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal.removeEventListener("abort", onAbort); resolve(); }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
