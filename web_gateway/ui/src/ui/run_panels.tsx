// Panels of one run, shared by the live view and the run page: the generated text coloured by
// energy, the summary (eprofctl profile's figures), the phase table and the warnings.
import { memo, useRef, useState } from "react";
import type { GetRunResponse, PhaseRecord, TokenRecord, Warning } from "../gen/eprof/v1/profiler_pb";
import { Phase } from "../gen/eprof/v1/profiler_pb";
import { attributionLabel, phaseName, qualityLabel, statusName, stopReasonText } from "../names";
import { hasEnergy, summaryRows } from "../shape/summary";
import { tokenFigures, tokenScale } from "../shape/tokens";
import { textOn } from "../shape/colour";
import * as fmt from "../format";
import { EnergyTags } from "./common";

function tokenLine(t: TokenRecord, final: boolean): string {
  const f = tokenFigures(t);
  const parts = [`token ${f.index} ${JSON.stringify(f.text)}`, phaseName(f.phase), `duration ${fmt.duration(f.durationNs)}`];
  if (f.energyMj !== null) {
    parts.push(`energy ${fmt.energy(f.energyMj)}`, `dynamic ${fmt.energy(f.dynamicMj ?? 0)}`, `power ${fmt.power(f.powerMw ?? 0)}`);
    if (!final) parts.push("(provisional)");
  } else {
    parts.push("energy not known yet");
  }
  parts.push(`probability ${fmt.number(f.probability)}`);
  return parts.join(" · ");
}

/** The text token by token, each on its energy's colour (decode tokens; the prompt's apart). */
export const TokenText = memo(function TokenText(props: { tokens: readonly TokenRecord[]; final: readonly boolean[]; version?: number }) {
  const tokens = props.tokens.filter(Boolean);
  const scale = tokenScale(tokens);
  // The token pointed at or focused, and where its tooltip goes (px inside the text's box).
  const [sel, setSel] = useState<{ index: number; x: number; y: number } | null>(null);
  const selected = sel !== null ? tokens.find((t) => t.index === sel.index) : undefined;
  const text = useRef<HTMLParagraphElement>(null);
  const pickSpan = (span: HTMLElement, index: number) => {
    const r = span.getBoundingClientRect();
    const box = text.current!.getBoundingClientRect();
    setSel({ index, x: r.left - box.left, y: r.bottom - box.top + 4 });
  };
  const pick = (ev: React.SyntheticEvent<HTMLSpanElement>, index: number) => pickSpan(ev.currentTarget, index);
  // One tab stop for the whole text; the arrow keys (Home, End) move between tokens.
  const move = (to: number) => {
    const i = Math.max(0, Math.min(tokens.length - 1, to));
    const span = text.current?.querySelector<HTMLElement>(`[data-pos="${i}"]`);
    if (span) {
      span.scrollIntoView({ block: "nearest" });
      pickSpan(span, tokens[i].index);
    }
  };
  const pos = sel ? tokens.findIndex((t) => t.index === sel.index) : -1;
  const onKey = (ev: React.KeyboardEvent) => {
    const to = ev.key === "ArrowRight" || ev.key === "ArrowDown" ? pos + 1
      : ev.key === "ArrowLeft" || ev.key === "ArrowUp" ? pos - 1
      : ev.key === "Home" ? 0 : ev.key === "End" ? tokens.length - 1 : null;
    if (to === null) return;
    ev.preventDefault();
    move(to);
  };
  if (tokens.length === 0) return <p className="empty" data-testid="token-text">No tokens yet.</p>;
  return (
    <div>
      <p className="tokens" data-testid="token-text" ref={text} tabIndex={0} onKeyDown={onKey}
         aria-label="the generated text; arrow keys move from token to token"
         onFocus={(ev) => { if (ev.target === ev.currentTarget && pos < 0) move(0); }}
         onMouseLeave={() => setSel(null)} onBlur={() => setSel(null)}>
        {tokens.map((t, i) => {
          const e = t.energy && t.phase === Phase.DECODE ? t.energy.totalMj : null;
          const style = e !== null ? { background: scale.colour(e), color: textOn(scale.position(e)) } : undefined;
          return (
            <span
              key={t.index} className={t.phase === Phase.DECODE ? "tok" : "tok prefill"} style={style}
              data-pos={i} data-index={t.index} data-energy-mj={t.energy ? t.energy.totalMj : undefined}
              onMouseEnter={(ev) => pick(ev, t.index)}
            >
              {t.text}
            </span>
          );
        })}
        {selected && sel ? (
          <span className="tooltip" role="tooltip" data-testid="token-tooltip" style={{ left: sel.x, top: sel.y }}>
            {tokenLine(selected, props.final[selected.index] ?? true)}
          </span>
        ) : null}
      </p>
      <div className="legend-row">
        <span>decode token energy</span>
        <span>{fmt.energy(scale.min)}</span>
        <span className="viridis-bar" aria-hidden="true" />
        <span>{fmt.energy(scale.max)}</span>
        <span className="muted"><span className="tok prefill">grey</span>: the first token, made by the prefill; it carries the whole prompt's energy and is left out of the scale</span>
      </div>
      <p className="muted readout">Point at a token (or focus the text and use the arrow keys) to read its energy, dynamic energy, duration and power.</p>
    </div>
  );
});

export function SummaryPanel(props: { run: GetRunResponse }) {
  const s = props.run.summary!;
  const rows = summaryRows(props.run);
  return (
    <div data-testid="summary">
      <p>
        <strong data-testid="run-status">{statusName(s.status)}</strong>
        {stopReasonText(s.status, s.stopReason) ? ` (${stopReasonText(s.status, s.stopReason)})` : ""}
        {s.partial ? " · partial: figures rebuilt from what was stored before the run was cut short" : ""}
        {s.error ? <span className="error"> · {s.error}</span> : null}
        {" "}<EnergyTags energy={s.totalEnergy} />
      </p>
      <table className="compact">
        <thead><tr><th>phase</th><th>time</th><th>tokens</th><th>tokens/s</th><th>energy</th></tr></thead>
        <tbody>
          {rows.phases.map((r) => (
            <tr key={r.phase}><td>{r.phase}</td><td>{r.time}</td><td>{r.tokens}</td><td>{r.rate}</td><td>{r.energy}</td></tr>
          ))}
        </tbody>
      </table>
      {rows.figures.length ? (
        <dl className="figures">
          {rows.figures.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}
        </dl>
      ) : <p className="muted">No energy figures: the run had no power source.</p>}
      {s.power.length ? (
        <table className="compact">
          <thead><tr><th>channel</th><th>mean power</th><th>peak</th><th>idle baseline</th><th>quality</th></tr></thead>
          <tbody>
            {s.power.map((p) => (
              <tr key={p.channel}>
                <td>{p.channel}{p.contained ? " (inside another channel)" : ""}</td><td>{fmt.power(p.avgPowerMw)}</td>
                <td>{fmt.power(p.peakPowerMw)}</td><td>{fmt.power(p.baselinePowerMw)}</td><td>{qualityLabel(p.quality)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {rows.caveats.map((c) => <p key={c} className="note">{c}</p>)}
    </div>
  );
}

export function PhaseTable(props: { phases: readonly PhaseRecord[] }) {
  if (props.phases.length === 0) return <p className="empty">No phases recorded.</p>;
  return (
    <table className="compact" data-testid="phase-table">
      <thead><tr><th>phase</th><th>duration</th><th>energy</th><th>dynamic energy</th><th>attribution</th><th>quality</th></tr></thead>
      <tbody>
        {props.phases.map((p, i) => {
          // A phase without energy (no power data, or not yet covered live) shows none, not 0.
          const e = hasEnergy(p.energy) ? p.energy! : undefined;
          return (
            <tr key={i}>
              <td>{phaseName(p.phase)}</td>
              <td>{fmt.duration(p.endNs - p.startNs)}</td>
              <td>{e ? fmt.energy(e.totalMj) : "—"}</td>
              <td>{e ? fmt.energy(e.dynamicMj) : "—"}</td>
              <td>{e ? attributionLabel(e.attribution) : "none"}</td>
              <td>{e ? qualityLabel(e.quality) : "—"}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function Warnings(props: { warnings: readonly Warning[] }) {
  if (props.warnings.length === 0) return <p className="muted" data-testid="warnings">No warnings.</p>;
  return (
    <ul className="warnings" data-testid="warnings">
      {props.warnings.map((w, i) => <li key={i}><code>{w.code}</code> {w.message}</li>)}
    </ul>
  );
}
