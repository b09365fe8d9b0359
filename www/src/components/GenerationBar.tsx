// The product hooks' summary of one generator: generationStatus (message,
// progress, estimated time), the channel of the current generation
// (connectionStatus / isConnected), stopGeneration and forceCheckResults, and
// the latest finished item (currentGeneration) with download / copy / dismiss.
import { useEffect, useState } from "react";
import type { CheckOutcome, ConnectionStatus, GeneratedItem, GenerationStatus } from "../hooks/useGenerator";
import { duration, shortId } from "../format";
import { useNow } from "../hooks/useNow";

const CONNECTION_LABEL: Record<ConnectionStatus, string> = {
  disconnected: "idle",
  connecting: "connecting…",
  connected: "SSE connected",
  polling: "polling",
};

const CHECK_LABEL: Record<CheckOutcome, string> = {
  restarted: "asked the server again",
  completed: "found the result",
  failed: "the generation failed",
  not_ready: "not ready yet",
  nothing: "nothing to check",
};

export interface GeneratorView {
  generationStatus: GenerationStatus;
  currentGeneration: GeneratedItem | null;
  isGenerating: boolean;
  isConnected: boolean;
  connectionStatus: ConnectionStatus;
  forceCheckResults(): Promise<CheckOutcome>;
  stopGeneration(): boolean;
  clearCurrentGeneration(): void;
  download(item: GeneratedItem): Promise<boolean>;
  copy(item: GeneratedItem): Promise<boolean>;
}

export function GenerationBar({ kind, view }: { kind: "image" | "video"; view: GeneratorView }) {
  const { generationStatus: s, currentGeneration: current, connectionStatus } = view;
  const [checked, setChecked] = useState<string | null>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  // the estimate counts down between reports
  const [estimate, setEstimate] = useState({ ms: 0, at: Date.now() });
  useEffect(() => setEstimate({ ms: s.estimatedTime, at: Date.now() }), [s.estimatedTime]);
  const now = useNow(500, view.isGenerating && s.estimatedTime > 0);
  useEffect(() => {
    if (copied === null && checked === null) return;
    const t = setTimeout(() => {
      setCopied(null);
      setChecked(null);
    }, 2500);
    return () => clearTimeout(t);
  }, [copied, checked]);

  if (s.status === "idle" && !current) return null;
  const running = s.status === "pending" || s.status === "processing";
  const left = Math.max(0, estimate.ms - (now - estimate.at));
  const label = kind === "video" ? "Video" : "Image";

  return (
    <div
      className={`genbar genbar--${s.status}`}
      data-testid={`status-${kind}`}
      data-status={s.status}
      data-connection={connectionStatus}
      data-file-id={s.fileId}
    >
      <div className="genbar__row">
        <span className={`kind kind--${kind}`}>{label}</span>
        <span className="genbar__message" data-testid={`status-${kind}-message`}>
          {s.message || "—"}
        </span>
        {running && <span className="genbar__figure">{s.progress} %</span>}
        {running && s.estimatedTime > 0 && <span className="muted genbar__figure">≈ {duration(left)} left</span>}
        <span
          className={`pill pill--${view.isConnected ? "ok" : connectionStatus === "polling" ? "wait" : "plain"}`}
          data-testid={`connection-${kind}`}
          title="The channel of the current generation"
        >
          {CONNECTION_LABEL[connectionStatus]}
        </span>
        <span className="genbar__spacer" />
        {checked && <span className="muted">{checked}</span>}
        <button
          type="button"
          className="mini-button"
          data-testid={`check-${kind}`}
          disabled={!s.fileId || s.status === "completed"}
          onClick={() => void view.forceCheckResults().then((o) => setChecked(CHECK_LABEL[o]))}
        >
          Check now
        </button>
        <button
          type="button"
          className="mini-button"
          data-testid={`stop-${kind}`}
          disabled={!view.isGenerating}
          onClick={() => view.stopGeneration()}
        >
          Stop
        </button>
      </div>
      {current && (
        <div className="genbar__current" data-testid={`current-${kind}`} data-file-id={current.fileId}>
          <span className="muted">Latest {kind}:</span>
          <span className="genbar__prompt" title={current.prompt}>
            {current.prompt}
          </span>
          <span className="mono muted">file {shortId(current.fileId)}</span>
          <span className="genbar__spacer" />
          <a className="mini-button" href={current.url} target="_blank" rel="noopener noreferrer">
            Open
          </a>
          <button type="button" className="mini-button" onClick={() => void view.download(current)}>
            Download
          </button>
          <button type="button" className="mini-button" onClick={() => void view.copy(current).then(setCopied)}>
            {copied === true ? "Copied" : copied === false ? "Copy failed" : "Copy url"}
          </button>
          <button
            type="button"
            className="icon-button"
            aria-label={`Dismiss the latest ${kind}`}
            title="clearCurrentGeneration()"
            onClick={view.clearCurrentGeneration}
          >
            ×
          </button>
        </div>
      )}
    </div>
  );
}
