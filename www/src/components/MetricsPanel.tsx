import { useEffect, useRef, useState } from "react";
import type { PollingManager, PollingMetrics } from "@react/usePolling";
import { isRetired } from "@react/usePolling";
import { getStats, resetStats, type Stats } from "../api";
import type { Generation } from "../hooks/useGenerator";
import { duration, percent, shortId } from "../format";
import { TimelineChart } from "./TimelineChart";

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
