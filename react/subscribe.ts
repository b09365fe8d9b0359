// Subscriptions: reference counts per manager and id, retired managers.
import { PollingManager } from "smart-polling";
import type { JobOptions, PollingCallbacks } from "smart-polling";

/** Per-job settings passed to `startPolling` (e.g. `{ preset: "video" }`, `{ useStream: false }`). */
export type PollingOverrides = JobOptions;


const retired = new WeakSet<PollingManager>();
const holders = new WeakMap<PollingManager, Map<string, number>>();

function acquire(manager: PollingManager, id: string): void {
  let counts = holders.get(manager);
  if (!counts) holders.set(manager, (counts = new Map()));
  counts.set(id, (counts.get(id) ?? 0) + 1);
}

function release(manager: PollingManager, id: string, stop: boolean): void {
  const counts = holders.get(manager);
  const left = (counts?.get(id) ?? 1) - 1;
  if (counts && left > 0) {
    counts.set(id, left);
    return;
  }
  counts?.delete(id);
  if (stop && !retired.has(manager)) manager.stopPolling(id);
}

/** Stops every job of a manager and frees its wasm memory; safe to call twice. */
export function retireManager(manager: PollingManager): void {
  if (retired.has(manager)) return;
  retired.add(manager);
  holders.delete(manager);
  try {
    manager.stopAllPolling();
  } finally {
    manager.free();
  }
}

/** True once `retireManager` ran (the object must not be used any more). */
export function isRetired(manager: PollingManager): boolean {
  return retired.has(manager);
}

/**
 * What `startPolling` refuses in a callbacks object (a misspelt callback,
 * a job option among them, a callback that is no function), refused here
 * too: the hooks hand the manager callbacks of their own.
 */
export function checkCallbacks(callbacks: unknown): void {
  (PollingManager as unknown as { __checkCallbacks?(c: unknown): void }).__checkCallbacks?.(callbacks);
}

/**
 * The primitive under both hooks: starts (or joins) the job of `id` and
 * returns an `unsubscribe` that silences these callbacks at once and stops the
 * job when no other subscriber holds it. Throws a `RangeError` for invalid
 * overrides, and for callbacks `startPolling` would refuse, like `startPolling`.
 */
export function subscribe(
  manager: PollingManager,
  id: string,
  callbacks: PollingCallbacks,
  overrides?: PollingOverrides | null,
): () => void {
  if (retired.has(manager)) throw new Error("smart-polling: this PollingManager was freed");
  checkCallbacks(callbacks);
  let live = true;
  let held = true;
  const finished = () => {
    live = false;
    if (held) {
      held = false;
      release(manager, id, false);
    }
  };
  const wrapped: PollingCallbacks = {
    onUpdate: (record) => {
      if (live) callbacks.onUpdate?.(record);
    },
    onProgress: (progress) => {
      if (live) callbacks.onProgress?.(progress);
    },
    onRetry: (error, delayMs) => {
      if (live) callbacks.onRetry?.(error, delayMs);
    },
    onComplete: (record) => {
      if (!live) return;
      finished();
      callbacks.onComplete?.(record);
    },
    onError: (error) => {
      if (!live) return;
      finished();
      callbacks.onError?.(error);
    },
  };
  acquire(manager, id);
  try {
    manager.startPolling(id, wrapped, overrides ?? null);
  } catch (err) {
    live = false;
    held = false;
    release(manager, id, false);
    throw err;
  }
  return () => {
    live = false;
    if (held) {
      held = false;
      release(manager, id, true);
    }
  };
}
