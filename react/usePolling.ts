// `usePolling`: one file watched while its id is set.
import { useEffect, useInsertionEffect, useMemo, useRef, useState } from "react";
import type { Completed, FileRecord, PollingCallbacks, PollingError, PollingManager, PollingProgress } from "smart-polling";
import type { LoadFailure } from "./load.js";
import { usePollingLoadError } from "./manager.js";
import { checkCallbacks, isRetired, subscribe, type PollingOverrides } from "./subscribe.js";

export type PollingStatus = "idle" | "active" | "completed" | "error";

/**
 * A job's state for rendering, narrowed by `status`: `idle` without an id or
 * manager, `active` while watched, then `completed` (its `record` has its
 * `url`) or `error` (its `error` is set); also `error` when the manager is
 * `null` because the module could not load (`usePollingLoadError`).
 */
export type PollingState = PollingStateCommon &
  (
    | { status: "idle"; record: null; error: null }
    | { status: "active"; record: FileRecord | null; error: null }
    | { status: "completed"; record: Completed<FileRecord>; error: null }
    | { status: "error"; record: FileRecord | null; error: PollingError | LoadFailure }
  );

/** What every state of `PollingState` has. */
export interface PollingStateCommon {
  /**
   * `idle` without an id or manager, `active` while watched, then `completed`
   * or `error`; also `error` when the manager is `null` because the module
   * could not load (`usePollingLoadError`).
   */
  status: PollingStatus;
  /** The last record seen (onUpdate / onComplete). */
  record: FileRecord | null;
  /** The last report; once the job ended, its end: `nextPollIn` 0, and
   *  once `completed` `estimatedTimeRemaining` 0 and `progress` 100 where
   *  they were given (on an error, no estimate). */
  progress: PollingProgress | null;
  /** The job's error, or the module's load failure (`kind: "load_failed"`). */
  error: PollingError | LoadFailure | null;
  /** The last transient error and the wait before the next request;
   *  `null` again once that request goes, and when the job ends. */
  retry: { error: PollingError; delayMs: number } | null;
}

const IDLE: PollingState = { status: "idle", record: null, progress: null, error: null, retry: null };

/** The last report as the job's end shows it: nothing to wait for; once
 *  completed, done (on an error, no estimate is left). */
function ended(p: PollingProgress | null, completed: boolean): PollingProgress | null {
  if (p === null) return null;
  const end: PollingProgress = { ...p, nextPollIn: 0 };
  delete end.estimatedTimeRemaining;
  if (completed && p.estimatedTimeRemaining !== undefined) end.estimatedTimeRemaining = 0;
  if (completed && p.progress !== undefined) end.progress = 100;
  return end;
}
const ACTIVE: PollingState = { ...IDLE, status: "active" };

/** A job's state and the (manager, id) it belongs to. */
interface OwnedState {
  manager: PollingManager | null;
  fileId: string | null;
  state: PollingState;
}

/**
 * Watches `fileId` on `manager` while both are set (the manual's React
 * section says how it behaves on re-renders, id changes and unmounts).
 * Returns the job's state for rendering; `callbacks` are for side effects.
 * While `manager` is `null` and the module could not load
 * (`usePollingLoadError`), the state is `error` with that failure (no
 * callback runs: no job started).
 */
export function usePolling(
  manager: PollingManager | null,
  fileId: string | null | undefined,
  callbacks?: PollingCallbacks | null,
  overrides?: PollingOverrides | null,
): PollingState {
  const callbacksRef = useRef(callbacks);
  const overridesRef = useRef(overrides);
  // Before any effect runs, and (unlike a layout effect) with no warning
  // from React 18's server renderer where a DOM exists (jsdom).
  useInsertionEffect(() => {
    callbacksRef.current = callbacks;
    overridesRef.current = overrides;
  });
  const [owned, setOwned] = useState<OwnedState>({ manager: null, fileId: null, state: IDLE });
  const failure = usePollingLoadError();
  const failed = useMemo<PollingState | null>(() => failure && { ...IDLE, status: "error", error: failure }, [failure]);

  useEffect(() => {
    // A retired manager is none: a component that owns its manager and
    // watches with it in one file sees, on a hot update (React Fast
    // Refresh), its own cleanup retire the manager before this effect runs
    // again; the new manager comes with the next render.
    if (!manager || !fileId || isRetired(manager)) {
      setOwned((o) => (o.manager === null && o.fileId === null ? o : { manager: null, fileId: null, state: IDLE }));
      return;
    }
    checkCallbacks(callbacksRef.current);
    setOwned({ manager, fileId, state: ACTIVE });
    // only this (manager, id)'s state is changed, whatever ran in between
    const update = (change: (s: PollingState) => PollingState) =>
      setOwned((o) => (o.manager === manager && o.fileId === fileId ? { ...o, state: change(o.state) } : o));
    const unsubscribe = subscribe(
      manager,
      fileId,
      {
        onUpdate: (record) => {
          update((s) => (s.status === "active" ? { ...s, record } : s));
          callbacksRef.current?.onUpdate?.(record);
        },
        onProgress: (progress) => {
          // a request after the error's: its wait is over
          const over = (s: PollingState) => s.retry !== null && progress.attempt > s.retry.error.attempt;
          update((s) => ({ ...s, progress, retry: over(s) ? null : s.retry }));
          callbacksRef.current?.onProgress?.(progress);
        },
        onRetry: (error, delayMs) => {
          update((s) => ({ ...s, retry: { error, delayMs } }));
          callbacksRef.current?.onRetry?.(error, delayMs);
        },
        onComplete: (record) => {
          update((s) => ({ ...s, status: "completed", record, progress: ended(s.progress, true), error: null, retry: null }));
          callbacksRef.current?.onComplete?.(record);
        },
        onError: (error) => {
          update((s) => ({ ...s, status: "error", progress: ended(s.progress, false), error, retry: null }));
          callbacksRef.current?.onError?.(error);
        },
      },
      overridesRef.current,
    );
    return unsubscribe;
  }, [manager, fileId]);

  // Until the effect has run for new arguments, the stored state is another
  // id's: report what the effect will start with instead.
  if (!fileId) return IDLE;
  if (!manager) return failed ?? IDLE;
  if (owned.manager !== manager || owned.fileId !== fileId) return ACTIVE;
  return owned.state;
}
