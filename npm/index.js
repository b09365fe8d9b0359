// The package's entry: wasm-bindgen's generated module, re-exported as it
// is, plus the two things a class in JS needs and Rust cannot see:
// - whether the module is loaded, so `new PollingManager()` before `init()`
//   says what to do instead of failing inside the glue;
// - an explicit `free()` that stops the manager's jobs first. (A manager the
//   page merely drops is garbage-collected through the same Rust `Drop` and
//   must finish its jobs, so the stop cannot live in `Drop`.)
import rawInit, { initSync as rawInitSync, PollingManager as RawPollingManager } from "./smart_polling.js";

export * from "./smart_polling.js";

let loaded = false;

/** Loads the .wasm (once); resolves with its exports. */
export default async function init(input) {
  const exports = await rawInit(input);
  loaded = true;
  return exports;
}

/** Loads the .wasm synchronously from its bytes or a compiled module. */
export function initSync(module) {
  const exports = rawInitSync(module);
  loaded = true;
  return exports;
}

export class PollingManager extends RawPollingManager {
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
