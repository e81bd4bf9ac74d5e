// The live page's form (strings as typed) → a ProfileRequest, refusing a wrong field with what
// is wrong and what is allowed before anything is sent.
import { create } from "@bufbuild/protobuf";
import { DetailLevel, ProfileRequestSchema } from "../gen/eprof/v1/profiler_pb";

export interface Form {
  model: string; prompt: string; maxNewTokens: string; detail: string;
  temperature: string; topP: string; topK: string; seed: string;
  idleBaselineMs: string; warmupRuns: string; dtype: string; device: string;
  tags: string; experiment: string;
}
export const DEFAULT_FORM: Form = {
  model: "", prompt: "Explain in one paragraph where the energy of a language model goes.",
  maxNewTokens: "64", detail: "components", temperature: "0", topP: "", topK: "", seed: "",
  idleBaselineMs: "1000", warmupRuns: "0", dtype: "", device: "", tags: "", experiment: "",
};
export const DETAILS: [string, DetailLevel][] = [
  ["phases", DetailLevel.PHASES], ["tokens", DetailLevel.TOKENS], ["layers", DetailLevel.LAYERS],
  ["components", DetailLevel.COMPONENTS], ["deep", DetailLevel.DEEP],
];

/** The form → a ProfileRequest, or the first field that is wrong and why. */
export function profileRequest(f: Form) {
  const num = (v: string, name: string, lo: number, hi: number, int = true): number | undefined => {
    if (v.trim() === "") return undefined;
    const x = Number(v);
    if (!Number.isFinite(x) || (int && !Number.isInteger(x)) || x < lo || x > hi) {
      throw new Error(`${name} must be ${int ? "a whole number" : "a number"} in [${lo}, ${hi}], not "${v}"`);
    }
    return x;
  };
  if (!f.model) throw new Error("pick a model first");
  if (!f.prompt.trim()) throw new Error("the prompt is empty: write what the model should continue");
  const seedText = f.seed.trim();
  if (seedText && (!/^\d{1,20}$/.test(seedText) || BigInt(seedText) >= 1n << 64n)) {
    throw new Error(`seed must be a whole number in [0, 2^64), not "${f.seed}"`);
  }
  const seed = seedText ? BigInt(seedText) : undefined;
  return create(ProfileRequestSchema, {
    model: f.model,
    prompt: f.prompt,
    maxNewTokens: num(f.maxNewTokens, "max new tokens", 1, 1 << 20) ?? 64,
    detail: DETAILS.find(([n]) => n === f.detail)?.[1] ?? DetailLevel.TOKENS,
    sampling: {
      temperature: num(f.temperature, "temperature", 0, 10, false) ?? 0,
      topP: num(f.topP, "top-p", 0, 1, false) ?? 0,
      topK: num(f.topK, "top-k", 0, 1 << 24) ?? 0,
      seed,
    },
    idleBaselineMs: num(f.idleBaselineMs, "idle baseline", 0, 60000),
    warmupRuns: num(f.warmupRuns, "warm-up runs", 0, 10) ?? 0,
    dtype: f.dtype,
    device: f.device,
    tags: f.tags.split(",").map((t) => t.trim()).filter(Boolean),
    experiment: f.experiment.trim(),
    continueOnDisconnect: true,
  });
}
