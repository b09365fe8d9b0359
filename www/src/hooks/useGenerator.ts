// The common core of useImageGenerator and useVideoGenerator: submit a prompt,
// then watch the file with the page's shared PollingManager (usePollingGroup),
// keeping a list of generations with their live progress, persisted in
// localStorage (storage.ts) so that a reload picks the running ones up again.
//
// Lifetimes:
// - The list is read from storage once, before the first render. A generation
//   that was running (with a server id) is watched again as soon as the
//   manager exists; one whose POST was still in flight is marked interrupted.
// - Every change is written back synchronously (only when what is stored
//   changes), so the "announced" mark of a finished generation is stored
//   before the announcement runs: a reload never announces it again.
// - Whenever the manager (and so the group) changes, every running generation
//   is started on the new one; StrictMode's mount → unmount → mount therefore
//   ends with each running generation watched exactly once.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { usePollingContext, usePollingGroup } from "@react/hooks";
import type {
  Channel,
  FileRecord,
  PollingCallbacks,
  PollingError,
  PollingGroup,
  PollingOverrides,
  PollingProgress,
} from "@react/hooks";
import { generate, type Faults, type MediaKind } from "../api";
import { copyMediaUrl, downloadMedia, type MediaTarget } from "./media";
import {
  loadGenerations,
  safeUrl,
  saveGenerations,
  serializeGenerations,
  type StoredGeneration,
  type StoredState,
} from "./storage";

export type GenerationPhase = "pending" | "processing" | "completed" | "error" | "stopped";

export interface GenerationFailure {
  /** A PollingErrorKind; "request" when the generate POST failed; "interrupted" when a reload cut the POST off. */
  kind: PollingError["kind"] | "request" | "interrupted" | (string & {});
  message: string;
  status?: number;
}

/** One generation as the demo's cards show it (running or finished). */
export interface Generation extends StoredGeneration {
  /** Local id (stable React key, `requestId`); the server's id is `fileId`. */
  id: string;
  status: GenerationPhase;
  error: GenerationFailure | null;
  /** The channel the job uses now (from onProgress), or the expected one before the first report. */
  channel: Channel;
  /** The last progress report and when it arrived (Date.now()), to run local clocks from. */
  progress: PollingProgress | null;
  progressAt: number;
  record: FileRecord | null;
  /** Transient errors seen (onRetry) and the last one. */
  retries: number;
  lastRetry: { kind: string; message: string; delayMs: number; at: number } | null;
  /** onComplete + onError calls seen by this page load: exactly 1 once a job it watched has ended. */
  terminals: number;
  /** Restored from storage while running: this page load picked it up again. */
  resumed: boolean;
  /** A forceCheckResults check of a stopped or failed generation is running. */
  checking: boolean;
  /** While checking: the status to go back to when the check finds no result. */
  checkFrom: GenerationPhase | null;
  /** A note for the status message ("Stopped", "Not ready yet"). */
  note: string | null;
}

/** What the prompt was submitted with (`settings` of a finished item). */
export interface GenerationSettings {
  kind: MediaKind;
  prompt: string;
  /** false: the job polled only. */
  useStream: boolean;
  /** The job was sent with its own faults. */
  ownFaults: boolean;
}

/** A finished item, as the product's hooks keep it (`currentGeneration`, `generatedImages` / `generatedVideos`). */
export interface GeneratedItem {
  /** Local id (the generation's `requestId`). */
  id: string;
  kind: MediaKind;
  /** http(s) or relative, never anything else. */
  url: string;
  thumbnailUrl: string | null;
  contentType: string;
  prompt: string;
  fileId: string;
  projectId: string | null;
  /** When it finished (Date.now()). */
  timestamp: number;
  createdAt: number;
  settings: GenerationSettings;
}

/** The summary shape of the product's hooks, for the latest generation. */
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

/**
 * The channel of the current (newest running) generation: `connected` on the
 * event stream, `polling` on the fallback, `connecting` before the first
 * report, `disconnected` when nothing runs.
 */
export type ConnectionStatus = "disconnected" | "connecting" | "connected" | "polling";

/** The form of `generateImage(formData)` / `generateVideo(formData)` (a `FormData` with `prompt` works too). */
export interface GenerationForm {
  prompt: string;
  /** false: poll only (no EventSource) for this job. */
  useStream?: boolean;
  /** Faults for this job only, sent with the generate POST. */
  faults?: Faults | null;
  /** More per-job settings for the manager (not kept across a reload). */
  overrides?: PollingOverrides;
}

/**
 * What `forceCheckResults` did: `restarted` a running job (a request at once),
 * found the result (`completed`), found it `failed`, found it `not_ready`
 * within the short check, or had `nothing` to check.
 */
export type CheckOutcome = "restarted" | "completed" | "failed" | "not_ready" | "nothing";

export interface GeneratorOptions {
  /** Exactly once per finished generation, never for one already announced before a reload. */
  onComplete?(item: GeneratedItem): void;
  /** Exactly once per failed generation (not for stops or short checks that find nothing). */
  onError?(generation: Generation): void;
}

/** The kind-neutral core; useImageGenerator / useVideoGenerator give it the product's names. */
export interface GeneratorCore {
  generationStatus: GenerationStatus;
  /** The latest finished item, until `clearCurrentGeneration` (or its deletion). */
  currentGeneration: GeneratedItem | null;
  /** Finished items, newest first. */
  generatedItems: GeneratedItem[];
  /** At least one generation is submitting, running or being checked. */
  isGenerating: boolean;
  /** The current generation is on the event stream. */
  isConnected: boolean;
  connectionStatus: ConnectionStatus;
  generate(form: GenerationForm | FormData): Promise<Generation | null>;
  /** Stops (if running) and removes a generation, by local id or file id. */
  deleteItem(id: string): void;
  /** Stops every job and forgets every generation (storage included). */
  clearAll(): void;
  clearCurrentGeneration(): void;
  /** See CheckOutcome; without an id, the current generation. */
  forceCheckResults(id?: string): Promise<CheckOutcome>;
  /** Stops the poller of a generation (without an id, the newest running one); it stays listed as stopped. */
  stopGeneration(id?: string): boolean;
  download(target: GeneratedItem | string, filename?: string): Promise<boolean>;
  copyUrl(target: GeneratedItem | string): Promise<boolean>;
  /** Every generation, newest first (the demo's cards). */
  generations: Generation[];
  /** The channel of the current running generation (null when nothing runs). */
  channel: Channel | null;
  /** False until the wasm is loaded and the manager exists. */
  ready: boolean;
}

/** How long a forceCheckResults check of a stopped or failed generation polls. */
export const CHECK_TIMEOUT = 10_000;

export const isRunning = (g: { status: GenerationPhase }) => g.status === "pending" || g.status === "processing";

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

export function statusMessage(g: Generation): string {
  switch (g.status) {
    case "pending":
      if (!g.fileId) return "Submitting…";
      return g.resumed && !g.progress ? "Resuming after reload…" : "Queued";
    case "processing":
      if (g.checking) return "Checking for the result…";
      return g.resumed && !g.progress ? "Resuming after reload…" : "Generating…";
    case "completed":
      return "Done";
    case "error":
      return g.note ?? g.error?.message ?? "Failed";
    case "stopped":
      return g.note ?? "Stopped";
  }
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
  if (typeof ct === "string" && /^(image|video)\/[A-Za-z0-9.+-]{1,60}$/.test(ct)) return ct;
  return kind === "video" ? "video/mp4" : "image/png";
}

const items = new WeakMap<Generation, GeneratedItem>();

/** The finished item of a completed generation (the same object while the generation is unchanged). */
export function itemOf(g: Generation): GeneratedItem | null {
  if (g.status !== "completed" || !g.url || !g.fileId) return null;
  let item = items.get(g);
  if (!item) {
    item = {
      id: g.id,
      kind: g.kind,
      url: g.url,
      thumbnailUrl: g.thumbnailUrl,
      contentType: g.contentType ?? contentTypeOf(null, g.kind),
      prompt: g.prompt,
      fileId: g.fileId,
      projectId: g.projectId,
      timestamp: g.finishedAt ?? g.createdAt,
      createdAt: g.createdAt,
      settings: { kind: g.kind, prompt: g.prompt, useStream: g.streamAllowed, ownFaults: g.ownFaults },
    };
    items.set(g, item);
  }
  return item;
}

function toStored(g: Generation): StoredGeneration {
  return {
    id: g.id,
    kind: g.kind,
    prompt: g.prompt,
    fileId: g.fileId,
    projectId: g.projectId,
    // a short check is not a running generation: a reload goes back to where it was
    status: g.checking ? (g.checkFrom ?? "stopped") : g.status,
    createdAt: g.createdAt,
    finishedAt: g.finishedAt,
    url: g.url,
    thumbnailUrl: g.thumbnailUrl,
    contentType: g.contentType,
    streamAllowed: g.streamAllowed,
    ownFaults: g.ownFaults,
    error: g.error,
    announced: g.announced,
  };
}

function fromStored(s: StoredGeneration, now: number): Generation {
  const running = s.status === "pending" || s.status === "processing";
  const base: Generation = {
    ...s,
    channel: s.streamAllowed ? "sse" : "polling",
    progress: null,
    progressAt: now,
    record: null,
    retries: 0,
    lastRetry: null,
    terminals: 0,
    resumed: running,
    checking: false,
    checkFrom: null,
    note: null,
  };
  if (running && !s.fileId) {
    // the page went away before the server answered the POST: nothing to watch
    return {
      ...base,
      status: "error",
      resumed: false,
      finishedAt: now,
      announced: true,
      error: { kind: "interrupted", message: "The page was reloaded before the server accepted the job" },
    };
  }
  return base;
}

interface State {
  generations: Generation[];
  currentId: string | null;
}

function restore(kind: MediaKind): State {
  const stored = loadGenerations(kind);
  const now = Date.now();
  return { generations: stored.items.map((s) => fromStored(s, now)), currentId: stored.currentId };
}

function readForm(form: GenerationForm | FormData): GenerationForm {
  if (typeof FormData !== "undefined" && form instanceof FormData) {
    const prompt = form.get("prompt");
    const useStream = form.get("useStream");
    return {
      prompt: typeof prompt === "string" ? prompt : "",
      useStream: useStream === null ? undefined : !["false", "off", "0"].includes(String(useStream)),
    };
  }
  return form as GenerationForm;
}

/** Transient outcomes of a short check: "not ready yet", not a failure of the generation. */
const CHECK_INCONCLUSIVE = new Set<string>(["timeout", "max_attempts", "rate_limited", "server", "network", "request_timeout", "not_found"]);

let sequence = 0;

export function useGenerator(kind: MediaKind, options: GeneratorOptions = {}): GeneratorCore {
  const manager = usePollingContext();
  const group = usePollingGroup(manager);
  const [state, setState] = useState<State>(() => restore(kind));
  const stateRef = useRef(state);
  const savedRef = useRef<string | null>(null);
  const optionsRef = useRef(options);
  useLayoutEffect(() => {
    optionsRef.current = options;
  });

  const mounted = useRef(true);
  const requests = useRef(new Map<string, AbortController>());
  // local id → server id of every job handed to group.start, set synchronously
  // (before the next render), so Delete / Clear always find the job to stop
  const started = useRef(new Map<string, string>());
  // per-job overrides given to generate (kept for restarts in this page load)
  const extraOverrides = useRef(new Map<string, PollingOverrides>());
  // pending forceCheckResults promises by local id
  const checks = useRef(new Map<string, (outcome: CheckOutcome) => void>());
  // the group of the committed render: async code reads it after its awaits
  const groupRef = useRef(group);
  useLayoutEffect(() => {
    groupRef.current = group;
  }, [group]);

  useEffect(() => {
    mounted.current = true;
    const pending = requests.current;
    const waiting = checks.current;
    return () => {
      mounted.current = false;
      for (const c of pending.values()) c.abort();
      pending.clear();
      for (const resolve of waiting.values()) resolve("not_ready");
      waiting.clear();
    };
  }, []);

  /** Applies a change, writes what is stored when it changed, then renders. */
  const commit = useCallback(
    (change: (s: State) => State) => {
      const prev = stateRef.current;
      const next = change(prev);
      if (next === prev) return;
      stateRef.current = next;
      const stored: StoredState = { items: next.generations.map(toStored), currentId: next.currentId };
      const text = serializeGenerations(stored);
      if (text !== savedRef.current) {
        savedRef.current = text; // tried: a full storage is not retried until something else changes
        saveGenerations(kind, text, stored);
      }
      setState(next);
    },
    [kind],
  );

  const patch = useCallback(
    (id: string, change: (g: Generation) => Partial<Generation>) => {
      commit((s) => {
        const i = s.generations.findIndex((g) => g.id === id);
        if (i < 0) return s;
        const generations = s.generations.slice();
        generations[i] = { ...generations[i], ...change(generations[i]) };
        return { ...s, generations };
      });
    },
    [commit],
  );

  const find = useCallback(
    (idOrFileId: string) => stateRef.current.generations.find((g) => g.id === idOrFileId || g.fileId === idOrFileId) ?? null,
    [],
  );

  const resolveCheck = useCallback((id: string, outcome: CheckOutcome) => {
    const resolve = checks.current.get(id);
    checks.current.delete(id);
    resolve?.(outcome);
  }, []);

  /** The end of a job or a POST: stored (with the announced mark) first, then announced once. */
  const settle = useCallback(
    (id: string, outcome: { record: FileRecord } | { error: GenerationFailure; retryable?: boolean }) => {
      started.current.delete(id);
      const before = stateRef.current.generations.find((g) => g.id === id);
      if (!before) return;
      const now = Date.now();
      const url = "record" in outcome ? safeUrl(outcome.record.url) : null;
      if ("record" in outcome && url && before.fileId) {
        const record = outcome.record;
        commit((s) => ({
          currentId: id,
          generations: s.generations.map((g) =>
            g.id !== id
              ? g
              : {
                  ...g,
                  terminals: g.terminals + 1,
                  status: "completed",
                  finishedAt: now,
                  record,
                  url,
                  thumbnailUrl: safeUrl(record.thumbnail_url),
                  contentType: contentTypeOf(record, kind),
                  error: null,
                  checking: false,
                  checkFrom: null,
                  note: null,
                  announced: true,
                },
          ),
        }));
        resolveCheck(id, "completed");
        const after = stateRef.current.generations.find((g) => g.id === id);
        const item = after && itemOf(after);
        if (!before.announced && item) optionsRef.current.onComplete?.(item);
        return;
      }
      const error: GenerationFailure =
        "error" in outcome ? outcome.error : { kind: "invalid_url", message: "A url in the record is neither an http(s) nor a relative url" };
      if (before.checking && CHECK_INCONCLUSIVE.has(error.kind)) {
        // the short check saw no result: back to where the generation was
        patch(id, (g) => ({
          terminals: g.terminals + 1,
          status: g.checkFrom ?? "stopped",
          checking: false,
          checkFrom: null,
          progress: null,
          note: error.kind === "timeout" ? "Not ready yet when checked" : `Check inconclusive: ${error.message}`,
        }));
        resolveCheck(id, "not_ready");
        return;
      }
      patch(id, (g) => ({
        terminals: g.terminals + 1,
        status: "error",
        finishedAt: now,
        error,
        checking: false,
        checkFrom: null,
        note: null,
        announced: true,
      }));
      resolveCheck(id, "failed");
      const after = stateRef.current.generations.find((g) => g.id === id);
      if (!before.announced && after) optionsRef.current.onError?.(after);
    },
    [commit, patch, resolveCheck, kind],
  );

  const callbacksFor = useCallback(
    (id: string): PollingCallbacks => ({
      onUpdate(record) {
        patch(id, (g) => {
          const phase = taskPhase(record);
          return { record, status: g.status === "pending" && phase === "processing" ? "processing" : g.status };
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
        settle(id, { record });
      },
      onError(error) {
        settle(id, { error: { kind: error.kind, message: error.message, status: error.status } });
      },
    }),
    [patch, settle],
  );

  const overridesFor = useCallback(
    (g: Generation): PollingOverrides =>
      g.checking
        ? { preset: g.kind, useStream: false, timeout: CHECK_TIMEOUT }
        : { preset: g.kind, ...(g.streamAllowed ? {} : { useStream: false }), ...extraOverrides.current.get(g.id) },
    [],
  );

  /** Hands the job of generation `g` to the group (stopping a job it already holds first). */
  const startJob = useCallback(
    (g: Generation, target: PollingGroup = groupRef.current) => {
      if (!g.fileId) return;
      const fileId = g.fileId;
      target.stop(fileId);
      started.current.set(g.id, fileId);
      try {
        target.start(fileId, callbacksFor(g.id), overridesFor(g));
      } catch (err) {
        started.current.delete(g.id);
        settle(g.id, { error: { kind: "request", message: (err as Error)?.message ?? String(err) } });
      }
    },
    [callbacksFor, overridesFor, settle],
  );

  // Recovery: every running generation (restored from storage, or left
  // without a job by a manager change) is watched on the current manager.
  useEffect(() => {
    if (!group.ready) return;
    for (const g of stateRef.current.generations) {
      if (g.fileId && isRunning(g) && !group.has(g.fileId)) startJob(g, group);
    }
  }, [group, startJob]);

  const generateFn = useCallback(
    async (formData: GenerationForm | FormData): Promise<Generation | null> => {
      const form = readForm(formData);
      const text = typeof form.prompt === "string" ? form.prompt.trim() : "";
      if (!text) return null;
      // no manager yet: send nothing (the job could not be watched)
      if (!groupRef.current.ready) return null;
      const streamAllowed = form.useStream !== false;
      const id = `gen-${Date.now().toString(36)}-${++sequence}`;
      const now = Date.now();
      const fresh: Generation = {
        id,
        kind,
        prompt: text,
        fileId: null,
        projectId: null,
        status: "pending",
        createdAt: now,
        finishedAt: null,
        channel: streamAllowed ? "sse" : "polling",
        progress: null,
        progressAt: now,
        record: null,
        url: null,
        thumbnailUrl: null,
        contentType: null,
        error: null,
        retries: 0,
        lastRetry: null,
        streamAllowed,
        ownFaults: !!form.faults,
        terminals: 0,
        announced: false,
        resumed: false,
        checking: false,
        checkFrom: null,
        note: null,
      };
      if (form.overrides) extraOverrides.current.set(id, form.overrides);
      commit((s) => ({ ...s, generations: [fresh, ...s.generations] }));

      const controller = new AbortController();
      requests.current.set(id, controller);
      let fileId: string;
      let projectId: string;
      try {
        ({ fileId, projectId } = await generate(kind, text, form.faults ?? null, controller.signal));
      } catch (err) {
        requests.current.delete(id);
        if (controller.signal.aborted) return null; // stopped, deleted, cleared or unmounted
        const e = err as Error & { status?: number };
        settle(id, { error: { kind: "request", message: e?.message ?? String(err), status: e?.status } });
        return null;
      }
      requests.current.delete(id);
      if (controller.signal.aborted || !mounted.current) return null;
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(String(fileId))) {
        settle(id, { error: { kind: "invalid_id", message: "the server answered with an unusable file id" } });
        return null;
      }
      patch(id, () => ({ fileId, projectId: typeof projectId === "string" && /^[A-Za-z0-9_-]{1,128}$/.test(projectId) ? projectId : null }));
      const g = stateRef.current.generations.find((x) => x.id === id);
      if (!g) return null;
      // the manager may have changed during the POST: the current group
      startJob(g);
      return stateRef.current.generations.find((x) => x.id === id) ?? null;
    },
    [kind, commit, patch, settle, startJob],
  );

  /** Aborts the POST of local id `id` or stops its job (whichever stage it is in). */
  const forget = useCallback(
    (id: string) => {
      requests.current.get(id)?.abort();
      requests.current.delete(id);
      extraOverrides.current.delete(id);
      const fileId = started.current.get(id);
      started.current.delete(id);
      if (fileId) groupRef.current.stop(fileId);
      resolveCheck(id, "not_ready");
    },
    [resolveCheck],
  );

  const deleteItem = useCallback(
    (idOrFileId: string) => {
      const g = find(idOrFileId);
      if (!g) return;
      forget(g.id);
      commit((s) => ({
        generations: s.generations.filter((x) => x.id !== g.id),
        currentId: s.currentId === g.id ? null : s.currentId,
      }));
    },
    [find, forget, commit],
  );

  const clearAll = useCallback(() => {
    for (const c of requests.current.values()) c.abort();
    requests.current.clear();
    started.current.clear();
    extraOverrides.current.clear();
    groupRef.current.stopAll();
    for (const resolve of checks.current.values()) resolve("not_ready");
    checks.current.clear();
    commit(() => ({ generations: [], currentId: null }));
  }, [commit]);

  const clearCurrentGeneration = useCallback(() => {
    commit((s) => (s.currentId === null ? s : { ...s, currentId: null }));
  }, [commit]);

  const stopGeneration = useCallback(
    (idOrFileId?: string): boolean => {
      const g = idOrFileId ? find(idOrFileId) : (stateRef.current.generations.find(isRunning) ?? null);
      if (!g || !isRunning(g)) return false;
      const wasChecking = g.checking;
      forget(g.id);
      patch(g.id, (x) => ({
        status: wasChecking ? (x.checkFrom ?? "stopped") : "stopped",
        finishedAt: wasChecking ? x.finishedAt : Date.now(),
        checking: false,
        checkFrom: null,
        note: wasChecking ? x.note : "Stopped",
      }));
      return true;
    },
    [find, forget, patch],
  );

  const forceCheckResults = useCallback(
    (idOrFileId?: string): Promise<CheckOutcome> => {
      // without an id: the current generation (the newest), else the newest running one
      const list = stateRef.current.generations;
      const focus = list[0]?.fileId && list[0].status !== "completed" ? list[0] : null;
      const g = idOrFileId ? find(idOrFileId) : (focus ?? list.find((x) => x.fileId && isRunning(x)) ?? null);
      if (!g || !g.fileId || !groupRef.current.ready) return Promise.resolve("nothing");
      if (g.status === "completed") return Promise.resolve("completed");
      if (g.checking) {
        return new Promise((resolve) => {
          const earlier = checks.current.get(g.id);
          checks.current.set(g.id, (outcome) => {
            earlier?.(outcome);
            resolve(outcome);
          });
        });
      }
      if (isRunning(g)) {
        // a running job: start it again, which asks the server at once
        startJob(g);
        return Promise.resolve("restarted");
      }
      // stopped or failed: a short polling-only check on the manager
      const checking: Partial<Generation> = {
        status: "processing",
        checking: true,
        checkFrom: g.status,
        channel: "polling",
        progress: null,
        progressAt: Date.now(),
        note: null,
      };
      patch(g.id, () => checking);
      const promise = new Promise<CheckOutcome>((resolve) => checks.current.set(g.id, resolve));
      startJob({ ...g, ...checking });
      return promise;
    },
    [find, patch, startJob],
  );

  const download = useCallback(
    (target: GeneratedItem | string, filename?: string) =>
      downloadMedia(typeof target === "string" ? target : (target as MediaTarget), filename),
    [],
  );
  const copyUrl = useCallback((target: GeneratedItem | string) => copyMediaUrl(target), []);

  const { generations, currentId } = state;
  return useMemo((): GeneratorCore => {
    const focus = generations[0] ?? null;
    const running = generations.filter(isRunning);
    const live = running[0] ?? null;
    const generatedItems = generations.map(itemOf).filter((x): x is GeneratedItem => x !== null);
    const current = currentId ? (generatedItems.find((x) => x.id === currentId) ?? null) : null;
    const connectionStatus: ConnectionStatus = !live
      ? "disconnected"
      : !live.fileId || !live.progress
        ? "connecting"
        : live.channel === "sse"
          ? "connected"
          : "polling";
    const generationStatus: GenerationStatus = focus
      ? {
          status: focus.status,
          progress: Math.round(percentOf(focus) ?? 0),
          message: statusMessage(focus),
          estimatedTime: isRunning(focus) ? (focus.progress?.estimatedTimeRemaining ?? 0) : 0,
          projectId: focus.projectId ?? "",
          requestId: focus.id,
          fileId: focus.fileId ?? "",
        }
      : { status: "idle", progress: 0, message: "", estimatedTime: 0, projectId: "", requestId: "", fileId: "" };
    return {
      generationStatus,
      currentGeneration: current,
      generatedItems,
      isGenerating: running.length > 0,
      isConnected: connectionStatus === "connected",
      connectionStatus,
      generate: generateFn,
      deleteItem,
      clearAll,
      clearCurrentGeneration,
      forceCheckResults,
      stopGeneration,
      download,
      copyUrl,
      generations,
      channel: live ? live.channel : null,
      ready: manager !== null && group.ready,
    };
  }, [
    generations,
    currentId,
    manager,
    group,
    generateFn,
    deleteItem,
    clearAll,
    clearCurrentGeneration,
    forceCheckResults,
    stopGeneration,
    download,
    copyUrl,
  ]);
}
