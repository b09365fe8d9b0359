import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { usePollingContext } from "@react/hooks";
import { getHealth } from "./api";
import { FaultPanel } from "./components/FaultPanel";
import { GenerationBar, type GeneratorView } from "./components/GenerationBar";
import { JobCard, type JobActions } from "./components/JobCard";
import { MetricsPanel } from "./components/MetricsPanel";
import { Toasts, type Toast } from "./components/Toasts";
import { useFaults } from "./hooks/useFaults";
import { itemOf, type GeneratedItem, type Generation, type GeneratorOptions } from "./hooks/useGenerator";
import { isRunning } from "./hooks/useGenerator";
import { useImageGenerator } from "./hooks/useImageGenerator";
import { useVideoGenerator } from "./hooks/useVideoGenerator";

const EXAMPLES = [
  "A lighthouse on a basalt cliff at dawn, volumetric fog",
  "A paper boat drifting down a rainy neon street",
  "Macro shot of a hummingbird sipping from a fuchsia",
];

function useApiHealth(): "checking" | "online" | "offline" {
  const [health, setHealth] = useState<"checking" | "online" | "offline">("checking");
  useEffect(() => {
    const controller = new AbortController();
    const check = () =>
      getHealth(controller.signal).then(
        () => setHealth("online"),
        () => !controller.signal.aborted && setHealth("offline"),
      );
    void check();
    const t = setInterval(check, 5000);
    return () => {
      clearInterval(t);
      controller.abort();
    };
  }, []);
  return health;
}

/** The announcements: one toast per finished or failed generation (the hooks call these once). */
function useToasts(): { toasts: Toast[]; dismiss(key: number): void; announce: GeneratorOptions } {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  const next = useRef(0);
  const dismiss = useCallback((key: number) => {
    clearTimeout(timers.current.get(key));
    timers.current.delete(key);
    setToasts((list) => list.filter((t) => t.key !== key));
  }, []);
  const push = useCallback(
    (toast: Omit<Toast, "key">) => {
      const key = ++next.current;
      setToasts((list) => [...list.slice(-4), { ...toast, key }]);
      timers.current.set(key, setTimeout(() => dismiss(key), 8000));
    },
    [dismiss],
  );
  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const t of pending.values()) clearTimeout(t);
      pending.clear();
    };
  }, []);
  const announce = useMemo<GeneratorOptions>(
    () => ({
      onComplete(item: GeneratedItem) {
        push({
          tone: "ok",
          kind: item.kind,
          fileId: item.fileId,
          title: `${item.kind === "video" ? "Video" : "Image"} ready`,
          body: item.prompt,
        });
      },
      onError(g: Generation) {
        push({
          tone: "bad",
          kind: g.kind,
          fileId: g.fileId ?? "",
          title: `${g.kind === "video" ? "Video" : "Image"} failed`,
          body: g.error?.message ?? g.prompt,
        });
      },
    }),
    [push],
  );
  return { toasts, dismiss, announce };
}

export function App() {
  const manager = usePollingContext();
  const { toasts, dismiss, announce } = useToasts();
  const images = useImageGenerator(announce);
  const videos = useVideoGenerator(announce);
  const faults = useFaults();
  const health = useApiHealth();
  const [prompt, setPrompt] = useState(EXAMPLES[0]);
  const [disableStream, setDisableStream] = useState(false);

  const generations = useMemo(
    () => [...images.generations, ...videos.generations].sort((a, b) => b.createdAt - a.createdAt),
    [images.generations, videos.generations],
  );
  const running = generations.filter(isRunning);
  const streaming = running.filter((g) => g.channel === "sse").length;
  const ready = images.ready && videos.ready;

  const submit = (kind: "image" | "video") => {
    if (!prompt.trim() || !ready) return;
    const form = { prompt, useStream: !disableStream, faults: faults.takeJobFaults() };
    void (kind === "image" ? images.generateImage(form) : videos.generateVideo(form));
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit("image");
  };

  const { deleteImage, stopGeneration: stopImage, forceCheckResults: checkImage, downloadImage, copyImageUrl } = images;
  const { deleteVideo, stopGeneration: stopVideo, forceCheckResults: checkVideo, downloadVideo, copyVideoUrl } = videos;
  // stable (the hooks' functions are), so the memoised cards do not re-render for nothing
  const actions = useMemo<JobActions>(
    () => ({
      remove: (g) => (g.kind === "video" ? deleteVideo : deleteImage)(g.id),
      stop: (g) => void (g.kind === "video" ? stopVideo : stopImage)(g.id),
      check: (g) => void (g.kind === "video" ? checkVideo : checkImage)(g.id),
      // the item, not the bare url: the file is named after its kind and id
      download: (g) => {
        const item = itemOf(g);
        if (item) void (g.kind === "video" ? downloadVideo : downloadImage)(item);
      },
      copy: async (g) => !!g.url && (g.kind === "video" ? copyVideoUrl : copyImageUrl)(g.url),
    }),
    [deleteImage, deleteVideo, stopImage, stopVideo, checkImage, checkVideo, downloadImage, downloadVideo, copyImageUrl, copyVideoUrl],
  );

  const imageView: GeneratorView = {
    ...images,
    forceCheckResults: () => images.forceCheckResults(),
    stopGeneration: () => images.stopGeneration(),
    download: images.downloadImage,
    copy: images.copyImageUrl,
  };
  const videoView: GeneratorView = {
    ...videos,
    forceCheckResults: () => videos.forceCheckResults(),
    stopGeneration: () => videos.stopGeneration(),
    download: videos.downloadVideo,
    copy: videos.copyVideoUrl,
  };

  const clearAll = () => {
    images.clearAllImages();
    videos.clearAllVideos();
  };

  return (
    <div className="page">
      <header className="top">
        <div className="top__brand">
          <svg className="logo" viewBox="0 0 32 32" aria-hidden="true">
            <circle cx="16" cy="16" r="12" fill="none" stroke="currentColor" strokeWidth="4" strokeDasharray="56 20" strokeLinecap="round" />
          </svg>
          <h1>smart-polling</h1>
          <span className="tag">live demo</span>
        </div>
        <p className="top__lede">
          Watch AI image and video jobs finish in real time — Server-Sent Events first, progressive polling when the
          stream fails — and break the API on purpose to see how every job copes.
        </p>
        <div className="top__status">
          <span className={`pill pill--${ready ? "ok" : "wait"}`}>{ready ? "wasm ready" : "loading wasm…"}</span>
          <span className={`pill pill--${health === "online" ? "ok" : health === "offline" ? "bad" : "wait"}`}>
            API {health}
          </span>
          <span className="pill pill--plain" data-testid="connection">
            {running.length === 0
              ? "idle"
              : `${streaming} on SSE · ${running.length - streaming} polling`}
          </span>
        </div>
      </header>

      <main className="layout">
        <div className="main">
          <form className="panel composer" onSubmit={onSubmit}>
            <label htmlFor="prompt" className="composer__label">
              Prompt
            </label>
            <div className="composer__row">
              <input
                id="prompt"
                data-testid="prompt"
                type="text"
                value={prompt}
                placeholder="Describe an image or a short video…"
                autoComplete="off"
                onChange={(e) => setPrompt(e.target.value)}
              />
              <button type="submit" className="btn btn--primary" data-testid="generate-image" disabled={!ready || !prompt.trim()}>
                Generate image
              </button>
              <button
                type="button"
                className="btn btn--secondary"
                data-testid="generate-video"
                disabled={!ready || !prompt.trim()}
                onClick={() => submit("video")}
              >
                Generate video
              </button>
            </div>
            <div className="composer__foot">
              <label className="switch">
                <input
                  type="checkbox"
                  role="switch"
                  data-testid="disable-stream"
                  checked={disableStream}
                  onChange={(e) => setDisableStream(e.target.checked)}
                />
                <span className="switch__track" aria-hidden="true" />
                <span className="switch__text">Disable stream — new jobs poll only</span>
              </label>
              <div className="examples">
                {EXAMPLES.map((x) => (
                  <button type="button" key={x} className="example" onClick={() => setPrompt(x)} title={x}>
                    {x.split(",")[0]}
                  </button>
                ))}
              </div>
            </div>
            {faults.perJob && (
              <p className="composer__note">The next job is sent with its own faults (see the panel on the right).</p>
            )}
          </form>

          {(images.generationStatus.status !== "idle" || images.currentGeneration ||
            videos.generationStatus.status !== "idle" || videos.currentGeneration) && (
            <section className="panel genbars" aria-label="Current generations">
              <GenerationBar kind="image" view={imageView} />
              <GenerationBar kind="video" view={videoView} />
            </section>
          )}

          <section className="jobs" aria-labelledby="jobs-title">
            <div className="section-head">
              <h2 id="jobs-title">
                Jobs <span className="count">{generations.length}</span>
              </h2>
              <span className="muted">
                {running.length ? `${running.length} running · at most 2 event streams, the rest poll` : "Start a few at once to see the stream limit"}
              </span>
              {generations.length > 0 && (
                <button type="button" className="link-button" data-testid="clear" onClick={clearAll}>
                  Clear all
                </button>
              )}
            </div>
            {generations.length ? (
              <div className="grid">
                {generations.map((g) => (
                  <JobCard key={g.id} generation={g} actions={actions} />
                ))}
              </div>
            ) : (
              <div className="empty">
                <p>No jobs yet.</p>
                <p className="muted">Type a prompt and press “Generate image” or “Generate video”.</p>
              </div>
            )}
          </section>

          <MetricsPanel manager={manager} generations={generations} />
        </div>

        <aside className="side">
          <FaultPanel state={faults} />
        </aside>
      </main>

      <Toasts toasts={toasts} onDismiss={dismiss} />

      <footer className="bottom">
        <span>
          <code>PollingManager</code> from the <code>smart-polling</code> wasm package, driven by{" "}
          the hooks of <code>react/</code>.
        </span>
      </footer>
    </div>
  );
}
