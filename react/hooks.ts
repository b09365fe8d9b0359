/**
 * React bindings for `smart-polling`, shipped as `smart-polling/react`
 * (bundled by scripts/package.mjs from this folder into pkg/react.js and pkg/react.d.ts:
 * `load.ts` the wasm's load, `subscribe.ts` the reference-counted subscriptions,
 * `manager.ts` the manager hook and provider, `usePolling.ts` and `group.ts` the
 * two watching hooks).
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
 * The bundle (react.js, react.cjs) starts with "use client", added by the build: the provider may be placed in a React
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
export { PollingManager } from "smart-polling";
export { initSmartPolling, type LoadFailure } from "./load.js";
export { isRetired, retireManager, subscribe, type PollingOverrides } from "./subscribe.js";
export {
  PollingProvider,
  usePollingContext,
  usePollingLoadError,
  usePollingManager,
  type PollingProviderProps,
} from "./manager.js";
export { usePolling, type PollingState, type PollingStatus } from "./usePolling.js";
export { usePollingGroup, type PollingGroup } from "./group.js";
