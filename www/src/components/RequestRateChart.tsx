// The server's request rate, requests per second over the last minute, from
// its per-100-ms buckets (GET /api/stats?buckets=1), as an inline SVG bar
// chart: 429s in their own colour on top of the rest. During an outage (the
// fault panel's 5xx) the bars stay about as high as before it: the manager's
// retry budget keeps jobs on their schedule instead of retrying early, and
// tabs share one poller per generation.

const W = 640;
const H = 150;
const PAD = { left: 40, right: 12, top: 12, bottom: 24 };
/** Seconds shown. */
export const RATE_WINDOW = 60;

export interface RateSecond {
  /** Seconds since the stats were reset (the second [t, t + 1)). */
  t: number;
  requests: number;
  rateLimited: number;
}

/**
 * Requests per whole second, for the `RATE_WINDOW` complete seconds before
 * `now` (ms since the reset on the server's clock). Buckets past the end of
 * the array had no request.
 */
export function perSecond(
  buckets: readonly number[] | undefined,
  buckets429: readonly number[] | undefined,
  bucketMs: number | undefined,
  now: number | undefined,
): RateSecond[] {
  const list = Array.isArray(buckets) ? buckets : [];
  const limited = Array.isArray(buckets429) ? buckets429 : [];
  const width = typeof bucketMs === "number" && bucketMs > 0 ? bucketMs : 100;
  const perS = Math.max(1, Math.round(1000 / width));
  const end = Math.floor(Math.max(now ?? 0, list.length * width) / 1000); // the current, partial second
  const out: RateSecond[] = [];
  for (let t = end - RATE_WINDOW; t < end; t++) {
    let requests = 0;
    let rateLimited = 0;
    if (t >= 0) {
      for (let i = t * perS; i < (t + 1) * perS; i++) {
        const n = list[i];
        const m = limited[i];
        if (typeof n === "number" && Number.isFinite(n)) requests += n;
        if (typeof m === "number" && Number.isFinite(m)) rateLimited += m;
      }
    }
    out.push({ t, requests, rateLimited });
  }
  return out;
}

function niceMax(v: number): number {
  if (v <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function RequestRateChart({ seconds }: { seconds: RateSecond[] }) {
  const yMax = niceMax(seconds.reduce((m, s) => Math.max(m, s.requests), 0));
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const slot = iw / Math.max(1, seconds.length);
  const y = (v: number) => PAD.top + ih - (v / yMax) * ih;
  const yTicks = [0, yMax / 2, yMax];

  return (
    <svg
      className="chart chart--rate"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label="Server requests per second over the last minute"
    >
      {yTicks.map((v) => (
        <g key={`y${v}`}>
          <line className="chart__grid" x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
          <text className="chart__label" x={PAD.left - 8} y={y(v) + 4} textAnchor="end">
            {Number.isInteger(v) ? v : v.toFixed(1)}
          </text>
        </g>
      ))}
      {seconds.map((s, i) => {
        const x = PAD.left + i * slot + 1;
        const w = Math.max(1, slot - 2);
        const ok = s.requests - s.rateLimited;
        return (
          <g key={s.t} data-testid="request-rate-bar" data-second={s.t} data-requests={s.requests} data-rate-limited={s.rateLimited}>
            <title>{`${s.requests} request${s.requests === 1 ? "" : "s"}${s.rateLimited ? ` (${s.rateLimited} answered 429)` : ""} in second ${s.t}`}</title>
            {ok > 0 && <rect className="chart__bar" x={x} width={w} y={y(ok)} height={y(0) - y(ok)} />}
            {s.rateLimited > 0 && (
              <rect className="chart__bar chart__bar--429" x={x} width={w} y={y(s.requests)} height={y(ok) - y(s.requests)} />
            )}
          </g>
        );
      })}
      {[0, 15, 30, 45, 60].map((ago) => {
        const x = PAD.left + ((RATE_WINDOW - ago) / RATE_WINDOW) * iw;
        return (
          <text
            key={ago}
            className="chart__label"
            x={x}
            y={H - 8}
            textAnchor={ago === RATE_WINDOW ? "start" : ago === 0 ? "end" : "middle"}
          >
            {ago === 0 ? "now" : `−${ago}s`}
          </text>
        );
      })}
    </svg>
  );
}
