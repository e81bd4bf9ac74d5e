// Time series with uPlot: the power chart (channels over phase bands) and line charts (per-token
// and per-layer energy, overlays of compared runs). One uPlot per component, made on mount,
// fed new data with setData (live charts redraw at most once per animation frame, by their page).
import { useEffect, useRef } from "react";
import uPlot, { type AlignedData, type Options } from "uplot";
import type { Channel } from "../gen/eprof/v1/power_pb";
import { Quality } from "../gen/eprof/v1/power_pb";
import { phaseName, qualityLabel } from "../names";
import type { Band, PowerSeries } from "../shape/power";
import { channelColour, PHASE_COLOURS } from "../shape/colour";

interface UPlotProps {
  /** Options without width/height; a new value (by identity) rebuilds the chart. */
  options: Omit<Options, "width" | "height">;
  data: AlignedData;
  height: number;
  /** x range to show; undefined = the data's. */
  xRange?: [number, number];
  testId?: string;
  /** Data attributes set on the container after each draw. */
  attrs?: Record<string, string | number>;
  onDrawn?: () => void;
}

function UPlot(props: UPlotProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const el = box.current!;
    const width = Math.max(200, el.clientWidth);
    const opts: Options = {
      ...props.options,
      width, height: props.height,
      hooks: {
        ...props.options.hooks,
        draw: [...(props.options.hooks?.draw ?? []), () => latest.current.onDrawn?.()],
      },
    };
    const u = new uPlot(opts, props.data, el);
    chart.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: latest.current.height });
    });
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); chart.current = null; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.options]);

  useEffect(() => {
    const u = chart.current;
    if (!u) return;
    const range = props.xRange;
    u.batch(() => {
      u.setData(props.data, range === undefined);
      if (range) u.setScale("x", { min: range[0], max: range[1] });
    });
  }, [props.data, props.xRange]);

  useEffect(() => {
    const el = box.current!;
    for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(`data-${k}`, String(v));
  });
  return <div ref={box} className="chart" data-testid={props.testId} />;
}

/** Draws the phases as light bands behind the series, each named at its top. */
function bandsHook(bands: () => readonly Band[]) {
  return (u: uPlot) => {
    const ctx = u.ctx;
    const { top, height } = u.bbox;
    ctx.save();
    ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
    ctx.textBaseline = "top";
    for (const b of bands()) {
      const x0 = u.valToPos(b.from, "x", true);
      const x1 = u.valToPos(b.to, "x", true);
      const left = Math.max(u.bbox.left, Math.min(x0, x1));
      const right = Math.min(u.bbox.left + u.bbox.width, Math.max(x0, x1));
      if (right <= left) continue;
      ctx.fillStyle = PHASE_COLOURS[b.phase] ?? "rgba(0,0,0,0.06)";
      ctx.fillRect(left, top, right - left, height);
      const label = phaseName(b.phase);
      if (ctx.measureText(label).width + 6 < right - left) {
        ctx.fillStyle = "#333";
        ctx.fillText(label, left + 3, top + 3);
      }
    }
    ctx.restore();
  };
}

export function channelLabel(c: Pick<Channel, "name" | "quality">): string {
  return `${c.name} (${qualityLabel(c.quality)})`;
}

interface PowerChartProps {
  series: PowerSeries;
  channels: readonly Channel[];
  bands: readonly Band[];
  xRange?: [number, number];
  height?: number;
  onDrawn?: () => void;
}

/** Watts per channel over time (s from the run's first phase), the phases as bands. */
export function PowerChart(props: PowerChartProps) {
  const bandsRef = useRef(props.bands);
  bandsRef.current = props.bands;
  const key = props.series.channels.join("\u0000");
  const quality = new Map(props.channels.map((c) => [c.name, c.quality]));
  const qkey = props.series.channels.map((n) => quality.get(n) ?? Quality.UNSPECIFIED).join(",");
  const options = useStableOptions(() => ({
    scales: { x: { time: false } },
    axes: [
      { label: "time since the run started (s)" },
      { label: "power (W)", size: 60 },
    ],
    series: [
      { label: "t (s)" },
      ...props.series.channels.map((name, i) => ({
        label: channelLabel({ name, quality: quality.get(name) ?? Quality.UNSPECIFIED }),
        stroke: channelColour(i),
        width: 1.5,
        spanGaps: false,
        value: (_u: uPlot, v: number | null) => (v === null ? "—" : `${v.toFixed(2)} W`),
      })),
    ],
    hooks: { drawClear: [bandsHook(() => bandsRef.current)] },
    legend: { live: true },
  }), [key, qkey]);
  const data: AlignedData = [props.series.x, ...props.series.y] as AlignedData;
  const estimated = props.series.channels.filter((n) => {
    const q = quality.get(n);
    return q === Quality.ESTIMATED || q === Quality.UNSPECIFIED;
  });
  return (
    <div>
      {estimated.length > 0 && (
        <p className="note estimate-note">
          <span className="tag estimate">estimate</span> {estimated.join(", ")}: modelled from CPU use,
          not measured by a sensor.
        </p>
      )}
      {props.series.x.length === 0 ? <p className="empty">No power samples yet.</p> : null}
      <UPlot
        options={options} data={data} height={props.height ?? 240} xRange={props.xRange}
        testId="power-chart" attrs={{ points: props.series.x.length }} onDrawn={props.onDrawn}
      />
    </div>
  );
}

interface LineChartProps {
  x: readonly number[];
  ys: readonly (readonly (number | null)[])[];
  labels: readonly string[];
  xLabel: string;
  yLabel: string;
  testId: string;
  /** Format of a y value in the legend. */
  unit?: string;
  /** Draw points instead of lines (categorical x, e.g. layers). */
  points?: boolean;
  height?: number;
  onDrawn?: () => void;
}

export function LineChart(props: LineChartProps) {
  const key = `${props.labels.join("\u0000")}|${props.xLabel}|${props.yLabel}|${props.points}`;
  const options = useStableOptions(() => ({
    scales: { x: { time: false } },
    // Whole-number ticks: token and layer indices.
    axes: [{ label: props.xLabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] },
           { label: props.yLabel, size: 60 }],
    series: [
      { label: props.xLabel },
      ...props.labels.map((label, i) => ({
        label, stroke: channelColour(i), width: 1.5,
        points: { show: props.points ?? false, size: 6 },
        paths: props.points ? () => null : undefined,
        value: (_u: uPlot, v: number | null) => (v === null ? "—" : `${v.toPrecision(4)}${props.unit ? ` ${props.unit}` : ""}`),
      })),
    ],
  }), [key]);
  const data = [props.x, ...props.ys] as unknown as AlignedData;
  return (
    <UPlot options={options} data={data} height={props.height ?? 220} testId={props.testId}
           attrs={{ points: props.x.length }} onDrawn={props.onDrawn} />
  );
}

/** Options rebuilt only when `key` changes, so a chart is not remade on every render. */
function useStableOptions(make: () => Omit<Options, "width" | "height">, key: readonly unknown[]) {
  const ref = useRef<{ key: string; options: Omit<Options, "width" | "height"> } | null>(null);
  const k = JSON.stringify(key);
  if (!ref.current || ref.current.key !== k) ref.current = { key: k, options: make() };
  return ref.current.options;
}
