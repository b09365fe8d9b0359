// The package under Node's `require` (Jest's default mode, babel-jest,
// ts-jest, next/jest), from the packed tarball:
// - where `require` resolves as Jest's and an older Node's do,
//   `require("smart-polling")` takes the CommonJS build (index.cjs), loaded
//   as it is required: no init(); a manager's job and a Promise helper
//   complete against a mocked fetch; Babel's and TypeScript's interop find
//   the default export and the named ones; `require("smart-polling/react")`
//   shares that module instance;
// - where `require` loads ES modules (this Node), it takes the ES module:
//   one instance for a require and an import;
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
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

import { installPacked } from "./support.mjs";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const installs = [];
after(() => installs.forEach((i) => i.remove()));
function install() {
  const i = installPacked();
  installs.push(i);
  const root = path.resolve(i.dir, "../..");
  return { ...i, root, require: createRequire(path.join(root, "app.cjs")) };
}

/** Runs a script in a child Node process in `cwd`; returns its last stdout line, parsed. */
function child(cwd, code, args = []) {
  const out = execFileSync(process.execPath, [...args, "-e", code], { cwd, encoding: "utf8", timeout: 30_000 });
  return JSON.parse(out.trim().split("\n").pop());
}

/** As Jest and a Node before 20.19 resolve the package: `require` takes the CommonJS build. */
const OLD_REQUIRE = ["--no-experimental-require-module"];

/** A fetch mock for a child process: `{ id, url }`, done from the second request of an id on. */
const FETCH = `
  const calls = [];
  globalThis.fetch = async (url) => {
    calls.push(url);
    const id = url.split("/").pop();
    const url2 = calls.filter((c) => c === url).length >= 2 ? "https://cdn.example/" + id + ".png" : null;
    return new Response(JSON.stringify({ id, url: url2 }), { status: 200 });
  };`;

test("require() (Jest's, an older Node's) takes the CommonJS build, loaded as it is required: a job and a helper complete with no init()", () => {
  const i = install();
  const out = child(
    i.root,
    `${FETCH}
    const sp = require("smart-polling");
    const react = require("smart-polling/react");
    const names = ["PollingManager", "initSync", "configureDefaults", "pollFileCompletion", "pollProjectCompletion", "smartPollingManager"];
    const hooks = ["initSmartPolling", "PollingProvider", "usePolling", "usePollingGroup", "usePollingManager"];
    const seen = {
      files: [require.resolve("smart-polling"), require.resolve("smart-polling/react")].map((f) => f.split("/").pop()),
      // module.exports is init, with the named exports on it: every interop finds them
      interop: [typeof sp, sp.default === sp, sp.__esModule, names.every((n) => sp[n]), hooks.every((n) => typeof react[n] === "function")],
      // the hooks' require of the package: the same instance
      instances: Object.keys(require.cache).filter((f) => f.includes("smart-polling")).map((f) => f.split("/").pop()).sort(),
    };
    const m = new sp.PollingManager({ eventsUrl: null, shareAcrossTabs: false, intervals: [20], jitter: 0 }); // no init() before
    m.startPolling("cjs-1", { onComplete: async (r) => {
      m.free();
      sp.configureDefaults({ shareAcrossTabs: false });
      const h = await sp.pollFileCompletion("cjs-2", { intervals: [20], jitter: 0 });
      console.log(JSON.stringify({ ...seen, job: r.url, helper: h.data?.url, calls }));
    } });`,
    OLD_REQUIRE,
  );
  assert.deepEqual(out, {
    files: ["index.cjs", "react.cjs"],
    interop: ["function", true, true, true, true],
    instances: ["index.cjs", "react.cjs"],
    job: "https://cdn.example/cjs-1.png",
    helper: "https://cdn.example/cjs-2.png",
    calls: ["/api/file/cjs-1", "/api/file/cjs-1", "/api/file/cjs-2", "/api/file/cjs-2"],
  });
});

test("where require() loads ES modules (Node 20.19+, 22.10+: module-sync), a require and an import share one instance", async () => {
  const i = install();
  const required = i.require("smart-polling");
  const imported = await import(pathToFileURL(path.join(i.dir, "index.js")).href);
  assert.equal(i.require.resolve("smart-polling"), path.join(i.dir, "index.js"));
  assert.equal(required.PollingManager, imported.PollingManager);
  assert.equal(required.smartPollingManager, imported.smartPollingManager);
  // Babel's and TypeScript's interop read the default through __esModule
  assert.equal(required.__esModule, true);
  assert.equal(required.default, imported.default);
  assert.equal(i.require("smart-polling/react").usePolling, (await i.load()).react.usePolling);
});

test("without TextDecoder and TextEncoder (Jest's jsdom environment) the CommonJS build and the ES module load", () => {
  const i = install();
  const hide = "const saved = { TextDecoder, TextEncoder }; delete globalThis.TextDecoder; delete globalThis.TextEncoder;";
  const job = `
    const m = new sp.PollingManager({ eventsUrl: null, shareAcrossTabs: false, intervals: [10] });
    globalThis.fetch = async () => new Response(JSON.stringify({ id: "f", url: "https://cdn/f.png" }));
    m.startPolling("f", { onComplete: (r) => { console.log(JSON.stringify({ url: r.url, restored: globalThis.TextDecoder === saved.TextDecoder })); m.free(); } });`;
  // CommonJS: Node's own, for the package only (the test's globals stay as they are)
  const cjs = child(i.root, `${hide} const sp = require("smart-polling"); Object.assign(globalThis, saved); ${job}`, OLD_REQUIRE);
  assert.deepEqual(cjs, { url: "https://cdn/f.png", restored: true });
  // the ES module: filled in before the glue loads
  const esm = child(i.root, `${hide} const sp = await import("smart-polling"); await sp.default(); const filled = typeof TextDecoder; Object.assign(globalThis, saved); ${job.replace("console.log(JSON.stringify({", "console.log(JSON.stringify({ filled,")}`, ["--input-type=module"]);
  assert.deepEqual(esm, { filled: "function", url: "https://cdn/f.png", restored: true });
});

test("a missing .wasm: the CommonJS build's require() does not throw, and the helpers resolve with load_failed naming the file", () => {
  const i = install();
  renameSync(path.join(i.dir, "smart_polling_bg.wasm"), path.join(i.dir, "gone.wasm"));
  const out = child(
    i.root,
    `const sp = require("smart-polling");
    sp.pollFileCompletion("cjs-3", { intervals: [20] }).then(async (r) => {
      const init = await sp().then(() => "loaded", (e) => e.message);
      console.log(JSON.stringify({ success: r.success, kind: r.failure?.kind, error: r.error, init }));
    });`,
    OLD_REQUIRE,
  );
  assert.equal(out.success, false);
  assert.equal(out.kind, "load_failed");
  assert.match(out.error, /could not load its WebAssembly module \(smart_polling_bg\.wasm\) from file:.*smart_polling_bg\.wasm/);
  assert.match(out.init, /could not load its WebAssembly module/);
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
