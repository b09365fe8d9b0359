// Imported by index.js before the glue, which makes a TextDecoder and a
// TextEncoder as it loads. Browsers, Node and vitest have both; Jest's
// jsdom environment (jest-environment-jsdom) leaves them out of its
// globals: there this takes Node's own. Bundlers drop this file from
// browser builds (package.json declares no side effects for it).
if (typeof TextDecoder === "undefined" || typeof TextEncoder === "undefined") {
  const util = globalThis.process?.getBuiltinModule?.("node:util");
  if (!util) {
    throw new Error(
      "smart-polling: this environment has no TextDecoder or TextEncoder (Jest's jsdom environment leaves them out). " +
        'Add them in a setup file (Jest: setupFiles): const { TextDecoder, TextEncoder } = require("node:util"); Object.assign(globalThis, { TextDecoder, TextEncoder });',
    );
  }
  globalThis.TextDecoder ??= util.TextDecoder;
  globalThis.TextEncoder ??= util.TextEncoder;
}
