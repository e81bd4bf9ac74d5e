// The layer × component heatmap on a canvas: a viridis cell per figure, grey where the layer has
// no such part, a legend with the scale, and a readout of the cell under the pointer (or the one
// moved to with the arrow keys once the canvas has focus).
import { useEffect, useRef, useState } from "react";
import { matrixValues, METRIC_LABELS, type Matrix } from "../shape/layers";
import { viridisScale } from "../shape/colour";
import * as fmt from "../format";

const ROW_H = 18;
const LABEL_W = 110;
const HEAD_H = 86;

function cellText(m: Matrix, v: number | null): string {
  if (v === null) return "no figure";
  switch (m.metric) {
    case "time": return `${fmt.number(v)} ms`;
    case "energy": case "dynamic": return fmt.energy(v);
    default: return fmt.number(v);
  }
}

export function Heatmap(props: { matrix: Matrix; token?: number | "all"; onDrawn?: () => void; caption?: string; empty?: string }) {
  const { matrix } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(600);
  const [cursor, setCursor] = useState<[number, number] | null>(null);
  const scale = viridisScale(matrixValues(matrix));
  const rows = matrix.rows.length, cols = matrix.cols.length;
  const height = HEAD_H + rows * ROW_H;
  const cellW = cols ? Math.max(8, (width - LABEL_W) / cols) : 0;
  const canvasW = Math.max(width, LABEL_W + cols * cellW);  // many heads: scrolled, not clipped
  let filled = 0;
  for (const r of matrix.values) for (const v of r) if (v !== null) ++filled;

  useEffect(() => {
    const el = box.current!;
    const ro = new ResizeObserver(() => setWidth(Math.max(240, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const c = canvas.current!;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(canvasW * dpr);
    c.height = Math.round(height * dpr);
    const ctx = c.getContext("2d")!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, canvasW, height);
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#222";
    ctx.textBaseline = "middle";
    for (let r = 0; r < rows; ++r) ctx.fillText(matrix.rows[r], 2, HEAD_H + r * ROW_H + ROW_H / 2, LABEL_W - 6);
    for (let col = 0; col < cols; ++col) {
      ctx.save();
      ctx.translate(LABEL_W + col * cellW + cellW / 2, HEAD_H - 4);
      ctx.rotate(-Math.PI / 3);
      ctx.fillText(matrix.cols[col], 0, 0, HEAD_H * 1.1);
      ctx.restore();
    }
    for (let r = 0; r < rows; ++r) {
      for (let col = 0; col < cols; ++col) {
        const v = matrix.values[r][col];
        ctx.fillStyle = v === null ? "#e6e6e6" : scale.colour(v);
        ctx.fillRect(LABEL_W + col * cellW, HEAD_H + r * ROW_H, Math.max(1, cellW - 1), ROW_H - 1);
      }
    }
    if (cursor) {
      ctx.strokeStyle = "#d00";
      ctx.lineWidth = 2;
      ctx.strokeRect(LABEL_W + cursor[1] * cellW, HEAD_H + cursor[0] * ROW_H, cellW - 1, ROW_H - 1);
    }
    props.onDrawn?.();
  });

  const at = (ev: React.MouseEvent): [number, number] | null => {
    const rect = canvas.current!.getBoundingClientRect();
    const x = ev.clientX - rect.left, y = ev.clientY - rect.top;
    const col = Math.floor((x - LABEL_W) / cellW), r = Math.floor((y - HEAD_H) / ROW_H);
    return r >= 0 && r < rows && col >= 0 && col < cols ? [r, col] : null;
  };
  const onKey = (ev: React.KeyboardEvent) => {
    if (!rows || !cols) return;
    const [r, c] = cursor ?? [0, 0];
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
    };
    const m = moves[ev.key];
    if (!m) return;
    ev.preventDefault();
    setCursor([Math.min(rows - 1, Math.max(0, r + m[0])), Math.min(cols - 1, Math.max(0, c + m[1]))]);
  };
  const readout = cursor && cursor[0] < rows && cursor[1] < cols
    ? `${matrix.rows[cursor[0]]}, ${matrix.cols[cursor[1]]}: ${cellText(matrix, matrix.values[cursor[0]][cursor[1]])}`
    : "Point at a cell (or focus the map and use the arrow keys) to read its figure.";
  return (
    <div ref={box} className="heatmap" data-testid="heatmap" data-cells={filled}
         data-token={props.token === undefined ? "all" : String(props.token)}>
      {rows === 0 ? <p className="empty">{props.empty ?? "No per-layer figures (the run's detail level records none)."}</p> : null}
      <div hidden={rows === 0}>
      <canvas
        ref={canvas} style={{ width: canvasW, height }} tabIndex={0} role="img"
        aria-label={`${METRIC_LABELS[matrix.metric]} by layer and ${matrix.metric.startsWith("head_") ? "head" : "component"}`}
        onMouseMove={(e) => setCursor(at(e))} onMouseLeave={() => setCursor(null)} onKeyDown={onKey}
      />
      <div className="legend-row">
        <span>{METRIC_LABELS[matrix.metric]}</span>
        <span>{cellText(matrix, scale.min)}</span>
        <span className="viridis-bar" aria-hidden="true" />
        <span>{cellText(matrix, scale.max)}</span>
        {props.caption ? <span className="muted">{props.caption}</span> : null}
      </div>
      <p className="readout" aria-live="polite">{readout}</p>
      </div>
    </div>
  );
}
