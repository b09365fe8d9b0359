import { memo, useEffect, useState } from "react";
import { isRunning, percentOf, statusMessage, type Generation } from "../hooks/useGenerator";
import { useNow } from "../hooks/useNow";
import { duration, shortId } from "../format";

const STATUS_LABEL: Record<Generation["status"], string> = {
  pending: "Pending",
  processing: "Processing",
  completed: "Completed",
  error: "Failed",
  stopped: "Stopped",
};

/** What a card can ask for; each takes the generation (routed to its hook by kind). */
export interface JobActions {
  remove(g: Generation): void;
  stop(g: Generation): void;
  check(g: Generation): void;
  download(g: Generation): void;
  copy(g: Generation): Promise<boolean>;
}

function isVideo(g: Generation): boolean {
  if (g.contentType) return g.contentType.startsWith("video/");
  return g.kind === "video";
}

export const JobCard = memo(function JobCard({
  generation: g,
  actions,
}: {
  generation: Generation;
  actions: JobActions;
}) {
  const active = isRunning(g);
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(null), 1500);
    return () => clearTimeout(t);
  }, [copied]);
  const checkable = !active && g.status !== "completed" && !!g.fileId && g.error?.kind !== "generation_failed";
  const now = useNow(200, active);
  const p = g.progress;
  const since = p ? Math.max(0, now - g.progressAt) : 0;

  const elapsed = (g.finishedAt ?? now) - g.createdAt;
  const eta =
    active && p && typeof p.estimatedTimeRemaining === "number"
      ? Math.max(0, p.estimatedTimeRemaining - since)
      : null;
  const nextPoll = !active || !p ? null : p.nextPollIn > 0 ? Math.max(0, p.nextPollIn - since) : 0;
  const pct = percentOf(g, now);
  const fromStream = typeof p?.progress === "number";
  const channel = g.channel;

  // A generation shared with the demo's other tabs: which one sends its requests.
  const tab = p?.tab;
  const tabLabel =
    tab === "leader"
      ? active
        ? "this tab polls"
        : "this tab polled"
      : tab === "follower"
        ? active
          ? "another tab polls"
          : "another tab polled"
        : null;

  let nextLabel = "—";
  if (active && !g.fileId) nextLabel = "submitting";
  else if (nextPoll === 0) nextLabel = channel === "sse" ? "streaming" : "in flight";
  else if (nextPoll != null) nextLabel = duration(nextPoll);

  return (
    <article
      className={`job job--${g.status}`}
      data-testid="job"
      data-status={g.status}
      data-channel={channel}
      data-file-id={g.fileId ?? ""}
      data-kind={g.kind}
      data-terminals={g.terminals}
      data-resumed={g.resumed ? "true" : undefined}
    >
      <header className="job__head">
        <span className={`kind kind--${g.kind}`}>{g.kind === "video" ? "Video" : "Image"}</span>
        <span
          className={`badge badge--${channel}`}
          title={channel === "sse" ? "Server-Sent Events stream" : "Polling GET /api/file/{id}"}
        >
          {channel === "sse" ? "SSE" : "Polling"}
        </span>
        <span className={`status status--${g.status}`}>
          {active && <span className="pulse" aria-hidden="true" />}
          {STATUS_LABEL[g.status]}
        </span>
        <button
          type="button"
          className="icon-button"
          aria-label={active ? "Stop and remove" : "Remove"}
          title={active ? "Stop and remove" : "Remove"}
          onClick={() => actions.remove(g)}
        >
          ×
        </button>
      </header>

      <p className="job__prompt" title={g.prompt}>
        {g.prompt}
      </p>

      <div className={`job__media${isVideo(g) ? " job__media--video" : ""}`}>
        {g.status === "completed" && g.url ? (
          isVideo(g) ? (
            <video src={g.url} controls muted loop autoPlay playsInline preload="auto" />
          ) : (
            <img src={g.url} alt={g.prompt} loading="lazy" />
          )
        ) : g.status === "stopped" ? (
          <div className="job__placeholder job__placeholder--still">
            <span>{statusMessage(g)}</span>
          </div>
        ) : g.status === "error" ? (
          <div className="job__error" role="alert">
            <code className="error-kind">{g.error?.kind ?? "error"}</code>
            {g.error?.status && !g.error.message.includes(String(g.error.status)) ? (
              <span className="error-status">HTTP {g.error.status}</span>
            ) : null}
            <p>{g.error?.message ?? "Failed"}</p>
          </div>
        ) : (
          <div className="job__placeholder">
            <span className="spinner" aria-hidden="true" />
            <span>{statusMessage(g)}</span>
            {pct != null && <strong>{Math.round(pct)} %</strong>}
          </div>
        )}
      </div>

      <div
        className={`bar${pct == null && active ? " bar--indeterminate" : ""}${g.status === "error" ? " bar--error" : ""}`}
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct == null ? undefined : Math.round(pct)}
        aria-label="Progress"
      >
        <span style={{ width: `${g.status === "error" ? 100 : (pct ?? 0)}%` }} />
      </div>
      <div className="job__barlabel">
        <span>
          {g.status === "completed"
            ? "100 %"
            : g.status === "error" || g.status === "stopped"
              ? "stopped"
              : pct == null
                ? "waiting for an estimate"
                : `${Math.round(pct)} %`}
        </span>
        <span className="muted">
          {active ? (g.checking ? "checking" : fromStream ? "from the stream" : pct != null ? "estimated" : "") : ""}
        </span>
      </div>

      <dl className="job__stats">
        <div>
          <dt>Attempt</dt>
          <dd data-testid="job-attempt">{p ? `${p.attempt} / ${p.maxAttempts}` : "0"}</dd>
        </div>
        <div>
          <dt title={channel === "sse" ? "While the stream is open, a slow safety poll still runs" : "Time to the next GET /api/file/{id}"}>
            Next poll
          </dt>
          <dd data-testid="job-next-poll">{nextLabel}</dd>
        </div>
        <div>
          <dt>Elapsed</dt>
          <dd>{duration(elapsed)}</dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd>{active ? (eta == null ? "—" : eta === 0 ? "any moment" : duration(eta)) : "—"}</dd>
        </div>
      </dl>

      {active && g.lastRetry && now - g.lastRetry.at < g.lastRetry.delayMs + 1500 ? (
        <p className="job__retry">
          <code>{g.lastRetry.kind}</code> — retrying in {duration(Math.max(0, g.lastRetry.delayMs - (now - g.lastRetry.at)))}
        </p>
      ) : g.retries > 0 ? (
        <p className="job__retry job__retry--quiet">
          {g.retries} transient error{g.retries === 1 ? "" : "s"} retried
        </p>
      ) : null}

      <footer className="job__foot">
        <span className="mono" title={g.fileId ?? undefined}>
          file {shortId(g.fileId)}
        </span>
        {tab && tabLabel ? (
          <span
            className={`tab-role tab-role--${tab}`}
            data-testid="job-tab"
            data-tab={tab}
            title={
              tab === "leader"
                ? "This tab sends the requests (and holds the stream) and tells the demo's other tabs what it hears"
                : "Another tab of the demo sends the requests; this one hears every state from it and takes over if it closes"
            }
          >
            {tabLabel}
          </span>
        ) : null}
        {g.resumed && <span className="resumed" title="Running when the page was reloaded, watched again">resumed</span>}
        {!g.streamAllowed && <span className="muted">stream disabled</span>}
      </footer>

      {(active || checkable || g.status === "completed") && (
        <div className="job__actions">
          {g.status === "completed" && g.url ? (
            <>
              <button type="button" className="mini-button" data-testid="job-download" onClick={() => actions.download(g)}>
                Download
              </button>
              <button
                type="button"
                className="mini-button"
                data-testid="job-copy"
                onClick={() => void actions.copy(g).then((ok) => setCopied(ok ? "yes" : "no"))}
              >
                {copied === "yes" ? "Copied" : copied === "no" ? "Copy failed" : "Copy url"}
              </button>
            </>
          ) : null}
          {active && !g.checking && g.fileId ? (
            <button type="button" className="mini-button" data-testid="job-check" onClick={() => actions.check(g)} title="Ask the server now">
              Check now
            </button>
          ) : null}
          {active ? (
            <button type="button" className="mini-button" data-testid="job-stop" onClick={() => actions.stop(g)} title="Stop watching, keep the card">
              Stop
            </button>
          ) : null}
          {checkable ? (
            <button type="button" className="mini-button" data-testid="job-check" onClick={() => actions.check(g)} title="A short check for the result">
              Check again
            </button>
          ) : null}
        </div>
      )}
    </article>
  );
});
