import { useEffect, useRef, useState } from "react";
import type { PollingManager, PollingMetrics } from "@react/hooks";
import { isRetired } from "@react/hooks";
import { getStats, resetStats, type Stats } from "../api";
import type { Generation } from "../hooks/useGenerator";
import { duration, percent, shortId } from "../format";
import { perSecond, RATE_WINDOW, RequestRateChart } from "./RequestRateChart";
import { TimelineChart } from "./TimelineChart";

/** Tokens as the panel shows them: whole numbers as they are, the rest to one decimal. */
function tokens(n: number): string {
  if (!Number.isFinite(n)) return "—";
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** The retry budget of each origin the manager has sent to ("" is the page's own). */
function budgetRows(budget: PollingMetrics["retryBudget"] | undefined): Array<{ origin: string; left: number }> {
  if (!budget) return [];
  const entries = Object.entries(budget.tokens ?? {}).filter(([, n]) => typeof n === "number");
  if (!entries.length) return [{ origin: "", left: budget.size }];
  return entries.map(([origin, left]) => ({ origin, left }));
}

function useEverySecond(fn: (signal: AbortSignal) => void | Promise<void>, deps: unknown[]) {
  useEffect(() => {
    let busy = false;
    const controller = new AbortController();
    const tick = async () => {
      if (busy) return; // never pile requests up behind a slow server
      busy = true;
      try {
        await fn(controller.signal);
      } finally {
        busy = false;
      }
    };
    void tick();
    const t = setInterval(tick, 1000);
    return () => {
      clearInterval(t);
      controller.abort();
    };
  }, deps);
}

export function MetricsPanel({
  manager,
  generations,
}: {
  manager: PollingManager | null;
  generations: Generation[];
}) {
  const [metrics, setMetrics] = useState<PollingMetrics | null>(null);
  const [active, setActive] = useState(0);
  const [stats, setStats] = useState<Stats | null>(null);
  const [statsError, setStatsError] = useState<string | null>(null);

  useEverySecond(() => {
    if (!manager || isRetired(manager)) return;
    setMetrics(manager.metrics());
    setActive(manager.activeCount);
  }, [manager]);

  // The server's timeline is in ms since its start; extrapolate "now" on that
  // clock from when its last point changed, so the line runs on to the present.
  const anchor = useRef<{ last: number; at: number } | null>(null);
  const [serverNow, setServerNow] = useState<number | undefined>(undefined);

  useEverySecond(async (signal) => {
    try {
      const s = await getStats(signal);
      if (signal.aborted) return;
      const tl = Array.isArray(s?.timeline) ? s.timeline : [];
      const last = tl.length ? tl[tl.length - 1][0] : null;
      if (last == null) anchor.current = null;
      else if (!anchor.current || anchor.current.last !== last) anchor.current = { last, at: Date.now() };
      setServerNow(anchor.current ? anchor.current.last + (Date.now() - anchor.current.at) : undefined);
      setStats(s);
      setStatsError(null);
    } catch (e) {
      if (!signal.aborted) setStatsError((e as Error).message);
    }
  }, []);

  const byFile = new Map(generations.filter((g) => g.fileId).map((g) => [g.fileId!, g]));
  const jobs = Object.entries(stats?.byJob ?? {}).reverse();
  const errors = Object.entries(metrics?.errorDistribution ?? {}).filter(([, n]) => (n ?? 0) > 0);
  const finished = metrics?.completedJobs ?? 0;
  const rate = perSecond(stats?.buckets, stats?.buckets429, stats?.bucketMs, serverNow);
  const recent = rate.slice(-5);
  const recentRate = recent.length ? recent.reduce((n, s) => n + s.requests, 0) / recent.length : null;
  const bucketsEnded = (serverNow ?? 0) > 600_000;
  const budget = metrics?.retryBudget;
  const origins = budgetRows(budget);

  return (
    <section className="panel metrics" data-testid="metrics" aria-labelledby="metrics-title">
      <div className="panel__head">
        <h2 id="metrics-title">Metrics</h2>
        <button
          type="button"
          className="link-button"
          onClick={() => {
            resetStats().then(
              () => setStats(null),
              (e: Error) => setStatsError(e.message),
            );
          }}
        >
          Reset server stats
        </button>
      </div>
      <p className="panel__sub">
        Client side from <code>manager.metrics()</code>, server side from <code>/api/stats</code>, refreshed every second.
      </p>

      <div className="tiles">
        <div className="tile" data-testid="metric-average-time">
          <span>Avg completion</span>
          <strong>{finished && metrics?.averageCompletionTime ? duration(metrics.averageCompletionTime) : "—"}</strong>
        </div>
        <div className="tile" data-testid="metric-success-rate">
          <span>Success rate</span>
          <strong>{finished ? percent(metrics?.successRate) : "—"}</strong>
        </div>
        <div className="tile" data-testid="metric-average-attempts">
          <span>Avg attempts</span>
          <strong>{finished ? (metrics?.averageAttempts ?? 0).toFixed(1) : "—"}</strong>
        </div>
        <div className="tile" data-testid="metric-client-requests">
          <span>Client requests</span>
          <strong>{metrics?.totalRequests ?? 0}</strong>
        </div>
        <div className="tile" data-testid="metric-server-requests">
          <span>Server requests</span>
          <strong>{stats?.total ?? "—"}</strong>
        </div>
        <div className="tile" data-testid="metric-jobs">
          <span>Running · done</span>
          <strong>
            {active} · {finished}
          </strong>
        </div>
        <div className="tile" data-testid="metric-request-rate" title="Requests per second the server saw, over the last 5 s">
          <span>Server req/s</span>
          <strong>{stats?.buckets && recentRate != null ? recentRate.toFixed(1) : "—"}</strong>
        </div>
      </div>

      <div className="budget" data-testid="retry-budget">
        <span
          className="budget__title"
          title="This tab's manager: early retries after errors (5xx, network, timeouts) spend a token; good responses earn tokens back. With none left, jobs wait for their next scheduled poll. A tab that only follows other tabs sends nothing and keeps its tokens."
        >
          Retry budget <span className="muted">(this tab)</span>
        </span>
        {budget ? (
          <>
            {origins.map(({ origin, left }) => (
              <span className="budget__origin" key={origin} data-testid="retry-budget-origin" data-origin={origin} data-tokens={left}>
                <span className="budget__name">{origin || "this origin"}</span>
                <span
                  className={`meter${left < 1 ? " meter--empty" : ""}`}
                  role="meter"
                  aria-label={`Retry tokens left for ${origin || "this origin"}`}
                  aria-valuemin={0}
                  aria-valuemax={budget.size}
                  aria-valuenow={left}
                >
                  <span style={{ width: `${budget.size > 0 ? Math.min(100, (left / budget.size) * 100) : 0}%` }} />
                </span>
                <strong>
                  {tokens(left)} / {tokens(budget.size)}
                </strong>
                {left < 1 ? <span className="warn">spent: jobs retry on schedule</span> : null}
              </span>
            ))}
            <span className="muted">+{tokens(budget.refill)} per good response</span>
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </div>

      <div className="errors">
        <span className="errors__title">Errors</span>
        {errors.length ? (
          errors.map(([kind, n]) => (
            <span className="chip" key={kind}>
              <code>{kind}</code> × {n}
            </span>
          ))
        ) : (
          <span className="muted">none so far</span>
        )}
      </div>

      <div className="chart-wrap" data-testid="request-rate">
        <div className="chart-wrap__head">
          <span>Server requests per second, last {RATE_WINDOW} s</span>
          <span className="legend">
            <span className="legend__swatch" aria-hidden="true" /> requests
            <span className="legend__swatch legend__swatch--429" aria-hidden="true" /> 429
          </span>
        </div>
        {stats && !stats.buckets ? (
          <p className="muted chart-note">This server does not report request buckets.</p>
        ) : (
          <RequestRateChart seconds={rate} />
        )}
        {bucketsEnded ? (
          <p className="muted chart-note">The server keeps buckets for 10 minutes: reset the server stats to follow the rate again.</p>
        ) : null}
      </div>

      <div className="chart-wrap">
        <div className="chart-wrap__head">
          <span>Server requests over time</span>
          {statsError ? <span className="warn">stats unavailable: {statsError}</span> : null}
        </div>
        <TimelineChart timeline={stats?.timeline ?? []} now={serverNow} />
      </div>

      <div className="table-wrap">
        <table className="jobs-table">
          <thead>
            <tr>
              <th>Job</th>
              <th>Channel</th>
              <th className="num" title="GET /api/file/{id}">
                File
              </th>
              <th className="num" title="GET /api/project/{id}">
                Project
              </th>
              <th className="num" title="GET /api/events/file.{id}">
                Events
              </th>
              <th className="num">Total</th>
            </tr>
          </thead>
          <tbody>
            {jobs.length ? (
              jobs.map(([fileId, j]) => {
                const g = byFile.get(fileId);
                return (
                  <tr key={fileId} data-testid="metrics-job" data-file-id={fileId}>
                    <td>
                      <span className="mono">{shortId(fileId)}</span>
                      {g ? <span className="table-prompt"> {g.prompt}</span> : null}
                    </td>
                    <td>{g ? (g.channel === "sse" ? "SSE" : "Polling") : "—"}</td>
                    <td className="num">{j.file ?? 0}</td>
                    <td className="num">{j.project ?? 0}</td>
                    <td className="num">{j.events ?? 0}</td>
                    <td className="num strong">{j.total ?? 0}</td>
                  </tr>
                );
              })
            ) : (
              <tr>
                <td colSpan={6} className="muted empty-row">
                  Requests per job show up here once a job starts.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
