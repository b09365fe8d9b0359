// The manager hook (one manager per mounted component) and the provider
// that shares it.
import { createContext, createElement, useContext, useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { ReactElement, ReactNode } from "react";
import { PollingManager } from "smart-polling";
import type { InitInput, ManagerOptions } from "smart-polling";
import {
  currentPageFailure,
  initSmartPolling,
  isLoaded,
  loadFailure,
  noFailure,
  onLoaded,
  onPageFailure,
  type LoadFailure,
} from "./load.js";
import { retireManager } from "./subscribe.js";

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
      if (cancelled || created || !isLoaded()) return;
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
 * One `PollingManager` for the lifetime of the calling component (created
 * once, freed on unmount; its options are read once). `null` until the wasm is loaded and the manager created;
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
