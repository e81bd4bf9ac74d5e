// The page eprof-web serves at / when it has no dashboard directory: it asks eprofd for its
// status through the gateway (GetStatus, gRPC-web binary) and shows the answer. No script, font
// or style comes from anywhere but the gateway.
#ifndef EPROF_WEB_GATEWAY_STATUS_PAGE_H_
#define EPROF_WEB_GATEWAY_STATUS_PAGE_H_

namespace eprof::web {

inline constexpr char kStatusPage[] = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>eprof</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
code { background: #f3f3f3; padding: 0 .3em; }
#status.error { color: #a00; }
</style>
</head>
<body>
<h1>eprof</h1>
<p id="status">Asking eprofd…</p>
<p>The dashboard is not installed here; <code>eprofctl</code> shows runs and profiles in the
meantime.</p>
<script>
// GetStatusResponse fields read here: 1 version (string), 2 pid (uint32), 3 user (string),
// 7 queued_runs (uint32).
function readVarint(b, p) {
  let v = 0, shift = 0;
  for (;;) { const c = b[p.i++]; v += (c & 0x7f) * Math.pow(2, shift); if (c < 0x80) return v; shift += 7; }
}
function decode(b) {
  const out = {}, p = { i: 0 };
  while (p.i < b.length) {
    const key = readVarint(b, p), field = Math.floor(key / 8), wire = key & 7;
    if (wire === 0) { out[field] = readVarint(b, p); }
    else if (wire === 2) { const n = readVarint(b, p); out[field] = b.slice(p.i, p.i + n); p.i += n; }
    else if (wire === 1) { p.i += 8; } else if (wire === 5) { p.i += 4; } else break;
  }
  return out;
}
async function load() {
  const el = document.getElementById("status");
  try {
    const r = await fetch("/eprof.v1.ProfilerService/GetStatus", {
      method: "POST", headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: new Uint8Array([0, 0, 0, 0, 0]) });
    const headerStatus = r.headers.get("grpc-status");
    if (headerStatus !== null && headerStatus !== "0") {
      throw new Error(decodeURIComponent(r.headers.get("grpc-message") || "error " + headerStatus));
    }
    const b = new Uint8Array(await r.arrayBuffer());
    const len = (b[1] << 24 | b[2] << 16 | b[3] << 8 | b[4]) >>> 0;
    if (b[0] !== 0) throw new Error("no reply from eprofd");
    const m = decode(b.slice(5, 5 + len));
    const text = (x) => new TextDecoder().decode(x || new Uint8Array());
    el.textContent = "eprofd " + text(m[1]) + " is up: pid " + (m[2] || 0) + ", user " +
        text(m[3]) + ", " + (m[7] || 0) + " runs waiting.";
  } catch (e) {
    el.textContent = "eprofd did not answer: " + e.message;
    el.className = "error";
  }
}
load();
</script>
</body>
</html>
)html";

}  // namespace eprof::web

#endif  // EPROF_WEB_GATEWAY_STATUS_PAGE_H_
