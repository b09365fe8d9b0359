// End-to-end proof of issue 9, item 6: the call sites of tests/types/upstream.ts
// (written the way the product's generator hooks call their old polling
// module, only the import changed; tsc --strict checks them in `tsc -p .`)
// run in Chromium against the demo server, and each gets the right outcome.
//
// The fixture is transpiled with typescript's transpileModule, bundled by Vite
// with `smart-polling` aliased to pkg/index.js (the package entry, so nothing
// calls init() first), and served by the demo server from the same origin as
// its API. Needs pkg/ (npm run build).
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { build } from "vite";
import { callApi, closeAll, createGeneration, launchChromium, openPage, sleep, until } from "./support.mjs";
import { createApiServer } from "../server/index.mjs";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SPEED = 10;

let tmp;
let api;
let browser;
let page;
/** Every API request the server saw: [ms, method, path]. */
let requests = [];

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "smart-polling-upstream-"));
  const source = readFileSync(path.join(REPO, "tests/types/upstream.ts"), "utf8");
  const { outputText, diagnostics } = ts.transpileModule(source, {
    fileName: "upstream.ts",
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  });
  assert.deepEqual(diagnostics?.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")) ?? [], []);
  writeFileSync(path.join(tmp, "upstream.js"), outputText);
  writeFileSync(
    path.join(tmp, "main.js"),
    'import * as fixture from "./upstream.js";\nwindow.fixture = fixture;\nwindow.fixtureReady = true;\n',
  );
  writeFileSync(
    path.join(tmp, "index.html"),
    '<!doctype html><meta charset="utf-8"><title>upstream call sites</title><script type="module" src="./main.js"></script>\n',
  );
  await build({
    root: tmp,
    configFile: false,
    logLevel: "warn",
    base: "./",
    resolve: { alias: { "smart-polling": path.join(REPO, "pkg/index.js") } },
    build: { outDir: path.join(tmp, "dist"), emptyOutDir: true, target: "es2022", assetsInlineLimit: 0 },
  });
  api = await createApiServer({
    port: 0,
    speed: SPEED,
    seed: 9,
    staticDir: path.join(tmp, "dist"),
    onRequest(req) {
      if (req.url.startsWith("/api/file/") || req.url.startsWith("/api/project/") || req.url.startsWith("/api/events/")) {
        requests.push([Date.now(), req.method, req.url]);
      }
    },
  });
  browser = await launchChromium();
  page = await openPage(browser, api.url + "/");
  await page.waitForFunction(() => window.fixtureReady === true);
});

after(() => closeAll({ browser, api, tmp }));

beforeEach(async () => {
  await call("DELETE", "/api/faults");
  await call("POST", "/api/stats/reset");
  requests = [];
});

const call = (method, path, body) => callApi(api, method, path, body);

/** A job on the demo server; `duration` in seconds before `SPEED` divides it. */
const generate = (kind, body = {}) => createGeneration(api, kind, body);

/** Runs a fixture function in the page with a fresh hook state; returns the state. */
const run = (name, ...args) =>
  page.evaluate(([n, a]) => window.fixture[n](window.fixture.newState(), ...a), [name, args]);

/** Starts a fixture function in the page without waiting; `settle(key)` awaits it. */
const start = (key, name, ...args) =>
  page.evaluate(([k, n, a]) => {
    const state = window.fixture.newState();
    (window.pending ??= {})[k] = window.fixture[n](state, ...a);
  }, [key, name, args]);
const settle = (key) => page.evaluate((k) => window.pending[k], key);

const fileRequests = (id) => requests.filter(([, m, u]) => m === "GET" && u.split("?")[0] === `/api/file/${id}`).map(([t]) => t);

test("a long poll (the hook's fallback) completes with the record's url, thumbnail and project id", async () => {
  const { fileId, projectId } = await generate("image", { duration: 20 });
  const state = await run("pollAsFallback", fileId);
  assert.equal(state.status, "completed", JSON.stringify(state));
  assert.deepEqual(state.outcome.success, true);
  assert.equal(state.outcome.method, "success");
  assert.match(state.current.url, /^\/media\/.+\.png$/);
  assert.match(state.current.thumbnail, /\.thumb\.png$/);
  assert.equal(state.current.projectId, projectId);
  assert.ok(state.progressLog.length >= 1, "onProgress(attempt, elapsed, nextInterval) was called");
  assert.doesNotMatch(state.progressLog.join("\n"), /object Object|NaN|undefined/);
  assert.deepEqual(state.errors, []);
  assert.ok(state.outcome.attempts >= 1 && state.outcome.duration > 0);
  assert.equal((await call("GET", "/api/stats")).byJob[fileId].events ?? 0, 0, "useStream: false opened no stream");
});

test("a short check of a running id times out at its own deadline while the long poll runs on; one schedule of requests", async () => {
  // 6 s of generation: the long poll needs several polls, the 2-s check gives up first.
  const { fileId } = await generate("image", { duration: 6 * SPEED });
  await start("long", "pollAsFallback", fileId, 60000);
  await until(() => fileRequests(fileId).length >= 1, { timeout: 10000, what: "the first request" });
  const joinedAt = Date.now();
  const short = await run("checkNow", fileId, 2000);
  const shortEnded = Date.now();
  assert.equal(short.outcome.success, false, JSON.stringify(short));
  assert.equal(short.outcome.method, "timeout");
  assert.equal(short.status, "generating", "a timeout of a check is not an error of the generation");
  assert.ok(shortEnded - joinedAt < 5000, `the short check kept its own 2-s deadline (took ${shortEnded - joinedAt} ms)`);

  const long = await settle("long");
  assert.equal(long.status, "completed", JSON.stringify(long));
  assert.equal(long.outcome.method, "success");

  const times = fileRequests(fileId);
  const span = times.at(-1) - times[0];
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  // One schedule (waits 1 s, 2 s, 5 s, 10 s, up to 20 % shorter by jitter:
  // requests near 0, 1, 3 and 8 s for a 6-s job): the check that joined
  // right after the first request added none, so no request chases another.
  assert.ok(Math.min(...gaps) >= 500, `no second schedule: gaps ${gaps}`);
  assert.ok(times.length <= 5, `${times.length} requests over ${span} ms, gaps ${gaps}`);
  const stats = await call("GET", "/api/stats");
  assert.equal(stats.byJob[fileId].file, times.length);
  assert.equal(stats.byJob[fileId].events ?? 0, 0);
});

test("a failed generation resolves with a non-empty string error the hook can render", async () => {
  const { fileId } = await generate("image", { duration: 10, faults: { fail: true } });
  const state = await run("pollAsFallback", fileId);
  assert.equal(state.status, "error");
  assert.equal(state.outcome.success, false);
  assert.equal(state.outcome.method, "error");
  assert.equal(state.outcome.failureKind, "generation_failed");
  assert.equal(state.errors.length, 1);
  assert.equal(typeof state.errors[0], "string");
  assert.ok(state.errors[0].length > 0);
  assert.doesNotMatch(state.errors[0], /object Object/);
  assert.equal(state.current, null);
});

test("stopGeneration through the singleton resolves the pending pollFileCompletion as stopped", async () => {
  const { fileId } = await generate("image", { duration: 600 });
  await start("stopped", "pollAsFallback", fileId, 60000);
  await until(() => fileRequests(fileId).length >= 1, { timeout: 10000, what: "the first request" });
  const view = await page.evaluate((id) => window.fixture.singletonView(id), `file-${fileId}`);
  assert.equal(view.polling, true, "isPolling('file-' + id)");
  assert.equal(view.status.length, 1, JSON.stringify(view));
  assert.ok(view.status[0].attempts >= 1 && view.status[0].elapsed >= 0);

  const stopped = await page.evaluate((id) => window.fixture.stopGeneration(window.fixture.newState(), id), fileId);
  assert.equal(stopped, true);
  const state = await settle("stopped");
  assert.equal(state.outcome.success, false);
  assert.equal(state.outcome.method, "error");
  assert.equal(state.outcome.failureKind, "stopped");
  assert.equal(typeof state.errors[0], "string");
  const after = await page.evaluate((id) => window.fixture.singletonView(id), `file-${fileId}`);
  assert.deepEqual(after, { polling: false, status: [] });
  // Proving an absence: half again the wait that followed the last request
  // (the old module's waits: 1 s, 2 s, 5 s, then 10 s, jittered).
  const times = fileRequests(fileId);
  const next = [1000, 2000, 5000, 10000][Math.min(times.length - 1, 3)];
  await sleep(Math.max(0, times.at(-1) + 1.5 * next - Date.now()));
  assert.equal(fileRequests(fileId).length, times.length, "no request after the stop");
  assert.equal(await page.evaluate((id) => window.fixture.stopGeneration(window.fixture.newState(), id), fileId), false, "a second stop finds nothing");
});

test("the singleton drives the hook's own checker to completion, visible in isPolling/getPollingStatus while it runs", async () => {
  const { fileId, projectId } = await generate("image", { duration: 2 * SPEED });
  const pollId = `image-gen-${fileId}`;
  await start("checker", "pollWithChecker", fileId, pollId);
  await until(() => fileRequests(fileId).length >= 1, { timeout: 10000, what: "the first request" });
  const view = await page.evaluate((id) => window.fixture.singletonView(id), pollId);
  assert.equal(view.polling, true);
  assert.equal(view.status[0]?.pollId, pollId);
  const state = await settle("checker");
  assert.equal(state.status, "completed", JSON.stringify(state));
  assert.equal(state.outcome.method, "success");
  assert.match(state.current.url, /^\/media\/.+\.png$/);
  assert.equal(state.current.projectId, projectId);
  assert.equal(state.outcome.attempts, fileRequests(fileId).length, "one checker call per request");
  assert.equal((await page.evaluate((id) => window.fixture.singletonView(id), pollId)).polling, false);
});

test("a checker reporting a failed generation (shouldContinue: false) resolves with its own message", async () => {
  const { fileId } = await generate("image", { duration: 10, faults: { fail: true } });
  const state = await run("pollWithChecker", fileId);
  assert.equal(state.status, "error");
  assert.equal(state.outcome.success, false);
  assert.equal(state.errors[0], "The generation failed on the server");
});

test("a checker that throws the server's 429 waits as Retry-After says, beyond maxInterval, then completes", async () => {
  // Global faults: every file request is rate limited with Retry-After: 6
  // (the checker's maxInterval is 5 s; the old module capped the wait there).
  await call("PUT", "/api/faults", { rateLimit: { probability: 1, retryAfter: "seconds", seconds: 6 } });
  const { fileId } = await generate("image", { duration: 10 });
  const pollId = `image-gen-${fileId}`;
  await start("limited", "pollWithChecker", fileId, pollId);
  await until(() => fileRequests(fileId).length >= 1, { timeout: 10000, what: "the first request" });
  assert.equal(await page.evaluate((id) => window.fixture.singletonView(id).then((v) => v.polling), pollId), true);
  await call("DELETE", "/api/faults");
  const state = await settle("limited");
  assert.equal(state.status, "completed", JSON.stringify(state));
  const times = fileRequests(fileId);
  assert.ok(times.length >= 2);
  assert.ok(times[1] - times[0] >= 5500, `the wait honoured Retry-After: 6 past maxInterval 5000 (${times[1] - times[0]} ms)`);
  assert.equal((await call("GET", "/api/stats")).byStatus["429"], 1);
});

test("the video hook's project poll completes with url and projectId", async () => {
  const { projectId } = await generate("video", { duration: 2 * SPEED });
  const state = await run("waitForProject", projectId);
  assert.equal(state.status, "completed", JSON.stringify(state));
  assert.match(state.current.url, /^\/media\/.+\.webm$/);
  assert.equal(state.current.projectId, projectId);
});

