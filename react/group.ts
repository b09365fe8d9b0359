// `usePollingGroup`: a changing set of jobs started imperatively.
import { useEffect, useRef } from "react";
import type { PollingCallbacks, PollingManager } from "smart-polling";
import { checkCallbacks, subscribe, type PollingOverrides } from "./subscribe.js";

/** Its methods need no `this`: `onClick={group.stopAll}` works. */
export interface PollingGroup {
  /**
   * Starts (or joins) the job of `id`; a second `start` of an id this group
   * holds replaces its callbacks' subscription without restarting the job (if
   * the new subscription throws, the old one stays).
   */
  start(this: void, id: string, callbacks: PollingCallbacks, overrides?: PollingOverrides | null): void;
  /** Stops watching `id` (silently); true if this group was watching it. */
  stop(this: void, id: string): boolean;
  stopAll(this: void): void;
  /** True while this group watches `id` (until it completes, fails or is stopped). */
  has(this: void, id: string): boolean;
  /** False until the manager exists. */
  readonly ready: boolean;
}

/**
 * A set of jobs started imperatively (one per generation), all stopped when
 * the component unmounts or the manager changes. Callbacks of stopped jobs
 * never run. The returned object is stable for a given manager.
 */
export function usePollingGroup(manager: PollingManager | null): PollingGroup {
  // One group per manager, kept in a ref: a hot update (React Fast Refresh)
  // re-runs a `useMemo` whatever its dependencies, and a new group would
  // drop the jobs of the old one.
  const held = useRef<{ manager: PollingManager | null; group: ClosableGroup } | null>(null);
  if (!held.current || held.current.manager !== manager) {
    held.current = { manager, group: makeGroup(manager) };
  }
  const group = held.current.group;

  // open/close in the effect, so StrictMode's simulated unmount → mount leaves it usable
  useEffect(() => {
    group.open();
    return () => group.close();
  }, [group]);
  return group;
}

type ClosableGroup = PollingGroup & { open(): void; close(): void };

function makeGroup(manager: PollingManager | null): ClosableGroup {
  const subs = new Map<string, () => void>();
  let closed = false;
  const api: ClosableGroup = {
    ready: manager !== null,
    start(id, callbacks, overrides) {
      if (!manager || closed) throw new Error("smart-polling: the polling manager is not ready");
      const previous = subs.get(id);
      let unsubscribe: (() => void) | null = null;
      let ended = false;
      const forget = () => {
        ended = true;
        if (unsubscribe && subs.get(id) === unsubscribe) subs.delete(id);
      };
      // Subscribe before letting go of `previous`: while both hold the id the
      // shared job keeps running (no stop/restart, no new timeout), and if
      // this throws, `previous` is left in place.
      checkCallbacks(callbacks);
      // Silent while the group is closed (see `close`). Each callback is
      // looked up when due and called as a method of the page's object, as
      // `startPolling` calls it (a class instance's `this` holds).
      unsubscribe = subscribe(
        manager,
        id,
        {
          ...callbacks,
          onUpdate: (record) => {
            if (!closed) callbacks.onUpdate?.(record);
          },
          onProgress: (progress) => {
            if (!closed) callbacks.onProgress?.(progress);
          },
          onRetry: (error, delayMs) => {
            if (!closed) callbacks.onRetry?.(error, delayMs);
          },
          onComplete: (record) => {
            forget();
            if (!closed) callbacks.onComplete?.(record);
          },
          onError: (error) => {
            forget();
            if (!closed) callbacks.onError?.(error);
          },
        },
        overrides,
      );
      if (ended) subs.delete(id);
      else subs.set(id, unsubscribe);
      previous?.();
    },
    stop(id) {
      const unsubscribe = subs.get(id);
      if (!unsubscribe) return false;
      subs.delete(id);
      unsubscribe();
      return true;
    },
    stopAll() {
      const all = [...subs.values()];
      subs.clear();
      for (const unsubscribe of all) unsubscribe();
    },
    has(id) {
      return subs.has(id);
    },
    open() {
      closed = false;
    },
    close() {
      // The jobs stop a microtask later, unless the group opens again
      // first: a hot update (React Fast Refresh) and StrictMode run this
      // cleanup and the effect again in one commit, and the jobs go on.
      // Meanwhile their callbacks are silent.
      closed = true;
      queueMicrotask(() => {
        if (closed) api.stopAll();
      });
    },
  };
  return api;
}
