// Figures as text, exactly as eprofctl prints them (client_cli/format.cc): energies from mJ,
// powers from mW, durations from ns.

/** eprofctl's Number(): 0 to 3 decimals by magnitude. (A value exactly halfway, 41.25, rounds up
 * here and to even in printf: the one place the two may differ.) */
export function number(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  const a = Math.abs(v);
  let decimals = a >= 100 ? 0 : a >= 10 ? Math.max(0, digits - 2) : Math.max(0, digits - 1);
  if (a < 1) decimals = digits;
  return v.toFixed(decimals);
}

/** Millijoules as "12.3 mJ", "1.23 J", "4.50 kJ". */
export function energy(mj: number): string {
  if (!Number.isFinite(mj)) return "—";
  const a = Math.abs(mj);
  if (a >= 1e6) return `${number(mj / 1e6)} kJ`;
  if (a >= 1e3) return `${number(mj / 1e3)} J`;
  return `${number(mj)} mJ`;
}

/** Milliwatts as "850 mW", "12.4 W". */
export function power(mw: number): string {
  if (!Number.isFinite(mw)) return "—";
  return Math.abs(mw) >= 1e3 ? `${number(mw / 1e3)} W` : `${number(mw)} mW`;
}

/** Nanoseconds as "850 µs", "12.4 ms", "3.25 s", "2m 05s". */
export function duration(ns: number | bigint): string {
  const v = Number(ns);
  if (!Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a >= 120e9) {
    const s = Math.trunc(v / 1e9);
    return `${Math.trunc(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  }
  if (a >= 1e9) return `${number(v / 1e9)} s`;
  if (a >= 1e6) return `${number(v / 1e6)} ms`;
  return `${number(v / 1e3)} µs`;
}

export function bytes(n: number | bigint): string {
  const v = Number(n);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0, x = v;
  while (Math.abs(x) >= 1024 && i < units.length - 1) { x /= 1024; ++i; }
  return i === 0 ? `${v} B` : `${number(x)} ${units[i]}`;
}

export function count(n: number | bigint): string {
  const v = Number(n);
  if (v >= 1e9) return `${number(v / 1e9)} B`;
  if (v >= 1e6) return `${number(v / 1e6)} M`;
  if (v >= 1e3) return `${number(v / 1e3)} k`;
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
  const s = number(Math.abs(p), 2);  // eprofctl: Number(pct, 2)
  return p > 0 ? `+${s}%` : p < 0 ? `−${s}%` : "0%";
}

export function preview(text: string, n = 60): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}
