// One run followed live: started here with Profile, or attached to with Watch. Keeps its RunView
// up to date across drops (a dropped Profile is followed on with Watch of its run id, which
// replays from the start; RunView skips what it has by seq), and at the end fetches the stored
// run for the final figures. Owned by the live page; not shared.
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { follow, retryable, type Profiler, type StreamState } from "../api";
import type { GetRunResponse, ProfileEvent, ProfileRequest } from "../gen/eprof/v1/profiler_pb";
import { GetRunResponseSchema, RunPartsSchema, RunStatus } from "../gen/eprof/v1/profiler_pb";
import { RunView } from "../shape/run_view";
import { LayerSums } from "../shape/layers";

const FINAL_PARTS = create(RunPartsSchema, {
  phases: true, tokens: true, layers: true, components: true, deep: true, powerSamples: true, omitTokenLayers: true,
});

export interface LiveTiming {
  /** performance.now() when the latest token event arrived. */
  lastTokenAt: number;
  lastTokenVersion: number;
}

export class LiveRun {
  readonly view = new RunView();
  /** The stored run once the stream has ended (final energies), else undefined. */
  stored?: GetRunResponse;
  state: StreamState = { kind: "open" };
  error = "";
  seenLoading = false;
  readonly timing: LiveTiming = { lastTokenAt: 0, lastTokenVersion: 0 };
  /** Started here (Profile) or attached to (Watch): the page attaches to others' runs only
   * over one of its own that it attached to. */
  origin: "started" | "attached" = "attached";
  /** The tokens' layers summed as they come: all of them (times), and those whose energy is
   * final (energies), each token once. */
  readonly timeSums = new LayerSums();
  readonly energySums = new LayerSums();
  energyTokens = 0;
  private readonly summed = new Set<number>();
  private readonly summedEnergy = new Set<number>();
  private readonly ctl = new AbortController();

  constructor(private readonly client: Profiler, private readonly changed: () => void) {}

  get runId(): string { return this.view.runId; }
  get active(): boolean { return !this.view.done && !this.error && !this.ctl.signal.aborted; }

  private onEvent = (e: ProfileEvent) => {
    if (!this.view.apply(e)) return;
    if (e.event.case === "modelLoading") this.seenLoading = true;
    if (e.event.case === "token" && e.event.value.token) {
      const tok = e.event.value.token;
      if (!this.summed.has(tok.index)) { this.summed.add(tok.index); this.timeSums.add(tok.layers); }
      if (e.event.value.energyFinal && !this.summedEnergy.has(tok.index)) {
        this.summedEnergy.add(tok.index);
        this.energySums.add(tok.layers);
        ++this.energyTokens;
      }
      this.timing.lastTokenAt = performance.now();
      this.timing.lastTokenVersion = this.view.version;
    }
    this.changed();
  };
  private onState = (s: StreamState) => {
    this.state = s;
    if (s.kind === "failed") this.error = s.error;
    this.changed();
  };

  /** Starts a run; resolves when it has ended (or failed, or was stopped). */
  async start(req: ProfileRequest): Promise<void> {
    this.origin = "started";
    try {
      for await (const e of this.client.profile(req, { signal: this.ctl.signal })) this.onEvent(e);
      this.state = { kind: "ended" };
    } catch (err) {
      if (this.ctl.signal.aborted) return;
      if (this.view.done) {  // a failed run: its summary came, then the call's error status
        await this.finish();
        return;
      }
      if (!this.view.runId || !retryable(err)) {
        this.onState({ kind: "failed", error: ConnectError.from(err).rawMessage });
        return;
      }
      // The run goes on (continue_on_disconnect): follow it by its id.
      this.onState({ kind: "retrying", attempt: 1, inMs: 0, error: ConnectError.from(err).rawMessage });
      await this.watch(this.view.runId);
      return;
    }
    await this.finish();
  }

  /** Follows a run that is going (started elsewhere, or here before a drop). */
  async attach(runId: string): Promise<void> {
    await this.watch(runId);
  }

  private async watch(runId: string): Promise<void> {
    for (;;) {
      await follow(
        (signal) => this.client.watch({ runId }, { signal }),
        this.onEvent, this.onState, this.ctl.signal,
      );
      // However the stream ended, the stored run says how the run did: a run cut short by an
      // eprofd that died is stored as interrupted, and Watch of a stored run numbers its events
      // afresh, so its summary may not get past RunView's seq check. A run still going (the
      // stream failed under it) is followed again.
      if (this.ctl.signal.aborted || (await this.finish(runId))) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Reads the stored run; false when it is still queued or running (nothing applied). */
  private async finish(runId = this.view.runId): Promise<boolean> {
    if (!runId) return true;
    if (this.view.summary) {
      this.stored = create(GetRunResponseSchema, { summary: this.view.summary, phases: this.view.phases });
      this.changed();
    }
    try {
      // Every final figure, and the layers summed per phase: each token's own layers (most of
      // a run's bytes at detail components) stay with what the stream brought.
      const run = await this.client.getRun({ runId, parts: FINAL_PARTS }, { signal: this.ctl.signal });
      const status = run.summary?.status;
      if (status === RunStatus.RUNNING || status === RunStatus.QUEUED) return false;
      this.view.applyStored(run);
      this.stored = run;
      this.state = { kind: "ended" };
      this.error = "";
    } catch (err) {
      if (!this.ctl.signal.aborted) this.error = `the run ended, but its stored figures could not be read: ${ConnectError.from(err).rawMessage}`;
    }
    this.changed();
    return true;
  }

  async cancel(): Promise<void> {
    if (!this.view.runId) return;
    await this.client.cancelRun({ runId: this.view.runId });
  }

  /** Stops following (the run itself goes on if it was started to continue on disconnect). */
  close(): void { this.ctl.abort(); }
}
