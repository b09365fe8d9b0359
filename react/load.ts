// The wasm's load, once per page, and its state for the hooks: whether a
// load succeeded (a manager whose own load failed is created when a later
// one succeeds) and the page's last failure (for the hooks outside a
// provider).
import init from "smart-polling";
import type { InitInput } from "smart-polling";

/**
 * How the hooks report that the module could not load: `usePollingLoadError()`,
 * and `usePolling`'s `error` (the shape of a `PollingError`, kind "load_failed").
 */
export interface LoadFailure {
  kind: "load_failed";
  /** What failed to load, from where, and why (the package's `init()` error). */
  message: string;
  attempt: 0;
  /**
   * Whether loading again may succeed: `true` after a network failure or a
   * server error (a later mount of `usePollingManager` / `PollingProvider`
   * loads again); `false` when only a change to the deployment can help (a
   * 404, an HTML page instead of the `.wasm`, a Content-Security-Policy
   * without `'wasm-unsafe-eval'`): the message says what to change.
   */
  retryable: boolean;
  status?: undefined;
}

// Whether a load succeeded, and who waits for one: a manager whose own load
// failed is created when a later load (another mount's) succeeds.
let loaded = false;

/** True once a load has succeeded. */
export const isLoaded = (): boolean => loaded;
const loadListeners = new Set<() => void>();

export function onLoaded(listener: () => void): () => void {
  loadListeners.add(listener);
  return () => {
    loadListeners.delete(listener);
  };
}

/** The hooks' form of a load error (the package's `init()` rejection). */
export function loadFailure(err: unknown): LoadFailure {
  const message = err instanceof Error ? err.message : String(err);
  const retryable = (err as { retryable?: unknown } | null)?.retryable !== false;
  return { kind: "load_failed", message, attempt: 0, retryable };
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

export function onPageFailure(listener: () => void): () => void {
  failureListeners.add(listener);
  return () => {
    failureListeners.delete(listener);
  };
}

export const currentPageFailure = (): LoadFailure | null => pageFailure;
export const noFailure = (): LoadFailure | null => null; // the server loads nothing

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
 * `usePollingLoadError`), and a promise dropped is no unhandled rejection
 * (a top-level call runs in a server render too, where nothing loads).
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
    // A caller that drops the promise (the manual's top-level call, which a
    // server render runs too, where a url cannot load) leaves no unhandled
    // rejection: the hooks report the failure, and a caller that awaits
    // the promise still gets it.
    initPromise.catch(() => {});
  }
  return initPromise;
}
