// Figures as text, in the units eprofctl prints (client_cli/format.cc): energies from mJ,
// powers from mW, durations from ns.

function fixed(v: number, digits: number): string {
  return v.toFixed(digits).replace(/\.?0+$/, "") || "0";
}
function sig3(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return fixed(v, 1);
  return fixed(v, 2);
}

/** Millijoules as "12.3 mJ", "1.23 J", "4.5 kJ". */
export function energy(mj: number): string {
  if (!Number.isFinite(mj)) return "—";
  const a = Math.abs(mj);
  if (a >= 1e6) return `${sig3(mj / 1e6)} kJ`;
  if (a >= 1e3) return `${sig3(mj / 1e3)} J`;
  if (a >= 1 || a === 0) return `${sig3(mj)} mJ`;
  return `${sig3(mj * 1e3)} µJ`;
}

/** Milliwatts as "850 mW", "12.4 W". */
export function power(mw: number): string {
  if (!Number.isFinite(mw)) return "—";
  return Math.abs(mw) >= 1e3 ? `${sig3(mw / 1e3)} W` : `${sig3(mw)} mW`;
}

/** Nanoseconds as "850 µs", "12.4 ms", "3.2 s", "2 min 5 s". */
export function duration(ns: number | bigint): string {
  const v = Number(ns);
  if (!Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a >= 120e9) return `${Math.floor(v / 60e9)} min ${Math.round((v % 60e9) / 1e9)} s`;
  if (a >= 1e9) return `${sig3(v / 1e9)} s`;
  if (a >= 1e6) return `${sig3(v / 1e6)} ms`;
  if (a >= 1e3) return `${sig3(v / 1e3)} µs`;
  return `${fixed(v, 0)} ns`;
}

export function number(v: number): string {
  if (!Number.isFinite(v)) return "—";
  if (v !== 0 && Math.abs(v) < 0.01) return v.toExponential(2);
  return sig3(v);
}

export function bytes(n: number | bigint): string {
  const v = Number(n);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0, x = v;
  while (Math.abs(x) >= 1024 && i < units.length - 1) { x /= 1024; ++i; }
  return i === 0 ? `${v} B` : `${sig3(x)} ${units[i]}`;
}

export function count(n: number | bigint): string {
  const v = Number(n);
  if (v >= 1e9) return `${sig3(v / 1e9)} B`;
  if (v >= 1e6) return `${sig3(v / 1e6)} M`;
  if (v >= 1e3) return `${sig3(v / 1e3)} k`;
  return String(v);
}

/** A wall-clock label from ms since the epoch, in the browser's time zone. */
export function dateTime(unixMs: number | bigint): string {
  const d = new Date(Number(unixMs));
  const p = (x: number) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A signed relative change, "+12.5%" or "−3%". */
export function percent(ratio: number): string {
  if (!Number.isFinite(ratio)) return "—";
  const p = (ratio - 1) * 100;
  const s = sig3(Math.abs(p));
  return p > 0 ? `+${s}%` : p < 0 ? `−${s}%` : "0%";
}

export function preview(text: string, n = 60): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}
