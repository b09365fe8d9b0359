// The source of the package's CommonJS entry, index.cjs (Node's `require`:
// Jest's default mode, babel-jest, ts-jest, next/jest), bundled with
// index.js and the glue by scripts/package-cjs.mjs. Browsers and bundlers
// take the ES module (the `import` and `module` conditions come first).
//
// The .wasm is read and compiled synchronously from the package's folder
// as the entry is required: `new PollingManager()` needs no `init()`, and
// fake timers installed later cannot hold the load up. If that fails (the
// file is missing), `init()` and the helpers report why (`load_failed`), as
// in the ES module.
import init, * as api from "./index.js";
import { readFileSync } from "node:fs";

try {
  api.initSync({ module: readFileSync(new URL("smart_polling_bg.wasm", import.meta.url)) });
} catch {
  // left to init() to report
}

// module.exports is init itself, with the named exports on it: `require()`,
// Babel's and TypeScript's interop (`default` and `__esModule`) and a
// bundle that takes a CommonJS module's default as its module.exports (as
// the hooks' own index.cjs build does) all find what the ES module exports.
export default Object.defineProperty(Object.assign(init, api), "__esModule", { value: true });
