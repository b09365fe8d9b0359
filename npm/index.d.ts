// Types of the package's entry (npm/index.js). The types of options, records
// and results are wasm-bindgen's generated declarations (from the Rust
// crate's TypeScript section), re-exported unchanged.
import type {
  FileRecord,
  InitInput,
  InitOutput,
  PollOptions,
  PollingResult,
  ProjectRecord,
  ProjectResult,
  SmartPollingManager,
  SyncInitInput,
} from "./smart_polling.js";

export type * from "./smart_polling.js";
export { PollingManager } from "./smart_polling.js";

/** Loads the .wasm once (later calls share the first load). Needed before
 *  `new PollingManager()`; the Promise helpers and `smartPollingManager` load
 *  it themselves. */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;

/** Loads the .wasm synchronously from its bytes or a compiled module. */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/** Waits for a file on the module's shared manager (poll id `file-{fileId}`);
 *  resolves, never rejects, except with a RangeError for invalid options. */
export function pollFileCompletion(
  fileId: string,
  options?: PollOptions<FileRecord>,
): Promise<PollingResult<FileRecord>>;

/** Waits for a project (poll id `project-{projectId}`); resolves with the
 *  matching entry's value, its url and the project id. */
export function pollProjectCompletion(
  projectId: string,
  options?: PollOptions<ProjectRecord>,
): Promise<PollingResult<ProjectResult>>;

/** The old module's singleton, usable right after import. */
export const smartPollingManager: SmartPollingManager;
