// The two browser gRPC-web clients eprof's dashboard may use, run from Node against real
// processes: eprof-power-helper (replaying a trace), eprofd (a tiny checkpoint) and eprof-web.
//   @connectrpc/connect-web createGrpcWebTransport (fetch, binary)
//   grpc-web GrpcWebClientBase in text mode (XMLHttpRequest, from xhr2)
// Message types come from proto/ through protoc-gen-es (gen/, made by web_clients.sh).
//   node clients.mjs BUILD_DIR        # prints "N passed, N failed" last
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import XHR from "xhr2";
import grpcWeb from "grpc-web";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import {
  GetRunRequestSchema, GetRunResponseSchema, GetStatusRequestSchema, GetStatusResponseSchema,
  ProfileEventSchema, ProfileRequestSchema, ProfilerService, RunStatus, WatchRequestSchema,
} from "./gen/eprof/v1/profiler_pb.js";

globalThis.XMLHttpRequest = XHR;

const build = path.resolve(process.argv[2] ?? "../../build");
const bin = (name) => path.join(build, "bin", name);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eprof-web-clients-"));
const token = "f00dfeedf00dfeedf00dfeedf00dfeed";
const children = new Set();
let passed = 0, failed = 0;

function start(argv, log) {
  const out = fs.openSync(path.join(dir, log), "a");
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", out, out] });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(file) {
  for (let i = 0; i < 200; ++i) {
    if (fs.existsSync(file)) return;
    await sleep(25);
  }
  throw new Error(`${file} never appeared`);
}
async function stop(child) {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.on("exit", r));
  child.kill("SIGKILL");
  await done;
}

// Setup: a tiny model, a trace of known power, the helper, eprofd, eprof-web.
fs.mkdirSync(path.join(dir, "models"));
if (spawnSync(bin("eprof-llm"), ["mkmodel", "--family", "llama", "--preset", "tiny", "--out",
                                 path.join(dir, "models", "tiny")], { stdio: "ignore" }).status !== 0) {
  console.log("eprof-llm mkmodel failed");
  console.log("0 passed, 1 failed");
  process.exit(1);
}
let trace = "";
for (let k = 0; k < 6000; ++k) {
  const p = 2000 + 100 * (k % 20);
  trace += JSON.stringify({ seq: k, t_end_ns: (k + 1) * 10_000_000, window_ns: 10_000_000,
                            channels: { cpu: { energy_mj: p * 0.01, power_mw: p, quality: "MEASURED" } } }) + "\n";
}
fs.writeFileSync(path.join(dir, "trace.jsonl"), trace);
fs.writeFileSync(path.join(dir, "token"), token + "\n", { mode: 0o600 });
const daemonSock = path.join(dir, "d.sock");
start([bin("eprof-power-helper"), "serve", "--source", `replay:${path.join(dir, "trace.jsonl")}`,
       "--socket", path.join(dir, "p.sock")], "helper.log");
await waitFor(path.join(dir, "p.sock"));
const daemonArgs = [bin("eprofd"), "--socket", daemonSock, "--power-socket", path.join(dir, "p.sock"),
                    "--model-root", path.join(dir, "models"), "--db", path.join(dir, "eprof.db"),
                    "--power-interval-ms", "10"];
let daemon = start(daemonArgs, "daemon.log");
await waitFor(daemonSock);
const web = start([bin("eprof-web"), "--socket", daemonSock, "--port", "0", "--token-file",
                   path.join(dir, "token")], "web.log");
let port = 0;
for (let i = 0; i < 200 && port === 0; ++i) {
  const m = fs.existsSync(path.join(dir, "web.log")) &&
            fs.readFileSync(path.join(dir, "web.log"), "utf8").match(/http:\/\/127\.0\.0\.1:(\d+)\//);
  if (m) port = Number(m[1]); else await sleep(25);
}
const baseUrl = `http://127.0.0.1:${port}`;

// Clients.
const withHeaders = (headers) => (next) => async (req) => {
  for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
  return next(req);
};
const connect = (headers = { "x-eprof-token": token }) =>
  createClient(ProfilerService, createGrpcWebTransport({ baseUrl, interceptors: [withHeaders(headers)] }));
const client = connect();
const grpcWebClient = new grpcWeb.GrpcWebClientBase({ format: "text" });
const descriptor = (name, type, reqSchema, resSchema) => new grpcWeb.MethodDescriptor(
    `/eprof.v1.ProfilerService/${name}`, type, Object, Object,
    (req) => toBinary(reqSchema, req), (bytes) => fromBinary(resSchema, bytes));
const GW_STATUS = descriptor("GetStatus", grpcWeb.MethodType.UNARY, GetStatusRequestSchema, GetStatusResponseSchema);
const GW_PROFILE = descriptor("Profile", grpcWeb.MethodType.SERVER_STREAMING, ProfileRequestSchema, ProfileEventSchema);
const GW_WATCH = descriptor("Watch", grpcWeb.MethodType.SERVER_STREAMING, WatchRequestSchema, ProfileEventSchema);
function gwUnary(desc, req, metadata = { "x-eprof-token": token }) {
  return new Promise((resolve, reject) => {
    grpcWebClient.rpcCall(baseUrl + desc.getName(), req, metadata, desc, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
function gwStream(desc, req) {
  return new Promise((resolve, reject) => {
    const events = [];
    const s = grpcWebClient.serverStreaming(baseUrl + desc.getName(), req, { "x-eprof-token": token }, desc);
    s.on("data", (e) => events.push(e));
    s.on("error", reject);
    s.on("end", () => resolve(events));
  });
}
const profileRequest = (tokens, idleMs = 100, model = "tiny") => create(ProfileRequestSchema, {
  model, prompt: "Where does the energy go?", maxNewTokens: tokens, idleBaselineMs: idleMs,
  powerIntervalMs: 10 });
async function runStatus(runId) {
  const run = await client.getRun(create(GetRunRequestSchema, { runId }));
  return run.summary.status;
}
function check(cond, what) { if (!cond) throw new Error(what); }

async function test(name, body) {
  try {
    await body();
    ++passed;
    console.log(`ok   ${name}`);
  } catch (e) {
    ++failed;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}

await test("connect-web: unary GetStatus", async () => {
  const s = await client.getStatus({});
  check(s.pid === daemon.pid, `pid ${s.pid}, expected ${daemon.pid}`);
});
let finishedRun = "";
await test("connect-web: a whole Profile stream", async () => {
  const events = [];
  for await (const e of client.profile(profileRequest(8))) events.push(e);
  check(events[0].event.case === "runStarted", `first event ${events[0].event.case}`);
  const last = events[events.length - 1];
  check(last.event.case === "summary", `last event ${last.event.case}`);
  check(last.event.value.status === RunStatus.COMPLETED, `status ${last.event.value.status}`);
  check(events.filter((e) => e.event.case === "token").length === 8, "8 token events");
  finishedRun = last.runId;
});
await test("connect-web: Watch of a finished run replays it to its summary", async () => {
  const events = [];
  for await (const e of client.watch(create(WatchRequestSchema, { runId: finishedRun }))) events.push(e);
  check(events.length > 8 && events[events.length - 1].event.case === "summary", `${events.length} events`);
});
await test("connect-web: an error reply keeps its code and message", async () => {
  try {
    for await (const e of client.profile(profileRequest(8, 100, "nope"))) void e;
    throw new Error("no error");
  } catch (e) {
    const err = ConnectError.from(e);
    check(err.code === Code.NotFound, `code ${err.code}`);
    check(err.rawMessage.includes("no model 'nope'"), err.rawMessage);
  }
});
await test("connect-web: a client that goes away mid-stream leaves a cancelled run", async () => {
  const abort = new AbortController();
  let runId = "";
  try {
    for await (const e of client.profile(profileRequest(50, 3000), { signal: abort.signal })) {
      runId = e.runId;
      abort.abort();
    }
  } catch (e) {
    check(ConnectError.from(e).code === Code.Canceled, `code ${ConnectError.from(e).code}`);
  }
  let status = RunStatus.RUNNING;
  for (let i = 0; i < 100 && status === RunStatus.RUNNING; ++i) {
    await sleep(50);
    status = await runStatus(runId);
  }
  check(status === RunStatus.CANCELLED, `status ${status}`);
});
await test("connect-web: without the token, and from a foreign origin, refused", async () => {
  for (const [headers, code] of [[{}, Code.Unauthenticated],
                                 [{ "x-eprof-token": token, origin: "http://evil.example" }, Code.PermissionDenied]]) {
    try {
      await connect(headers).getStatus({});
      throw new Error("not refused");
    } catch (e) {
      check(ConnectError.from(e).code === code, `code ${ConnectError.from(e).code}, expected ${code}`);
    }
  }
});
await test("a foreign Host is refused (DNS rebinding)", async () => {
  const status = await new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/", method: "GET",
                               headers: { host: `evil.example:${port}`, "x-eprof-token": token } },
                             (res) => { res.resume(); resolve(res.statusCode); });
    req.on("error", reject);
    req.end();
  });
  check(status === 403, `HTTP ${status}`);
});
await test("grpc-web (text): unary GetStatus", async () => {
  const s = await gwUnary(GW_STATUS, create(GetStatusRequestSchema));
  check(s.pid === daemon.pid, `pid ${s.pid}`);
});
await test("grpc-web (text): a whole Profile stream", async () => {
  const events = await gwStream(GW_PROFILE, profileRequest(6));
  check(events[0].event.case === "runStarted", `first ${events[0].event.case}`);
  check(events[events.length - 1].event.case === "summary", "ends with the summary");
  check(events.filter((e) => e.event.case === "token").length === 6, "6 token events");
});
await test("grpc-web (text): Watch", async () => {
  const events = await gwStream(GW_WATCH, create(WatchRequestSchema, { runId: finishedRun }));
  check(events[events.length - 1].event.case === "summary", `${events.length} events`);
});
await test("grpc-web (text): an error reply keeps its code", async () => {
  try {
    await gwStream(GW_PROFILE, profileRequest(6, 100, "nope"));
    throw new Error("no error");
  } catch (e) {
    check(e.code === 5, `code ${e.code}: ${e.message}`);
  }
});
await test("grpc-web (text): without the token, refused", async () => {
  try {
    await gwUnary(GW_STATUS, create(GetStatusRequestSchema), {});
    throw new Error("not refused");
  } catch (e) {
    check(e.code === 16, `code ${e.code}: ${e.message}`);  // UNAUTHENTICATED, from HTTP 401
  }
});
await test("eprofd restarted under the gateway: UNAVAILABLE, then served again", async () => {
  await stop(daemon);
  try {
    await client.getStatus({});
    throw new Error("answered without eprofd");
  } catch (e) {
    const err = ConnectError.from(e);
    check(err.code === Code.Unavailable, `code ${err.code}`);
    check(err.rawMessage.includes("start it with"), err.rawMessage);
  }
  fs.rmSync(daemonSock, { force: true });
  daemon = start(daemonArgs, "daemon.log");
  await waitFor(daemonSock);
  let ok = false;
  for (let i = 0; i < 40 && !ok; ++i) {
    try { ok = (await client.getStatus({})).pid === daemon.pid; } catch { await sleep(100); }
  }
  check(ok, "not served again");
});

for (const c of [...children]) await stop(c);
if (failed === 0) fs.rmSync(dir, { recursive: true, force: true });
else console.log(`logs kept in ${dir}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
