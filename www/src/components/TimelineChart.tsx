// Requests over time as an inline SVG step line (no chart library).

const W = 640;
const H = 180;
const PAD = { left: 40, right: 12, top: 12, bottom: 26 };

function niceMax(v: number): number {
  if (v <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function downsample(points: Array<[number, number]>, max: number): Array<[number, number]> {
  if (points.length <= max) return points;
  const step = points.length / max;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < max; i++) out.push(points[Math.floor(i * step)]);
  out.push(points[points.length - 1]);
  return out;
}

/** `now`: the server clock (ms since its start) the line is drawn up to; defaults to the last point. */
export function TimelineChart({ timeline, now }: { timeline: Array<[number, number]>; now?: number }) {
  const pts = downsample(
    timeline.filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1])),
    400,
  );
  const lastT = pts.length ? pts[pts.length - 1][0] : 0;
  const tMax = Math.max(10_000, lastT, now ?? 0);
  const yMax = niceMax(pts.reduce((m, p) => Math.max(m, p[1]), 0));
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const x = (t: number) => PAD.left + (t / tMax) * iw;
  const y = (v: number) => PAD.top + ih - (v / yMax) * ih;

  let line = "";
  if (pts.length) {
    line = `M${x(0).toFixed(1)},${y(0).toFixed(1)}`;
    let prev = 0;
    for (const [t, v] of pts) {
      line += ` L${x(t).toFixed(1)},${y(prev).toFixed(1)} L${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      prev = v;
    }
    line += ` L${x(tMax).toFixed(1)},${y(prev).toFixed(1)}`;
  }
  const area = line ? `${line} L${x(tMax).toFixed(1)},${y(0).toFixed(1)} Z` : "";

  const yTicks = [0, yMax / 2, yMax];
  // x ticks on round seconds/minutes, at most ~6 of them
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((s) => s * 1000);
  const xStep = steps.find((s) => tMax / s <= 6) ?? tMax / 4;
  const xTicks: number[] = [];
  for (let t = 0; t <= tMax + 1; t += xStep) xTicks.push(t);
  const fmtT = (t: number) =>
    xStep >= 60_000 ? `${Math.round(t / 60_000)}m` : t >= 60_000 ? `${Math.floor(t / 60_000)}m${String(Math.round((t % 60_000) / 1000)).padStart(2, "0")}` : `${Math.round(t / 1000)}s`;

  return (
    <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Server requests over time">
      <defs>
        <linearGradient id="chart-fill" x1="0" x2="0" y1="0" y2="1">
          <stop offset="0%" stopColor="var(--accent)" stopOpacity="0.28" />
          <stop offset="100%" stopColor="var(--accent)" stopOpacity="0.02" />
        </linearGradient>
      </defs>
      {yTicks.map((v) => (
        <g key={`y${v}`}>
          <line className="chart__grid" x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
          <text className="chart__label" x={PAD.left - 8} y={y(v) + 4} textAnchor="end">
            {Number.isInteger(v) ? v : v.toFixed(1)}
          </text>
        </g>
      ))}
      {xTicks.map((t, i) => (
        <text
          key={`x${i}`}
          className="chart__label"
          x={x(t)}
          y={H - 8}
          textAnchor={i === 0 ? "start" : x(t) > W - PAD.right - 12 ? "end" : "middle"}
        >
          {fmtT(t)}
        </text>
      ))}
      {area && <path d={area} fill="url(#chart-fill)" />}
      {line && <path className="chart__line" d={line} />}
      {!pts.length && (
        <text className="chart__empty" x={W / 2} y={H / 2} textAnchor="middle">
          No requests yet
        </text>
      )}
    </svg>
  );
}
