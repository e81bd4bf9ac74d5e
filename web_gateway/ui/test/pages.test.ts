// The pages' own logic: routes, the live form's request and its refusals, the stream banner's
// store (which must not notify when nothing changed, or a page re-rendering on it loops).
import { describe, expect, it } from "vitest";
import { parseRoute, href } from "../src/app/route";
import { DEFAULT_FORM, profileRequest } from "../src/shape/request";
import { DetailLevel } from "../src/gen/eprof/v1/profiler_pb";
import { streamStates } from "../src/app/client";

describe("routes", () => {
  it("parses every page and falls back to live", () => {
    expect(parseRoute("")).toEqual({ page: "live" });
    expect(parseRoute("#/nonsense")).toEqual({ page: "live" });
    expect(parseRoute("#/history")).toEqual({ page: "history" });
    expect(parseRoute("#/run/abc123")).toEqual({ page: "run", id: "abc123" });
    expect(parseRoute("#/run/")).toEqual({ page: "history" });
    expect(parseRoute("#/compare/a,b,c")).toEqual({ page: "compare", ids: ["a", "b", "c"] });
    expect(parseRoute("#/compare")).toEqual({ page: "compare", ids: [] });
    expect(parseRoute(href.compare(["x y", "z"]))).toEqual({ page: "compare", ids: ["x y", "z"] });
    expect(parseRoute("#/run/%E0%A4")).toEqual({ page: "run", id: "%E0%A4" });  // no throw
  });
});

describe("the live form", () => {
  const form = { ...DEFAULT_FORM, model: "tiny" };
  it("makes the request with every field", () => {
    const r = profileRequest({
      ...form, prompt: "hi", maxNewTokens: "12", detail: "deep", temperature: "0.7", topP: "0.9",
      topK: "40", seed: "18446744073709551615", idleBaselineMs: "0", warmupRuns: "2", dtype: "bfloat16",
      device: "cpu", tags: " a, b ,,", experiment: " exp ",
    });
    expect(r.model).toBe("tiny");
    expect(r.maxNewTokens).toBe(12);
    expect(r.detail).toBe(DetailLevel.DEEP);
    expect(r.sampling?.temperature).toBe(0.7);
    expect(r.sampling?.topP).toBe(0.9);
    expect(r.sampling?.topK).toBe(40);
    expect(r.sampling?.seed).toBe(18446744073709551615n);
    expect(r.idleBaselineMs).toBe(0);
    expect(r.warmupRuns).toBe(2);
    expect(r.tags).toEqual(["a", "b"]);
    expect(r.experiment).toBe("exp");
    expect(r.continueOnDisconnect).toBe(true);
  });
  it("leaves unset what is empty (the daemon's defaults)", () => {
    const r = profileRequest({ ...form, idleBaselineMs: "", seed: "" });
    expect(r.idleBaselineMs).toBeUndefined();
    expect(r.sampling?.seed).toBeUndefined();
    expect(r.detail).toBe(DetailLevel.COMPONENTS);
  });
  it("refuses a wrong field saying which and what is allowed", () => {
    expect(() => profileRequest({ ...form, model: "" })).toThrow("pick a model first");
    expect(() => profileRequest({ ...form, prompt: "  " })).toThrow("the prompt is empty");
    expect(() => profileRequest({ ...form, maxNewTokens: "0" })).toThrow('max new tokens must be a whole number in [1, 1048576], not "0"');
    expect(() => profileRequest({ ...form, maxNewTokens: "2.5" })).toThrow("whole number");
    expect(() => profileRequest({ ...form, temperature: "11" })).toThrow('temperature must be a number in [0, 10], not "11"');
    expect(() => profileRequest({ ...form, topP: "x" })).toThrow("top-p must be a number in [0, 1]");
    expect(() => profileRequest({ ...form, idleBaselineMs: "60001" })).toThrow("idle baseline");
    expect(() => profileRequest({ ...form, seed: "18446744073709551616" })).toThrow("seed must be a whole number in [0, 2^64)");
    expect(() => profileRequest({ ...form, seed: "-1" })).toThrow("seed");
  });
});

describe("the stream banner's store", () => {
  it("notifies only on a change", () => {
    let calls = 0;
    const off = streamStates.subscribe(() => ++calls);
    streamStates.set("t", { kind: "retrying", attempt: 1, inMs: 500, error: "x" });
    const first = streamStates.get();
    streamStates.set("t", { kind: "retrying", attempt: 1, inMs: 500, error: "x" });
    expect(calls).toBe(1);
    expect(streamStates.get()).toBe(first);
    streamStates.set("t", { kind: "open" });
    streamStates.set("t", { kind: "ended" });
    streamStates.set("t", undefined);
    expect(calls).toBe(3);
    expect(streamStates.get()).toEqual([]);
    off();
  });
});
