// Types of the package's entry (npm/index.js): its public API, listed name by
// name. The types of options, records and results are wasm-bindgen's
// generated declarations (from the Rust crate's TypeScript section),
// re-exported unchanged; the raw exports the entry wraps are not part of it.
import type {
  CompletedFile,
  FileRecord,
  InitInput,
  ManagerOptions,
  PollOptions,
  PollingResult,
  ProjectRecord,
  ProjectResult,
  SmartPollingManager,
  SyncInitInput,
} from "./smart_polling.js";

export type {
  Channel,
  CheckResult,
  Completed,
  CompletedFile,
  FileRecord,
  Generation,
  InitInput,
  JobOptions,
  ManagerOptions,
  Media,
  PollOptions,
  PollStatus,
  PollingCallbacks,
  PollingChecker,
  PollingConfig,
  PollingError,
  PollingErrorKind,
  PollingMetrics,
  PollingOptions,
  PollingProgress,
  PollingResult,
  ProjectRecord,
  ProjectResult,
  SmartPollingManager,
  SyncInitInput,
  Task,
  TaskStatus,
} from "./smart_polling.js";

/** Watches generation jobs (see the README). Needs `await init()` first.
 *  `free()` and `[Symbol.dispose]()` (`using`) stop every job, then free it. */
export { PollingManager } from "./smart_polling.js";

/**
 * Loads the .wasm once; later calls share the load under way or done. A
 * failed load is not kept: the next call (or Promise helper, or hook) tries
 * again. Rejects with an `Error` saying what failed to load, from where and
 * why (the original error as its `cause`), whose `retryable` says whether
 * loading again may succeed (`true`: the network, a server error) or only a
 * change to the deployment can help (`false`: a 404, an HTML page, a
 * Content-Security-Policy).
 *
 * Without an input it loads `smart_polling_bg.wasm` next to the package's
 * entry: from the file system in Node, fetched in a browser (where a bundler
 * rewrites that url). Needed before `new PollingManager()`; the Promise
 * helpers and `smartPollingManager` load the module themselves.
 */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<void>;

/** Loads the .wasm synchronously from its bytes or a compiled module. */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): void;

/**
 * Sets the options of the shared manager behind the Promise helpers and
 * `smartPollingManager` (by default: the default urls, polling only; e.g.
 * `{ eventsUrl: "/api/events/file.{id}" }` opts into the event stream).
 * Callable before the module is loaded: the options are kept and applied on
 * load, before any helper starts (if they are invalid, the helpers resolve
 * with that error, `method: "error"` and `failure.kind` "load_failed" with
 * `retryable: false`, until a `configureDefaults` call succeeds).
 * Once loaded, throws a RangeError for invalid options.
 */
export function configureDefaults(options: ManagerOptions): void;

/**
 * Waits for a file on the module's shared manager (poll id `file-{fileId}`);
 * resolves, never rejects, except with a RangeError for invalid options.
 * When the module cannot load it resolves with `success: false`,
 * `method: "error"` and `failure.kind` "load_failed" (a later call loads
 * again; `retryable` is `false` when that cannot help: a 404, an HTML page
 * instead of the `.wasm`, a Content-Security-Policy without
 * `'wasm-unsafe-eval'`, whose message says what to change; a `connect-src`
 * that blocks the `.wasm`'s url fails as the network does, `retryable: true`,
 * and the message names it among the causes).
 *
 * `R`: the record's type as the page declares it (the old module's data was
 * untyped), e.g. `pollFileCompletion<IFileRead>(id)`; the record is not
 * checked against it, only read (`url`, the tasks' status). On success its
 * `url` is a string, whatever `R` says of it.
 */
export function pollFileCompletion<R = FileRecord>(
  fileId: string,
  options?: PollOptions<R>,
): Promise<PollingResult<R, CompletedFile<R>>>;

/** Waits for a project (poll id `project-{projectId}`); resolves with the
 *  matching entry's value, its url and the project id. A load failure
 *  resolves as for `pollFileCompletion`.
 *
 *  `V`: the entry's value as the page declares it (not checked, only read),
 *  e.g. `pollProjectCompletion<{ thumbnail_url?: string }>(id)`. */
export function pollProjectCompletion<V = { [field: string]: unknown }>(
  projectId: string,
  options?: PollOptions<ProjectRecord>,
): Promise<PollingResult<ProjectRecord, ProjectResult<V>>>;

/** The old module's singleton, usable right after import (`startPolling`
 *  resolves with a "load_failed" result when the module cannot load). */
export const smartPollingManager: SmartPollingManager;

// `PollingManager` has `[Symbol.dispose]()` (for `using`). Projects whose
// `lib` predates `ESNext.Disposable` (ES2020, ES2022) would otherwise fail on
// it with skipLibCheck off. The same declaration as TypeScript's own lib
// and @types/node, with which it merges.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}
