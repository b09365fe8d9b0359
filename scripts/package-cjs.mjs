// Part of `npm run build` (called by scripts/package.mjs): the package's
// CommonJS build, for Node's `require` (Jest's default mode, babel-jest,
// ts-jest, next/jest). Browsers and bundlers never take it: package.json's
// `import` and `module` conditions come before `require`.
// - index.cjs: npm/require.js bundled with index.js and the glue (read, not
//   edited), `import.meta.url` being this file's url; TextDecoder and
//   TextEncoder are Node's own where the globals lack them (Jest's jsdom).
// - react.cjs: the hooks, requiring "smart-polling" (so index.cjs: one
//   module instance for the page's code and the hooks).
// - index.d.cts, react.d.cts, smart_polling.d.cts: the same declarations,
//   for TypeScript's node16/nodenext resolution of a CommonJS importer.
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { rolldown } from "rolldown";

const BANNER = [
  '"use strict";',
  'const __import_meta_url = require("node:url").pathToFileURL(__filename).href;',
  "const { TextDecoder, TextEncoder } =",
  '  typeof globalThis.TextDecoder === "function" && typeof globalThis.TextEncoder === "function" ? globalThis : require("node:util");',
].join("\n");

async function bundle(input, file, { banner = BANNER, external = [], exports = "named" } = {}) {
  const build = await rolldown({
    input,
    platform: "node",
    external: [/^node:/, ...external],
    transform: { define: { "import.meta.url": "__import_meta_url" } },
    logLevel: "silent",
  });
  await build.write({ file, format: "cjs", exports, banner, dynamicImportInCjs: false });
  await build.close();
}

export async function packageCjs(dir) {
  const entry = path.join(dir, "require.js");
  copyFileSync("npm/require.js", entry);
  try {
    await bundle(entry, path.join(dir, "index.cjs"), { exports: "default" });
  } finally {
    rmSync(entry);
  }
  // The hooks from their TypeScript source (the emitted react.js sits in a
  // "type": "module" folder, where a bundle takes a CommonJS module's
  // default as module.exports: index.cjs is built for either reading).
  await bundle("react/hooks.ts", path.join(dir, "react.cjs"), {
    banner: '"use client";\n"use strict";',
    external: ["react", "smart-polling"],
  });
  // Declarations: the ES module's, with its relative import made the
  // CommonJS one's.
  const cts = (from, to, edit = (t) => t) =>
    writeFileSync(path.join(dir, to), edit(readFileSync(path.join(dir, from), "utf8")));
  cts("smart_polling.d.ts", "smart_polling.d.cts");
  cts("index.d.ts", "index.d.cts", (t) => t.replaceAll('from "./smart_polling.js"', 'from "./smart_polling.cjs"'));
  cts("react.d.ts", "react.d.cts");
  return ["index.cjs", "react.cjs", "index.d.cts", "react.d.cts", "smart_polling.d.cts"];
}
