// The package under Node's `require` (Jest's default mode, babel-jest,
// ts-jest, next/jest), from the packed tarball:
// - `require("smart-polling")` takes the CommonJS build (index.cjs), loaded
//   as it is required: no init(); a manager's job and a Promise helper
//   complete against a mocked fetch; Babel's and TypeScript's interop find
//   the default export and the named ones;
// - `require("smart-polling/react")` shares that module instance;
// - without TextDecoder and TextEncoder (Jest's jsdom environment) both the
//   CommonJS build and the ES module load;
// - a missing .wasm: require() does not throw, the helpers resolve with
//   load_failed naming the file;
// - the CommonJS declarations (.d.cts) type-check a CommonJS importer under
//   TypeScript's node16 resolution.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

import { installPacked, mockFetch, until } from "./support.mjs";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const installs = [];
after(() => installs.forEach((i) => i.remove()));
function install() {
  const i = installPacked();
  installs.push(i);
  const root = path.resolve(i.dir, "../..");
  return { ...i, root, require: createRequire(path.join(root, "app.cjs")) };
}

const quick = { intervals: [20], initialDelay: 10, maxDelay: 50, jitter: 0 };

/** Runs a script in a child Node process in `cwd`; returns its last stdout line, parsed. */
function child(cwd, code, args = []) {
  const out = execFileSync(process.execPath, [...args, "-e", code], { cwd, encoding: "utf8", timeout: 30_000 });
  return JSON.parse(out.trim().split("\n").pop());
}

test("require() takes the CommonJS build, loaded as it is required: a job and a helper complete with no init()", async (t) => {
  const i = install();
  const sp = i.require("smart-polling");
  assert.equal(i.require.resolve("smart-polling"), path.join(i.dir, "index.cjs"));
  // module.exports is init, with the named exports on it: every interop finds them
  assert.equal(typeof sp, "function");
  assert.equal(sp.default, sp);
  assert.equal(sp.__esModule, true);
  for (const name of ["PollingManager", "initSync", "configureDefaults", "pollFileCompletion", "pollProjectCompletion", "smartPollingManager"]) {
    assert.ok(sp[name], `named export ${name}`);
  }
  await sp(); // init() resolves at once: loaded already

  const fetch = mockFetch({ doneAfter: 2 });
  t.after(fetch.restore);
  const m = new sp.PollingManager({ eventsUrl: null, shareAcrossTabs: false, ...quick }); // no init() before
  t.after(() => m.free());
  const done = [];
  m.startPolling("cjs-1", { onComplete: (r) => done.push(r.url) });
  await until(() => done.length > 0);
  assert.deepEqual(done, ["https://cdn.example/cjs-1.png"]);
  sp.configureDefaults({ shareAcrossTabs: false });
  const r = await sp.pollFileCompletion("cjs-2", quick);
  assert.equal(r.success, true, JSON.stringify(r));
  assert.deepEqual(fetch.calls, ["/api/file/cjs-1", "/api/file/cjs-1", "/api/file/cjs-2", "/api/file/cjs-2"]);
});

test("require('smart-polling/react') takes react.cjs and shares the entry's module instance", () => {
  const i = install();
  const react = i.require("smart-polling/react");
  assert.equal(i.require.resolve("smart-polling/react"), path.join(i.dir, "react.cjs"));
  for (const name of ["initSmartPolling", "PollingProvider", "usePolling", "usePollingGroup", "usePollingManager"]) {
    assert.equal(typeof react[name], "function", `smart-polling/react exports ${name}`);
  }
  const loaded = Object.keys(i.require.cache).filter((f) => f.startsWith(i.dir));
  assert.deepEqual(loaded.sort(), [path.join(i.dir, "index.cjs"), path.join(i.dir, "react.cjs")], "one instance of the entry");
});

test("without TextDecoder and TextEncoder (Jest's jsdom environment) the CommonJS build and the ES module load", () => {
  const i = install();
  const hide = "const saved = { TextDecoder, TextEncoder }; delete globalThis.TextDecoder; delete globalThis.TextEncoder;";
  const job = `
    const m = new sp.PollingManager({ eventsUrl: null, shareAcrossTabs: false, intervals: [10] });
    globalThis.fetch = async () => new Response(JSON.stringify({ id: "f", url: "https://cdn/f.png" }));
    m.startPolling("f", { onComplete: (r) => { console.log(JSON.stringify({ url: r.url, restored: globalThis.TextDecoder === saved.TextDecoder })); m.free(); } });`;
  // CommonJS: Node's own, for the package only (the test's globals stay as they are)
  const cjs = child(i.root, `${hide} const sp = require("smart-polling"); Object.assign(globalThis, saved); ${job}`);
  assert.deepEqual(cjs, { url: "https://cdn/f.png", restored: true });
  // the ES module: filled in before the glue loads
  const esm = child(i.root, `${hide} const sp = await import("smart-polling"); await sp.default(); const filled = typeof TextDecoder; Object.assign(globalThis, saved); ${job.replace("console.log(JSON.stringify({", "console.log(JSON.stringify({ filled,")}`, ["--input-type=module"]);
  assert.deepEqual(esm, { filled: "function", url: "https://cdn/f.png", restored: true });
});

test("a missing .wasm: require() does not throw, and the helpers resolve with load_failed naming the file", async () => {
  const i = install();
  renameSync(path.join(i.dir, "smart_polling_bg.wasm"), path.join(i.dir, "gone.wasm"));
  const sp = i.require("smart-polling");
  const r = await sp.pollFileCompletion("cjs-3", quick);
  assert.equal(r.success, false);
  assert.equal(r.failure.kind, "load_failed");
  assert.match(r.error, /could not load its WebAssembly module \(smart_polling_bg\.wasm\) from file:.*smart_polling_bg\.wasm/);
  await assert.rejects(sp(), /could not load its WebAssembly module/);
});

test("the CommonJS declarations type-check a CommonJS importer under TypeScript's node16 resolution", () => {
  const i = install();
  mkdirSync(path.join(i.root, "node_modules/@types"));
  symlinkSync(path.join(REPO, "node_modules/@types/react"), path.join(i.root, "node_modules/@types/react"), "dir");
  const file = path.join(i.root, "app.cts");
  writeFileSync(
    file,
    [
      'import init, { PollingManager, pollFileCompletion, type PollingError } from "smart-polling";',
      'import { usePolling, usePollingManager } from "smart-polling/react";',
      "export async function main(): Promise<string | null> {",
      "  await init();",
      '  const m = new PollingManager({ eventsUrl: null });',
      '  m.startPolling("f", { onError: (e: PollingError) => console.log(e.kind) });',
      '  const r = await pollFileCompletion("f");',
      "  return r.data?.url ?? null;",
      "}",
      "export const hooks = [usePolling, usePollingManager];",
    ].join("\n"),
  );
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.esnext.disposable.d.ts"],
    strict: true,
    noEmit: true,
    types: [],
    esModuleInterop: true,
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  assert.deepEqual(problems, []);
  const resolved = program.getSourceFiles().map((f) => path.relative(i.dir, f.fileName)).filter((f) => !f.startsWith(".."));
  assert.ok(resolved.includes("index.d.cts") && resolved.includes("react.d.cts"), `the require types: ${resolved}`);
});
