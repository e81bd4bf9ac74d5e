// The stream-following policy: reconnects with backoff on a drop, stops on a refusal.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { backoffMs, follow, retryable, type StreamState } from "../src/api";
import { ProfileEventSchema, type ProfileEvent } from "../src/gen/eprof/v1/profiler_pb";
import { RunView } from "../src/shape/run_view";

const ev = (seq: number) => create(ProfileEventSchema, { seq: BigInt(seq), runId: "r" });

describe("follow", () => {
  it("backs off 0.5 s doubling to 8 s", () => {
    expect([0, 1, 2, 3, 4, 5, 9].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
    expect(retryable(new ConnectError("x", Code.Unavailable))).toBe(true);
    expect(retryable(new ConnectError("x", Code.Unauthenticated))).toBe(false);
    expect(retryable(new ConnectError("x", Code.NotFound))).toBe(false);
  });
  it("reopens a dropped stream, and the replay adds nothing twice", async () => {
    const scripts: (ProfileEvent[] | Error)[][] = [
      [[ev(0), ev(1)], new ConnectError("eprofd went away", Code.Unavailable)],
      [new ConnectError("still away", Code.Unavailable)],
      [[ev(0), ev(1), ev(2), ev(3)]],
    ];
    let opened = 0;
    const open = () => (async function* () {
      for (const step of scripts[opened++]) {
        if (step instanceof Error) throw step;
        yield* step;
      }
    })();
    const view = new RunView();
    const states: StreamState[] = [];
    const slept: number[] = [];
    await follow(open, (e) => view.apply(e), (s) => states.push(s), new AbortController().signal,
                 async (ms) => { slept.push(ms); });
    expect(opened).toBe(3);
    expect(view.lastSeq).toBe(3);
    expect(view.version).toBe(4);
    expect(slept).toEqual([500, 1000]);
    expect(states.map((s) => s.kind)).toEqual(["open", "retrying", "retrying", "open", "ended"]);
    expect(states[1]).toEqual({ kind: "retrying", attempt: 1, inMs: 500, error: "eprofd went away" });
  });
  it("a refusal ends the following with its message", async () => {
    const states: StreamState[] = [];
    const open = () => (async function* () { throw new ConnectError("no such run", Code.NotFound); })();
    await follow(open, () => {}, (s) => states.push(s), new AbortController().signal, async () => {});
    expect(states).toEqual([{ kind: "failed", error: "no such run" }]);
  });
  it("the page's own failure on an event ends the following instead of replaying into it", async () => {
    let opened = 0;
    const open = () => { ++opened; return (async function* () { yield ev(0); yield ev(1); })(); };
    const states: StreamState[] = [];
    await follow(open, (e) => { if (e.seq === 1n) throw new Error("bad event"); }, (s) => states.push(s),
                 new AbortController().signal, async () => {});
    expect(opened).toBe(1);
    expect(states).toEqual([{ kind: "open" }, { kind: "failed", error: "this page could not show an event: Error: bad event" }]);
  });
});
