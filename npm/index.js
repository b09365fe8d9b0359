// The package's entry: wasm-bindgen's generated module, re-exported as it
// is, plus what only JS can provide:
// - the Promise helpers and `smartPollingManager` work right after import:
//   they load the module on first use (the old module needed no init());
// - whether the module is loaded, so `new PollingManager()` before `init()`
//   says what to do instead of failing inside the glue;
// - an explicit `free()` that stops the manager's jobs first. (A manager the
//   page merely drops is garbage-collected through the same Rust `Drop` and
//   must finish its jobs, so the stop cannot live in `Drop`.)
import rawInit, * as raw from "./smart_polling.js";

let loaded = false;
let loading = null;

/** Loads the .wasm (once; later calls share the first); resolves with its exports. */
export default function init(input) {
  loading ??= rawInit(input).then((exports) => {
    loaded = true;
    return exports;
  });
  return loading;
}

/** Loads the .wasm synchronously from its bytes or a compiled module. */
export function initSync(module) {
  const exports = raw.initSync(module);
  loaded = true;
  loading ??= Promise.resolve(exports);
  return exports;
}

export class PollingManager extends raw.PollingManager {
  constructor(options) {
    if (!loaded) {
      throw new Error(
        "smart-polling: the WebAssembly module is not loaded yet. " +
          "Call `await init()` (the package's default export) once before `new PollingManager()`.",
      );
    }
    super(options);
  }

  /** Stops every job (promises resolve as "stopped"), then frees the manager. */
  free() {
    this.stopAllPolling();
    super.free();
  }
}

// Starts asked for while the module loads, by poll id: a stop before the
// module is there must still win.
const pending = new Map();

async function whenLoaded(pollId, start) {
  const ticket = { stopped: false };
  pending.set(pollId, ticket);
  try {
    await init();
  } finally {
    if (pending.get(pollId) === ticket) pending.delete(pollId);
  }
  const result = start();
  if (ticket.stopped) raw.stopPollId(pollId);
  return result;
}

/** Waits for a file on the module's shared manager (poll id `file-{fileId}`). */
export function pollFileCompletion(fileId, options) {
  return whenLoaded(`file-${fileId}`, () => raw.pollFileCompletion(fileId, options));
}

/** Waits for a project on the module's shared manager (poll id `project-{projectId}`). */
export function pollProjectCompletion(projectId, options) {
  return whenLoaded(`project-${projectId}`, () => raw.pollProjectCompletion(projectId, options));
}

/** The old module's singleton, usable right after import. */
export const smartPollingManager = {
  startPolling(pollId, checker, options) {
    return whenLoaded(String(pollId), () => raw.startCheckPolling(String(pollId), checker, options));
  },
  stopPolling(pollId) {
    const ticket = pending.get(pollId);
    if (ticket) {
      ticket.stopped = true;
      pending.delete(pollId);
    }
    return (loaded && raw.stopPollId(pollId)) || !!ticket;
  },
  stopAllPolling() {
    for (const ticket of pending.values()) ticket.stopped = true;
    pending.clear();
    if (loaded) raw.stopAllPollIds();
  },
  isPolling(pollId) {
    return pending.has(pollId) || (loaded && raw.isPollIdActive(pollId));
  },
  getPollingStatus() {
    return loaded ? raw.pollIdStatuses() : [];
  },
};
