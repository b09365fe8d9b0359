// localStorage persistence of the generator hooks: the finished items (the
// history) and the generations still running, under one versioned key per
// kind. What comes back is checked field by field and rebuilt from scratch:
// corrupt JSON, another version, a wrong shape, an unsafe url or an id the
// manager would refuse are dropped, never trusted. Storage that is full,
// disabled or throwing only loses persistence.
import type { MediaKind } from "../api";

export const STORAGE_VERSION = 1;

/** `smart-polling-demo:images:v1`, `smart-polling-demo:videos:v1`. */
export function storageKey(kind: MediaKind): string {
  return `smart-polling-demo:${kind}s:v${STORAGE_VERSION}`;
}

/** Finished items kept at most (running generations are always kept). */
export const MAX_STORED = 50;

export type StoredStatus = "pending" | "processing" | "completed" | "error" | "stopped";

/** What one generation leaves in storage. */
export interface StoredGeneration {
  id: string;
  kind: MediaKind;
  prompt: string;
  fileId: string | null;
  projectId: string | null;
  status: StoredStatus;
  createdAt: number;
  finishedAt: number | null;
  url: string | null;
  thumbnailUrl: string | null;
  contentType: string | null;
  streamAllowed: boolean;
  ownFaults: boolean;
  error: { kind: string; message: string; status?: number } | null;
  /** Its outcome was announced (toast, onComplete): never again. */
  announced: boolean;
}

export interface StoredState {
  items: StoredGeneration[];
  /** The item shown as `currentGeneration` (a completed one), or null. */
  currentId: string | null;
}

const EMPTY: StoredState = { items: [], currentId: null };

/** The ids the manager accepts (and local ids). */
const ID = /^[A-Za-z0-9_-]{1,128}$/;
const STATUSES: StoredStatus[] = ["pending", "processing", "completed", "error", "stopped"];

/**
 * `value` when it is an http(s) url or a relative one (resolved against the
 * page), else null: `javascript:`, `data:`, `blob:` and anything the URL
 * parser rejects never reach an `src` or `href`.
 */
export function safeUrl(value: unknown): string | null {
  if (typeof value !== "string" || value.length === 0 || value.length > 4096) return null;
  // control characters (the URL parser strips tabs and newlines: "java\tscript:")
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, globalThis.location?.href ?? "http://localhost/");
  } catch {
    return null;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? value : null;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

const str = (x: unknown, max: number): string | null =>
  typeof x === "string" && x.length > 0 && x.length <= max ? x : null;
const id = (x: unknown): string | null => (typeof x === "string" && ID.test(x) ? x : null);
const time = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) && x > 0 ? x : null);

function parseError(x: unknown): StoredGeneration["error"] {
  if (!isObject(x)) return null;
  const kind = typeof x.kind === "string" && /^[a-z_]{1,40}$/.test(x.kind) ? x.kind : null;
  const message = str(x.message, 500);
  if (!kind || !message) return null;
  const status = typeof x.status === "number" && Number.isInteger(x.status) && x.status >= 100 && x.status < 600 ? x.status : undefined;
  return status === undefined ? { kind, message } : { kind, message, status };
}

/** One stored generation, rebuilt from checked fields; null when it cannot be trusted. */
export function parseGeneration(x: unknown, kind: MediaKind): StoredGeneration | null {
  if (!isObject(x) || x.kind !== kind) return null;
  const localId = id(x.id);
  const prompt = str(x.prompt, 2000);
  const createdAt = time(x.createdAt);
  const status = STATUSES.find((s) => s === x.status);
  if (!localId || !prompt || !createdAt || !status) return null;
  const fileId = x.fileId == null ? null : id(x.fileId);
  const projectId = x.projectId == null ? null : id(x.projectId);
  if (x.fileId != null && !fileId) return null;
  const url = x.url == null ? null : safeUrl(x.url);
  if (x.url != null && !url) return null; // an unsafe url: the whole item goes
  const thumbnailUrl = safeUrl(x.thumbnailUrl);
  const contentType =
    typeof x.contentType === "string" && /^(image|video)\/[A-Za-z0-9.+-]{1,60}$/.test(x.contentType) ? x.contentType : null;
  if (status === "completed" && (!url || !fileId)) return null;
  return {
    id: localId,
    kind,
    prompt,
    fileId,
    projectId,
    status,
    createdAt,
    finishedAt: time(x.finishedAt),
    url,
    thumbnailUrl,
    contentType,
    streamAllowed: x.streamAllowed !== false,
    ownFaults: x.ownFaults === true,
    error: parseError(x.error),
    announced: x.announced === true,
  };
}

/** The stored state of `kind`, or an empty one for anything that is not exactly this version's shape. */
export function loadGenerations(kind: MediaKind): StoredState {
  let raw: string | null;
  try {
    raw = globalThis.localStorage?.getItem(storageKey(kind)) ?? null;
  } catch {
    return EMPTY; // storage disabled (privacy settings, sandboxed frame)
  }
  if (!raw) return EMPTY;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return EMPTY;
  }
  if (!isObject(data) || data.version !== STORAGE_VERSION || !Array.isArray(data.items)) return EMPTY;
  const items: StoredGeneration[] = [];
  const ids = new Set<string>();
  const files = new Set<string>();
  for (const x of data.items.slice(0, MAX_STORED * 2)) {
    const g = parseGeneration(x, kind);
    // one entry per local id and per server id: a duplicate would be watched and announced twice
    if (!g || ids.has(g.id) || (g.fileId && files.has(g.fileId))) continue;
    ids.add(g.id);
    if (g.fileId) files.add(g.fileId);
    items.push(g);
  }
  const currentId =
    typeof data.currentId === "string" && items.some((g) => g.id === data.currentId && g.status === "completed")
      ? data.currentId
      : null;
  return { items, currentId };
}

const isRunning = (g: StoredGeneration) => g.status === "pending" || g.status === "processing";

/** The text `saveGenerations` writes: every running generation and the newest finished ones. */
export function serializeGenerations(state: StoredState, maxFinished = MAX_STORED): string {
  let finished = 0;
  const items = state.items.filter((g) => isRunning(g) || finished++ < maxFinished);
  const currentId = items.some((g) => g.id === state.currentId) ? state.currentId : null;
  return JSON.stringify({ version: STORAGE_VERSION, items, currentId });
}

/**
 * Writes `text` (from `serializeGenerations`); when the storage is full, tries
 * again with fewer finished items. False when nothing could be written.
 */
export function saveGenerations(kind: MediaKind, text: string, state: StoredState): boolean {
  const attempts = [text, serializeGenerations(state, 10), serializeGenerations(state, 0)];
  for (const t of attempts) {
    try {
      globalThis.localStorage?.setItem(storageKey(kind), t);
      return true;
    } catch {
      /* full, disabled or throwing: try smaller, then give up */
    }
  }
  return false;
}
