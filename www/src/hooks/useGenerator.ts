// The common core of useImageGenerator and useVideoGenerator: submit a prompt,
// then watch the file with the page's shared PollingManager (usePollingGroup),
// keeping a list of generations with their live progress.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { usePollingContext, usePollingGroup } from "@react/usePolling";
import type {
  Channel,
  FileRecord,
  PollingError,
  PollingOverrides,
  PollingProgress,
} from "@react/usePolling";
import { generate, type Faults, type MediaKind } from "../api";

export type GenerationPhase = "pending" | "processing" | "completed" | "error";

export interface GenerationFailure {
  /** A PollingErrorKind, or "request" when the generate POST itself failed. */
  kind: PollingError["kind"] | "request";
  message: string;
  status?: number;
}

export interface Generation {
  /** Local id (stable React key); the server's id is `fileId`. */
  id: string;
  kind: MediaKind;
  prompt: string;
  /** null while the generate POST is in flight. */
  fileId: string | null;
  projectId: string | null;
  status: GenerationPhase;
  /** Date.now() when the prompt was submitted. */
  createdAt: number;
  finishedAt: number | null;
  /** The channel the job uses now (from onProgress), or the expected one before the first report. */
  channel: Channel;
  /** The last progress report and when it arrived (Date.now()), to run local clocks from. */
  progress: PollingProgress | null;
  progressAt: number;
  record: FileRecord | null;
  url: string | null;
  contentType: string | null;
  error: GenerationFailure | null;
  /** Transient errors seen (onRetry) and the last one. */
  retries: number;
  lastRetry: { kind: string; message: string; delayMs: number; at: number } | null;
  /** Whether the job was started with the event stream allowed. */
  streamAllowed: boolean;
  /** onComplete + onError calls seen: exactly 1 once the job has ended. */
  terminals: number;
}

/** The summary shape of the original hooks, for the latest generation. */
export interface GenerationStatus {
  status: "idle" | GenerationPhase;
  /** 0-100: the stream's figure, else an estimate from elapsed time and ETA. */
  progress: number;
  message: string;
  /** Milliseconds left, 0 when unknown. */
  estimatedTime: number;
  projectId: string;
  requestId: string;
  fileId: string;
}

export type ConnectionStatus = "disconnected" | "connecting" | "connected";

export interface GenerateOptions {
  /** false: poll only (no EventSource) for this job. */
  useStream?: boolean;
  /** Faults for this job only, sent with the generate POST. */
  faults?: Faults | null;
  /** More per-job settings for the manager. */
  overrides?: PollingOverrides;
}

export interface GeneratorState {
  generationStatus: GenerationStatus;
  /** The latest generation (running or finished). */
  currentGeneration: Generation | null;
  /** Every generation, newest first. */
  generations: Generation[];
  /** Finished successfully, newest first. */
  completedGenerations: Generation[];
  isGenerating: boolean;
  /** True while at least one job is on the event stream. */
  isConnected: boolean;
  connectionStatus: ConnectionStatus;
  /** The channel of the latest running job: "sse" or "polling" (null when nothing runs). */
  channel: Channel | null;
  /** False until the wasm is loaded and the manager exists. */
  ready: boolean;
  generate(prompt: string, options?: GenerateOptions): Promise<Generation | null>;
  clearGenerations(): void;
  deleteGeneration(id: string): void;
}

/** Percent done: the stream's figure when it has one, else elapsed / (elapsed + ETA). */
export function percentOf(g: Generation, now = Date.now()): number | null {
  if (g.status === "completed") return 100;
  const p = g.progress;
  if (!p) return null;
  if (typeof p.progress === "number") return p.progress;
  if (typeof p.estimatedTimeRemaining === "number") {
    const since = Math.max(0, now - g.progressAt);
    const elapsed = p.elapsedTime + since;
    const left = Math.max(0, p.estimatedTimeRemaining - since);
    return elapsed + left > 0 ? Math.min(99, (elapsed / (elapsed + left)) * 100) : null;
  }
  return null;
}

function taskPhase(record: FileRecord): GenerationPhase | null {
  const tasks = record.tasks ?? [];
  const last = tasks[tasks.length - 1];
  if (!last) return null;
  const s = String(last.status).toLowerCase();
  if (s === "in_progress" || s === "completed") return "processing";
  if (s === "pending") return "pending";
  return null;
}

function contentTypeOf(record: FileRecord | null, kind: MediaKind): string {
  const ct = record?.contentType;
  if (typeof ct === "string" && ct) return ct;
  return kind === "video" ? "video/mp4" : "image/png";
}

let sequence = 0;

export function useGenerator(kind: MediaKind): GeneratorState {
  const manager = usePollingContext();
  const group = usePollingGroup(manager);
  const [generations, setGenerations] = useState<Generation[]>([]);

  const mounted = useRef(true);
  const requests = useRef(new Map<string, AbortController>());
  // local id → server id of every job handed to group.start, set synchronously
  // (before the next render), so Delete / Clear always find the job to stop
  const started = useRef(new Map<string, string>());
  const listRef = useRef(generations);
  listRef.current = generations;
  // the group of the committed render: `generate` reads it after its await
  const groupRef = useRef(group);
  useLayoutEffect(() => {
    groupRef.current = group;
  }, [group]);

  useEffect(() => {
    mounted.current = true;
    const pending = requests.current;
    return () => {
      mounted.current = false;
      for (const c of pending.values()) c.abort();
      pending.clear();
    };
  }, []);

  const patch = useCallback((id: string, change: (g: Generation) => Partial<Generation>) => {
    if (!mounted.current) return;
    setGenerations((list) => list.map((g) => (g.id === id ? { ...g, ...change(g) } : g)));
  }, []);

  const generateFn = useCallback(
    async (prompt: string, options: GenerateOptions = {}): Promise<Generation | null> => {
      const text = prompt.trim();
      if (!text) return null;
      // no manager yet: send nothing (the job could not be watched)
      if (!groupRef.current.ready) return null;
      const streamAllowed = options.useStream !== false;
      const id = `gen-${Date.now().toString(36)}-${++sequence}`;
      const fresh: Generation = {
        id,
        kind,
        prompt: text,
        fileId: null,
        projectId: null,
        status: "pending",
        createdAt: Date.now(),
        finishedAt: null,
        channel: streamAllowed ? "sse" : "polling",
        progress: null,
        progressAt: Date.now(),
        record: null,
        url: null,
        contentType: null,
        error: null,
        retries: 0,
        lastRetry: null,
        streamAllowed,
        terminals: 0,
      };
      setGenerations((list) => [fresh, ...list]);

      const controller = new AbortController();
      requests.current.set(id, controller);
      let fileId: string;
      let projectId: string;
      try {
        ({ fileId, projectId } = await generate(kind, text, options.faults ?? null, controller.signal));
      } catch (err) {
        requests.current.delete(id);
        if (controller.signal.aborted) return null; // deleted, cleared or unmounted
        const e = err as Error & { status?: number };
        patch(id, () => ({
          status: "error",
          finishedAt: Date.now(),
          error: { kind: "request", message: e.message ?? String(err), status: e.status },
        }));
        return null;
      }
      requests.current.delete(id);
      if (controller.signal.aborted || !mounted.current) return null;

      patch(id, () => ({ fileId, projectId }));

      const overrides: PollingOverrides = {
        preset: kind,
        ...(streamAllowed ? {} : { useStream: false }),
        ...options.overrides,
      };
      // the manager may have changed during the POST: use the current group
      const current = groupRef.current;
      started.current.set(id, fileId);
      try {
        current.start(
          fileId,
          {
            onUpdate(record) {
              patch(id, (g) => {
                const phase = taskPhase(record);
                return {
                  record,
                  status: g.status === "pending" && phase === "processing" ? "processing" : g.status,
                };
              });
            },
            onProgress(progress) {
              patch(id, (g) => ({
                progress,
                progressAt: Date.now(),
                channel: progress.channel,
                status: g.status === "pending" && (progress.progress ?? 0) > 0 ? "processing" : g.status,
              }));
            },
            onRetry(error, delayMs) {
              patch(id, (g) => ({
                retries: g.retries + 1,
                lastRetry: { kind: error.kind, message: error.message, delayMs, at: Date.now() },
              }));
            },
            onComplete(record) {
              patch(id, (g) => ({
                terminals: g.terminals + 1,
                status: "completed",
                finishedAt: Date.now(),
                record,
                url: record.url,
                contentType: contentTypeOf(record, kind),
              }));
            },
            onError(error) {
              patch(id, (g) => ({
                terminals: g.terminals + 1,
                status: "error",
                finishedAt: Date.now(),
                error: { kind: error.kind, message: error.message, status: error.status },
              }));
            },
          },
          overrides,
        );
      } catch (err) {
        started.current.delete(id);
        patch(id, () => ({
          status: "error",
          finishedAt: Date.now(),
          error: { kind: "request", message: (err as Error).message ?? String(err) },
        }));
      }
      return { ...fresh, fileId, projectId };
    },
    [kind, patch],
  );

  /** Aborts the POST of local id `id` or stops its job (whichever stage it is in). */
  const forget = useCallback((id: string) => {
    requests.current.get(id)?.abort();
    requests.current.delete(id);
    const fileId = started.current.get(id);
    started.current.delete(id);
    if (fileId) groupRef.current.stop(fileId);
  }, []);

  const deleteGeneration = useCallback(
    (idOrFileId: string) => {
      let id = listRef.current.find((x) => x.id === idOrFileId || x.fileId === idOrFileId)?.id;
      // not rendered yet: a POST in flight or a job started since the last render
      if (!id && requests.current.has(idOrFileId)) id = idOrFileId;
      if (!id) id = [...started.current].find(([local, fileId]) => local === idOrFileId || fileId === idOrFileId)?.[0];
      if (!id) return;
      const local = id;
      forget(local);
      setGenerations((list) => list.filter((x) => x.id !== local));
    },
    [forget],
  );

  const clearGenerations = useCallback(() => {
    for (const c of requests.current.values()) c.abort();
    requests.current.clear();
    started.current.clear();
    groupRef.current.stopAll();
    setGenerations([]);
  }, []);

  return useMemo(() => {
    const current = generations[0] ?? null;
    const running = generations.filter((g) => g.status === "pending" || g.status === "processing");
    const streaming = running.filter((g) => g.progress && g.channel === "sse");
    const latestRunning = running[0] ?? null;
    const generationStatus: GenerationStatus = current
      ? {
          status: current.status,
          progress: Math.round(percentOf(current) ?? 0),
          message: statusMessage(current),
          estimatedTime: current.progress?.estimatedTimeRemaining ?? 0,
          projectId: current.projectId ?? "",
          requestId: current.id,
          fileId: current.fileId ?? "",
        }
      : { status: "idle", progress: 0, message: "", estimatedTime: 0, projectId: "", requestId: "", fileId: "" };
    return {
      generationStatus,
      currentGeneration: current,
      generations,
      completedGenerations: generations.filter((g) => g.status === "completed"),
      isGenerating: running.length > 0,
      isConnected: streaming.length > 0,
      connectionStatus:
        running.length === 0 ? "disconnected" : running.some((g) => g.progress) ? "connected" : "connecting",
      channel: latestRunning ? latestRunning.channel : null,
      ready: manager !== null,
      generate: generateFn,
      clearGenerations,
      deleteGeneration,
    };
  }, [generations, manager, generateFn, clearGenerations, deleteGeneration]);
}

export function statusMessage(g: Generation): string {
  switch (g.status) {
    case "pending":
      return g.fileId ? "Queued" : "Submitting…";
    case "processing":
      return "Generating…";
    case "completed":
      return "Done";
    case "error":
      return g.error?.message ?? "Failed";
  }
}
