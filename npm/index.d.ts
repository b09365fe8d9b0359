// Types of the package's entry (npm/index.js): wasm-bindgen's generated
// declarations, unchanged. `PollingManager` here is a subclass with the same
// members: its constructor throws a clear Error before `init()`, and `free()`
// stops every job first.
export * from "./smart_polling.js";
export { default } from "./smart_polling.js";
