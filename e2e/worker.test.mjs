// End-to-end: the package in a module Web Worker (the manual: "It runs in
// browsers (and workers)"), in Chromium against the demo server. A worker
// loads the .wasm itself, polls, and survives the network going away: in a
// worker Chromium's offline emulation never delivers `online`, so the
// manager must find out from `navigator.onLine` by itself.
//
// The page and its worker are bundled by Vite (worker format "es", as the
// manual says for a top-level `await init()` in a worker), with
// `smart-polling` aliased to pkg/ (the shipped entry). Needs pkg/ (npm run
// build); not the demo build.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { closeAll, createGeneration, fileRequestLog, launchChromium, openPage as open, sleep, until } from "./support.mjs";
import { createApiServer } from "../server/index.mjs";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SPEED = 10;

// The worker: loads the module at its top level, then polls what the page asks.
const WORKER = `
import init, { PollingManager } from "smart-polling";

await init();
const manager = new PollingManager({ eventsUrl: null, shareAcrossTabs: false });
self.onmessage = ({ data: { fileId, overrides } }) => {
  manager.startPolling(fileId, {
    onProgress: (p) => self.postMessage({ t: "progress", waiting: p.waitingForNetwork === true, attempt: p.attempt }),
    onRetry: (e) => self.postMessage({ t: "retry", kind: e.kind }),
    onComplete: (r) => self.postMessage({ t: "complete", url: r.url }),
    onError: (e) => self.postMessage({ t: "error", kind: e.kind, message: e.message }),
  }, overrides);
};
self.postMessage({ t: "ready" });
`;

const MAIN = `
window.events = [];
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
worker.onmessage = ({ data }) => window.events.push({ ...data, at: Date.now() });
worker.onerror = (e) => window.events.push({ t: "worker-error", message: e.message });
window.poll = (fileId, overrides) => worker.postMessage({ fileId, overrides });
`;

let tmp;
let api;
let browser;
/** Every request for a file record: [ms, path]. */
const fileRequests = fileRequestLog();

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "smart-polling-worker-"));
  writeFileSync(path.join(tmp, "main.js"), MAIN);
  writeFileSync(path.join(tmp, "worker.js"), WORKER);
  writeFileSync(
    path.join(tmp, "index.html"),
    '<!doctype html><meta charset="utf-8"><title>worker</title><script type="module" src="./main.js"></script>\n',
  );
  await build({
    root: tmp,
    configFile: false,
    logLevel: "warn",
    base: "./",
    resolve: { alias: [{ find: /^smart-polling$/, replacement: path.join(REPO, "pkg/index.js") }] },
    worker: { format: "es" },
    build: { outDir: path.join(tmp, "dist"), emptyOutDir: true, target: "es2022", assetsInlineLimit: 0 },
  });
  api = await createApiServer({ port: 0, speed: SPEED, seed: 23, staticDir: path.join(tmp, "dist"), onRequest: fileRequests.onRequest });
  browser = await launchChromium();
});

after(() => closeAll({ browser, api, tmp }));

const requestsFor = (id, since = 0) => fileRequests.filter(([at, p]) => p === `/api/file/${id}` && at >= since);
const events = (page, t) => page.evaluate((t) => window.events.filter((e) => e.t === t), t);

test("in a module worker, a job loads, polls and pauses offline; back online it polls within moments, though no online event comes", async () => {
  const { fileId } = await createGeneration(api, "image", { duration: 40 });
  const page = await open(browser, null);
  const context = page.context();
  try {
    await page.goto(api.url + "/");
    await page.waitForFunction(() => window.events?.some((e) => e.t === "ready"), null, { timeout: 15_000 });
    await page.evaluate((id) => window.poll(id, { intervals: [200], maxConsecutiveErrors: 3 }), fileId);
    await until(() => requestsFor(fileId).length >= 1, { timeout: 10_000, what: "a first request from the worker" });

    await context.setOffline(true);
    const offlineAt = Date.now();
    await until(async () => (await events(page, "progress")).some((p) => p.waiting), {
      timeout: 10_000,
      what: "progress says the job waits for the network",
    });
    // At 200 ms a poll, 2 s offline is ten polls' worth: past the error limit.
    await sleep(2000);
    assert.equal(requestsFor(fileId, offlineAt + 100).length, 0, "nothing sent while offline");

    const onlineAt = Date.now();
    await context.setOffline(false);
    await until(() => requestsFor(fileId, onlineAt).length >= 1, { timeout: 10_000, what: "a request after online" });
    const first = requestsFor(fileId, onlineAt)[0][0] - onlineAt;
    // The manager looks at navigator.onLine every 2 s while paused.
    assert.ok(first < 3500, `the first request after online left ${first} ms later`);

    await until(async () => (await events(page, "complete")).length === 1, { timeout: 20_000, what: "the job completes" });
    const [done] = await events(page, "complete");
    assert.match(done.url, /^\/media\/.+\.png$/);
    assert.deepEqual(await events(page, "error"), [], "the job survived");
    assert.deepEqual(await events(page, "worker-error"), []);
    const retries = await events(page, "retry");
    assert.ok(retries.every((r) => r.kind !== "network"), `no network error counted: ${JSON.stringify(retries)}`);
  } finally {
    await context.close();
  }
});
