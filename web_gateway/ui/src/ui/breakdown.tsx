// A run's energy drawn as shapes (SVG): the treemap model → layer → component, the pipeline
// timeline of phases, the energy flow (Sankey) and grouped bars of compared runs' phases.
import { useEffect, useRef, useState } from "react";
import { sankey, sankeyLinkHorizontal, type SankeyLink, type SankeyNode } from "d3-sankey";
import { layoutTreemap, type EnergyNode, type Flow, type TimelineBar } from "../shape/breakdown";
import { channelColour, PHASE_COLOURS, textOn, viridisScale } from "../shape/colour";
import { phaseName } from "../names";
import * as fmt from "../format";

function useWidth(min = 240): [React.RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [w, setW] = useState(600);
  useEffect(() => {
    const el = ref.current!;
    const ro = new ResizeObserver(() => setW(Math.max(min, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, [min]);
  return [ref, w];
}

export function Treemap(props: { tree: EnergyNode; onDrawn?: () => void }) {
  const [ref, width] = useWidth();
  const height = 320;
  const root = layoutTreemap(props.tree, width, height);
  const leaves = root.leaves();
  const scale = viridisScale(leaves.map((l) => l.value ?? 0));
  const total = root.value ?? 0;
  useEffect(() => props.onDrawn?.());
  return (
    <div ref={ref} data-testid="treemap" data-leaves={leaves.length}>
      <svg width={width} height={height} role="img" aria-label={`energy of ${props.tree.name} by layer and component`}>
        {root.children?.map((layer) => (
          <g key={layer.data.name}>
            <rect x={layer.x0} y={layer.y0} width={layer.x1 - layer.x0} height={layer.y1 - layer.y0} fill="#f2f2f2" stroke="#bbb" />
            {layer.y1 - layer.y0 > 14 && layer.x1 - layer.x0 > 40 ? (
              <text x={layer.x0 + 3} y={layer.y0 + 11} fontSize={11}>{layer.data.name}</text>
            ) : null}
          </g>
        ))}
        {leaves.map((leaf, i) => {
          const v = leaf.value ?? 0;
          const w = leaf.x1 - leaf.x0, h = leaf.y1 - leaf.y0;
          const parent = leaf.parent && leaf.parent !== root ? `${leaf.parent.data.name} · ` : "";
          return (
            <g key={i}>
              <rect x={leaf.x0} y={leaf.y0} width={w} height={h} fill={scale.colour(v)}>
                <title>{`${parent}${leaf.data.name}: ${fmt.energy(v)} (${fmt.number((100 * v) / (total || 1))}%)`}</title>
              </rect>
              {w > 56 && h > 14 ? (
                <text x={leaf.x0 + 3} y={leaf.y0 + 12} fontSize={10} fill={textOn(scale.position(v))}>{leaf.data.name}</text>
              ) : null}
            </g>
          );
        })}
      </svg>
    </div>
  );
}

export function Timeline(props: { bars: readonly TimelineBar[]; phaseIds: readonly number[]; onDrawn?: () => void }) {
  const [ref, width] = useWidth();
  const h = 36;
  useEffect(() => props.onDrawn?.());
  return (
    <div ref={ref} data-testid="timeline" data-bars={props.bars.length}>
      <svg width={width} height={h + 18} role="img" aria-label="phases of the run in time">
        {props.bars.map((b, i) => (
          <g key={i}>
            <rect x={b.start * width} y={0} width={Math.max(1, b.width * width)} height={h}
                  fill={(PHASE_COLOURS[props.phaseIds[i]] ?? "rgba(0,0,0,0.1)").replace(/0\.\d+\)$/, "0.7)")} stroke="#fff">
              <title>{`${b.phase}: ${fmt.duration(b.durationNs)}, ${fmt.energy(b.mj)} (${fmt.number(100 * b.energyShare)}% of the energy)`}</title>
            </rect>
            {b.width * width > 60 ? <text x={b.start * width + 3} y={h / 2 + 4} fontSize={11}>{b.phase}</text> : null}
          </g>
        ))}
      </svg>
      <table className="compact">
        <thead><tr><th>phase</th><th>duration</th><th>energy</th><th>share of energy</th></tr></thead>
        <tbody>
          {props.bars.map((b, i) => (
            <tr key={i}><td>{b.phase}</td><td>{fmt.duration(b.durationNs)}</td><td>{fmt.energy(b.mj)}</td><td>{fmt.number(100 * b.energyShare)}%</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type SNode = SankeyNode<{ name: string }, object>;
type SLink = SankeyLink<{ name: string }, object>;

export function Sankey(props: { flow: Flow; onDrawn?: () => void }) {
  const [ref, width] = useWidth();
  const height = 260;
  const layout = sankey<{ name: string }, object>().nodeWidth(12).nodePadding(14)
    .extent([[1, 6], [width - 160, height - 6]]);  // room at the right for the last labels
  const graph = layout({
    nodes: props.flow.nodes.map((n) => ({ ...n })),
    links: props.flow.links.map((l) => ({ ...l })),
  });
  const path = sankeyLinkHorizontal();
  useEffect(() => props.onDrawn?.());
  return (
    <div ref={ref} data-testid="sankey" data-links={graph.links.length}>
      <svg width={width} height={height} role="img" aria-label="energy flow from the run to its phases and the parts of the model">
        {graph.links.map((l: SLink, i) => (
          <path key={i} d={path(l) ?? ""} fill="none" stroke={channelColour((l.target as SNode).index ?? 0)}
                strokeOpacity={0.45} strokeWidth={Math.max(1, l.width ?? 1)}>
            <title>{`${(l.source as SNode).name} → ${(l.target as SNode).name}: ${fmt.energy(l.value)}`}</title>
          </path>
        ))}
        {graph.nodes.map((n: SNode, i) => (
          <g key={i}>
            <rect x={n.x0} y={n.y0} width={(n.x1 ?? 0) - (n.x0 ?? 0)} height={Math.max(1, (n.y1 ?? 0) - (n.y0 ?? 0))} fill="#555" />
            <text x={(n.x1 ?? 0) + 4} y={((n.y0 ?? 0) + (n.y1 ?? 0)) / 2 + 4} fontSize={11}>
              {`${n.name} ${fmt.energy(n.value ?? 0)}`}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}

/** One group per phase, one bar per run, mJ; the runs' colours match the overlays'. */
export function GroupedBars(props: { groups: readonly { phase: number; mj: number[] }[]; runs: readonly string[] }) {
  const [ref, width] = useWidth();
  const height = 220, left = 60, bottom = 24;
  const max = Math.max(1e-9, ...props.groups.flatMap((g) => g.mj));
  const gw = (width - left) / Math.max(1, props.groups.length);
  const bw = Math.max(2, (gw - 12) / Math.max(1, props.runs.length));
  const y = (v: number) => (height - bottom) * (1 - v / max);
  return (
    <div ref={ref} data-testid="phase-bars" data-groups={props.groups.length}>
      <svg width={width} height={height} role="img" aria-label="energy per phase, one bar per run">
        <text x={0} y={10} fontSize={10}>{fmt.energy(max)}</text>
        <line x1={left} x2={width} y1={height - bottom} y2={height - bottom} stroke="#999" />
        {props.groups.map((g, gi) => (
          <g key={g.phase}>
            {g.mj.map((v, ri) => (
              <rect key={ri} x={left + gi * gw + 6 + ri * bw} y={y(v)} width={bw - 2} height={height - bottom - y(v)} fill={channelColour(ri)}>
                <title>{`${phaseName(g.phase)}, ${props.runs[ri]}: ${fmt.energy(v)}`}</title>
              </rect>
            ))}
            <text x={left + gi * gw + 6} y={height - 8} fontSize={11}>{phaseName(g.phase)}</text>
          </g>
        ))}
      </svg>
      <div className="legend-row">
        {props.runs.map((r, i) => <span key={r}><span className="swatch" style={{ background: channelColour(i) }} /> {r}</span>)}
      </div>
    </div>
  );
}
