"use client";
/**
 * React bindings for `smart-polling`, shipped as `smart-polling/react`
 * (compiled by scripts/package.mjs into pkg/react.js and pkg/react.d.ts).
 * They depend only on `react` (18 or later, an optional peer dependency) and the
 * package itself, which they import by its name.
 *
 * ```tsx
 * import { PollingProvider, usePollingContext, usePolling } from "smart-polling/react";
 *
 * <PollingProvider options={{ maxStreams: 2 }} wasm="/smart_polling_bg.wasm">
 *   <App />
 * </PollingProvider>
 *
 * function Result({ fileId }: { fileId: string | null }) {
 *   const manager = usePollingContext();            // null until the wasm is loaded
 *   // status "error" with error.kind "load_failed" if the wasm could not load
 *   const { status, record, progress, error } = usePolling(manager, fileId, {
 *     onComplete: (file) => toast(`ready: ${file.url}`),
 *   });
 *   ...
 * }
 * ```
 *
 * The file starts with "use client": the provider may be placed in a React
 * Server Component (e.g. a Next.js app-router layout); nothing here runs on
 * the server but rendering (effects never do), and server rendering needs no
 * window or document.
 *
 * Lifetimes:
 *
 * - `initSmartPolling(wasm?)` loads the wasm once per page; every hook awaits
 *   it. When the bundler cannot resolve the default url of
 *   `smart_polling_bg.wasm` (e.g. Next.js serving it from `/public`), pass it
 *   as `<PollingProvider wasm={url}>` / `usePollingManager(options, url)`, or
 *   call `initSmartPolling(url)` before the first render: the first call
 *   decides which input is loaded, later inputs are ignored.
 * - A load that fails is never thrown into React: `usePollingManager` (and so
 *   the provider's manager) stays `null`. Below a `PollingProvider`,
 *   `usePollingLoadError()` returns the failure (`kind: "load_failed"`) and
 *   `usePolling(null, id)` reports it as its state (status `error`; no
 *   callback runs, since no job started): below a `PollingProvider` its
 *   own load's failure, elsewhere the page's last load's (any hook's or
 *   `initSmartPolling`'s), until a load starts again. A later mount of
 *   `usePollingManager` / `PollingProvider` loads again, and a manager whose
 *   load failed is created once a later load succeeds.
 * - `usePollingManager(options, wasm?)` creates one `PollingManager` per mounted
 *   component, lazily in an effect, so React StrictMode's mount → unmount →
 *   mount ends with exactly one live manager. On unmount it stops every job and
 *   frees the manager. The options are read once, when it is created. It
 *   returns `null` until the manager exists. Invalid options (`RangeError`)
 *   are a programming error: thrown during render, for an error boundary.
 * - `usePolling(manager, fileId, callbacks, overrides?)` watches one file while
 *   `fileId` is non-null. A new id stops the old job and starts the new one;
 *   unmounting stops it. The state returned always belongs to the current
 *   `manager` and `fileId` (never the previous id's, not even for one frame). Callbacks and overrides are read through refs, so new
 *   function identities do not restart anything (overrides only apply when a
 *   job starts). No callback and no state update reaches React after the
 *   effect has been cleaned up.
 * - `usePollingGroup(manager)` is the same for a changing set of ids started
 *   imperatively (a list of generations): `start`, `stop`, `stopAll`, `has`,
 *   and everything it started is stopped when the component unmounts.
 *
 * Several subscribers may watch the same id: the manager runs one job for it
 * and each subscriber hears the outcome. The job is only stopped when the last
 * subscriber of this file lets go (a reference count per manager and id).
 *
 * Use a manager from these bindings (the context's or `usePollingManager`'s)
 * only through `subscribe`, `usePolling` and `usePollingGroup`. Watchers added
 * directly with `manager.startPolling` are not reference-counted: they join the
 * same job, and that job is stopped when the last hook subscriber leaves, so
 * they can be cut off without an outcome.
 */
import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useInsertionEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import type { ReactElement, ReactNode } from "react";
import init, { PollingManager } from "smart-polling";
import type {
  FileRecord,
  InitInput,
  JobOptions,
  ManagerOptions,
  PollingCallbacks,
  PollingError,
  PollingProgress,
} from "smart-polling";

export type {
  Channel,
  FileRecord,
  JobOptions,
  ManagerOptions,
  PollingCallbacks,
  PollingConfig,
  PollingError,
  PollingErrorKind,
  PollingMetrics,
  PollingProgress,
} from "smart-polling";
export { PollingManager };

/** Per-job settings passed to `startPolling` (e.g. `{ preset: "video" }`, `{ useStream: false }`). */
export type PollingOverrides = JobOptions;

// ---------------------------------------------------------------------------
// wasm initialisation, and its state for the hooks

/**
 * How the hooks report that the module could not load: `usePollingLoadError()`,
 * and `usePolling`'s `error` (the shape of a `PollingError`, kind "load_failed").
 */
export interface LoadFailure {
  kind: "load_failed";
  /** What failed to load, from where, and why (the package's `init()` error). */
  message: string;
  attempt: 0;
  /** A later mount of `usePollingManager` / `PollingProvider` loads again. */
  retryable: true;
  status?: undefined;
}

// Whether a load succeeded, and who waits for one: a manager whose own load
// failed is created when a later load (another mount's) succeeds.
let loaded = false;
const loadListeners = new Set<() => void>();

function onLoaded(listener: () => void): () => void {
  loadListeners.add(listener);
  return () => {
    loadListeners.delete(listener);
  };
}

/** The hooks' form of a load error (the package's `init()` rejection). */
function loadFailure(err: unknown): LoadFailure {
  const message = err instanceof Error ? err.message : String(err);
  return { kind: "load_failed", message, attempt: 0, retryable: true };
}

// The page's last load failure, for the hooks outside a provider: set when
// a load fails, cleared when the next one starts.
let pageFailure: LoadFailure | null = null;
const failureListeners = new Set<() => void>();

function setPageFailure(failure: LoadFailure | null): void {
  if (pageFailure === failure) return;
  pageFailure = failure;
  for (const listener of [...failureListeners]) listener();
}

function onPageFailure(listener: () => void): () => void {
  failureListeners.add(listener);
  return () => {
    failureListeners.delete(listener);
  };
}

const currentPageFailure = (): LoadFailure | null => pageFailure;
const noFailure = (): LoadFailure | null => null; // the server loads nothing

let initPromise: Promise<void> | null = null;
// The last input named (a url, bytes or a module): a later load without one
// (a hook's, after that load failed) tries it again, not the default url.
let namedInput: InitInput | undefined;

/**
 * Loads the wasm module once; later calls return the same promise. Pass
 * `input` (a url of `smart_polling_bg.wasm`, bytes or a module) only when the
 * bundler cannot resolve the default `new URL("smart_polling_bg.wasm", import.meta.url)`.
 * A failed load is not cached, so a later call tries again. It rejects with
 * the package's `init()` error; the hooks report it instead (see
 * `usePollingLoadError`).
 */
export function initSmartPolling(input?: InitInput): Promise<void> {
  if (!initPromise) {
    setPageFailure(null);
    if (input !== undefined) namedInput = input;
    const loading = namedInput === undefined ? init() : init({ module_or_path: namedInput });
    initPromise = loading.then(
      () => {
        loaded = true;
        for (const listener of [...loadListeners]) listener();
      },
      (err: unknown) => {
        initPromise = null;
        setPageFailure(loadFailure(err));
        throw err;
      },
    );
  }
  return initPromise;
}

// ---------------------------------------------------------------------------
// subscriptions: reference counts per manager and id, retired managers

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
function checkCallbacks(callbacks: unknown): void {
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

// ---------------------------------------------------------------------------
// hooks


/** A manager and, while it is null because its load failed, the failure. */
interface ManagerState {
  manager: PollingManager | null;
  failure: LoadFailure | null;
}

/** `usePollingManager`, with its load failure (for the provider's context). */
function useManagerState(options: ManagerOptions | null | undefined, wasm: InitInput | undefined): ManagerState {
  const optionsRef = useRef(options);
  const wasmRef = useRef(wasm);
  const [state, setState] = useState<ManagerState>(NO_MANAGER);
  const [invalid, setInvalid] = useState<{ error: unknown } | null>(null);

  useEffect(() => {
    let cancelled = false;
    let created: PollingManager | null = null;
    const create = () => {
      if (cancelled || created || !loaded) return;
      try {
        created = new PollingManager(optionsRef.current ?? null);
      } catch (error) {
        cancelled = true;
        setInvalid({ error });
        return;
      }
      setState({ manager: created, failure: null });
    };
    // this mount's load, or a later one (another mount's) that succeeds
    const unsubscribe = onLoaded(create);
    initSmartPolling(wasmRef.current).then(create, (error: unknown) => {
      if (!cancelled && !created) setState({ manager: null, failure: loadFailure(error) });
    });
    return () => {
      cancelled = true;
      unsubscribe();
      if (created) retireManager(created);
      setState(NO_MANAGER);
    };
  }, []);

  if (invalid) throw invalid.error;
  return state;
}

const NO_MANAGER: ManagerState = { manager: null, failure: null };

/**
 * One `PollingManager` for the lifetime of the calling component (see the
 * file comment). `null` until the wasm is loaded and the manager created;
 * stays `null` when the load fails, until a later load succeeds
 * (`usePollingLoadError` and `usePolling` report the failure).
 * `wasm` (read once) is passed to `initSmartPolling` when the bundler cannot
 * resolve the default url of `smart_polling_bg.wasm`. Throws invalid
 * options' `RangeError` during render.
 */
export function usePollingManager(options?: ManagerOptions | null, wasm?: InitInput): PollingManager | null {
  return useManagerState(options, wasm).manager;
}

/** The nearest provider's manager and load failure; `null` without a provider. */
const PollingContext = createContext<ManagerState | null>(null);

export interface PollingProviderProps {
  /** Read once, when the manager is created. */
  options?: ManagerOptions | null | undefined;
  /**
   * Where to load `smart_polling_bg.wasm` from (a url, bytes or a module), for
   * `initSmartPolling`; only needed when the bundler cannot resolve the
   * default url. Read once.
   */
  wasm?: InitInput | undefined;
  children?: ReactNode;
}

/**
 * Shares one manager (from `usePollingManager`) and its load failure with
 * everything below it. Renders its children whether or not the module loads.
 */
export function PollingProvider({ options, wasm, children }: PollingProviderProps): ReactElement {
  const value = useManagerState(options, wasm); // a new object only when it changes
  return createElement(PollingContext.Provider, { value }, children);
}

/**
 * The manager of the nearest `PollingProvider`; `null` while it loads, when
 * its load failed (see `usePollingLoadError`), or without a provider.
 */
export function usePollingContext(): PollingManager | null {
  return useContext(PollingContext)?.manager ?? null;
}

/**
 * Why the module could not load (`kind: "load_failed"`): below a
 * `PollingProvider`, its own load's failure; without one, the page's last
 * load's (a `usePollingManager`'s or `initSmartPolling`'s). `null` while a
 * load runs, once one has succeeded, and on the server.
 */
export function usePollingLoadError(): LoadFailure | null {
  const provided = useContext(PollingContext);
  const page = useSyncExternalStore(onPageFailure, currentPageFailure, noFailure);
  // A provider's failure holds until a load starts again; then the page's
  // (null while it runs, the newest failure if it fails too).
  if (provided) return provided.failure && page;
  return page;
}

export type PollingStatus = "idle" | "active" | "completed" | "error";

export interface PollingState {
  /**
   * `idle` without an id or manager, `active` while watched, then `completed`
   * or `error`; also `error` when the manager is `null` because the module
   * could not load (`usePollingLoadError`).
   */
  status: PollingStatus;
  /** The last record seen (onUpdate / onComplete). */
  record: FileRecord | null;
  progress: PollingProgress | null;
  /** The job's error, or the module's load failure (`kind: "load_failed"`). */
  error: PollingError | LoadFailure | null;
  /** The last transient error and the wait before the next request;
   *  `null` again once that request goes, and when the job ends. */
  retry: { error: PollingError; delayMs: number } | null;
}

const IDLE: PollingState = { status: "idle", record: null, progress: null, error: null, retry: null };
const ACTIVE: PollingState = { ...IDLE, status: "active" };

/** A job's state and the (manager, id) it belongs to. */
interface OwnedState {
  manager: PollingManager | null;
  fileId: string | null;
  state: PollingState;
}

/**
 * Watches `fileId` on `manager` while both are set; see the file comment.
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
    if (!manager || !fileId || retired.has(manager)) {
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
          update((s) => ({ ...s, record }));
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
          update((s) => ({ ...s, status: "completed", record, retry: null }));
          callbacksRef.current?.onComplete?.(record);
        },
        onError: (error) => {
          update((s) => ({ ...s, status: "error", error, retry: null }));
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

export interface PollingGroup {
  /**
   * Starts (or joins) the job of `id`; a second `start` of an id this group
   * holds replaces its callbacks' subscription without restarting the job (if
   * the new subscription throws, the old one stays).
   */
  start(id: string, callbacks: PollingCallbacks, overrides?: PollingOverrides | null): void;
  /** Stops watching `id` (silently); true if this group was watching it. */
  stop(id: string): boolean;
  stopAll(): void;
  /** True while this group watches `id` (until it completes, fails or is stopped). */
  has(id: string): boolean;
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
      // Silent while the group is closed (see `close`).
      const quiet =
        <A extends unknown[]>(f: ((...a: A) => void) | undefined) =>
        (...a: A) => {
          if (!closed) f?.(...a);
        };
      unsubscribe = subscribe(
        manager,
        id,
        {
          ...callbacks,
          onUpdate: quiet(callbacks.onUpdate),
          onProgress: quiet(callbacks.onProgress),
          onRetry: quiet(callbacks.onRetry),
          onComplete: (record) => {
            forget();
            quiet(callbacks.onComplete)(record);
          },
          onError: (error) => {
            forget();
            quiet(callbacks.onError)(error);
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
