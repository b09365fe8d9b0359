// End-to-end: load failures are survivable, and `Symbol.dispose` stops jobs
// (issue 17, items 1 and 4), in Chromium against the demo server.
//
// One small page is bundled by Vite (in-process, no plugin: the page is
// plain JS) with `smart-polling` and `smart-polling/react` aliased to pkg/
// (the shipped entry and hooks), React from node_modules; the demo server
// serves it from the same origin as its API. The .wasm request is
// intercepted (playwright's page.route) to fail the way servers fail: a 503,
// the server's own HTML fallback page, an HTML body served as wasm, a 404.
// Needs pkg/ (npm run build); not the demo build.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { closeAll, createGeneration, fileRequestLog, launchChromium, openPage as open, sleep, until } from "./support.mjs";
import { createApiServer } from "../server/index.mjs";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SPEED = 10;

// The page: the package's values on `window.sp`, and a React app (a provider,
// a component with usePolling, a sibling that renders regardless).
const MAIN = `
import * as sp from "smart-polling";
import { PollingProvider, usePolling, usePollingContext, usePollingLoadError } from "smart-polling/react";
import { createElement as h, StrictMode } from "react";
import { createRoot } from "react-dom/client";

function Status({ fileId }) {
  const manager = usePollingContext();
  const failure = usePollingLoadError();
  const { status, error, record } = usePolling(manager, fileId);
  return h("p", {
    id: "status",
    "data-status": status,
    "data-kind": error?.kind ?? "",
    "data-message": error?.message ?? "",
    "data-url": record?.url ?? "",
    "data-manager": String(manager !== null),
    "data-failure": failure?.kind ?? "",
  }, status);
}

let root = null;
window.sp = sp;
/** (Re)mounts the app: a new root, so a new provider (a later mount). */
window.mountApp = (fileId) => {
  root?.unmount();
  root = createRoot(document.getElementById("root"));
  root.render(h(StrictMode, null,
    h("p", { id: "sibling" }, "the app rendered"),
    h(PollingProvider, { options: { eventsUrl: null } }, h(Status, { fileId }))));
};
window.ready = true;
`;

let tmp;
let api;
let browser;
/** Every request for a file record: [ms, path]. */
const fileRequests = fileRequestLog();

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "smart-polling-load-"));
  writeFileSync(path.join(tmp, "main.js"), MAIN);
  symlinkSync(path.join(REPO, "node_modules"), path.join(tmp, "node_modules"), "dir"); // react, react-dom
  writeFileSync(
    path.join(tmp, "index.html"),
    '<!doctype html><meta charset="utf-8"><title>load failures</title><div id="root"></div><script type="module" src="./main.js"></script>\n',
  );
  await build({
    root: tmp,
    configFile: false,
    logLevel: "warn",
    base: "./",
    resolve: {
      alias: [
        { find: /^smart-polling$/, replacement: path.join(REPO, "pkg/index.js") },
        { find: /^smart-polling\/react$/, replacement: path.join(REPO, "pkg/react.js") },
      ],
    },
    build: {
      outDir: path.join(tmp, "dist"),
      emptyOutDir: true,
      target: "es2022",
      assetsInlineLimit: 0,
      rollupOptions: {
        // as @vitejs/plugin-react does: "use client" means nothing in a client bundle
        onwarn(warning, warn) {
          if (!(warning.code === "MODULE_LEVEL_DIRECTIVE" && warning.message.includes("use client"))) warn(warning);
        },
      },
    },
  });
  api = await createApiServer({ port: 0, speed: SPEED, seed: 17, staticDir: path.join(tmp, "dist"), onRequest: fileRequests.onRequest });
  browser = await launchChromium();
});

after(() => closeAll({ browser, api, tmp }));

const generate = (body = {}) => createGeneration(api, "image", { duration: 20, ...body });
const requestsFor = (id) => fileRequests.filter(([, p]) => p === `/api/file/${id}`).length;

/** A fresh page whose .wasm requests go through `answer(route, n)` (n counts from 1). */
async function openPage(answer) {
  const wasm = [];
  const page = await open(browser, null, {
    setup: (context) =>
      context.route(/\.wasm$/, (route) => {
        wasm.push(route.request().url());
        return answer(route, wasm.length);
      }),
  });
  await page.goto(api.url + "/");
  await page.waitForFunction(() => window.ready === true);
  return { page, wasm, close: () => page.context().close() };
}

test("a .wasm that fails to load (503, HTML) resolves the helpers with load_failed; the next call loads and completes", async () => {
  const html = '<!doctype html><html><head><title>app</title></head><body><div id="root"></div></body></html>';
  const answers = [
    (route) => route.fulfill({ status: 503, contentType: "text/plain", body: "busy" }),
    // the server's own SPA fallback for a path that is not there: its index.html, 200, text/html
    async (route) => route.fulfill({ response: await route.fetch({ url: `${api.url}/nowhere/smart_polling_bg.wasm` }) }),
    // an HTML body under the wasm content type: the glue's "expected magic word" error
    (route) => route.fulfill({ status: 200, contentType: "application/wasm", body: html }),
  ];
  const { page, wasm, close } = await openPage((route, n) => (answers[n - 1] ?? ((r) => r.continue()))(route));
  try {
    const helper = (id) => page.evaluate((id) => window.sp.pollFileCompletion(id, { maxDuration: 15000 }), id);

    const unavailable = await helper("never-1");
    assert.equal(wasm.length, 1);
    const wasmUrl = wasm[0];
    assert.match(wasmUrl, /^http:\/\/127\.0\.0\.1:\d+\/assets\/smart_polling_bg-[\w-]+\.wasm$/);
    assert.deepEqual(
      { ...unavailable, error: "", failure: { ...unavailable.failure, message: "" } },
      { success: false, method: "error", error: "", failure: { kind: "load_failed", message: "", attempt: 0, retryable: true }, attempts: 0, duration: 0, channel: "polling" },
    );
    assert.equal(unavailable.failure.message, unavailable.error);
    assert.equal(
      unavailable.error,
      `smart-polling: could not load its WebAssembly module (smart_polling_bg.wasm) from ${wasmUrl}: the server answered 503 Service Unavailable`,
    );

    const fallback = await helper("never-2");
    assert.equal(wasm.length, 2, "the failed load was not kept");
    assert.equal(fallback.failure.kind, "load_failed");
    assert.ok(fallback.error.includes(`from ${wasmUrl}: the server answered with an HTML page, not WebAssembly`), fallback.error);
    assert.ok(fallback.error.includes('optimizeDeps: { exclude: ["smart-polling"] }'), fallback.error);
    assert.equal(fallback.failure.retryable, false, "an HTML page: the deployment needs a fix");

    const magic = await helper("never-3");
    assert.equal(wasm.length, 3);
    assert.ok(magic.error.includes(`from ${wasmUrl}: the server answered with an HTML page`), magic.error);
    assert.ok(magic.error.includes("optimizeDeps"), magic.error);
    assert.equal(magic.failure.retryable, false);
    const cause = await page.evaluate(() => window.sp.default().then(() => null, (e) => e.cause?.message ?? null));
    assert.equal(wasm.length, 4, "init() tried again too");
    assert.equal(cause, null, "the fourth answer is the real .wasm: init() resolved");

    // loaded: the helper runs against the demo server
    const { fileId } = await generate();
    const done = await helper(fileId);
    assert.equal(done.success, true, JSON.stringify(done));
    assert.match(done.data.url, /^\/media\/.+\.png$/);
    assert.ok(done.attempts >= 1);
    assert.equal(wasm.length, 4, "loaded once, kept");
  } finally {
    await close();
  }
});

test("a first load from another url aborts the entry's early download of the .wasm (Turbopack runs a page's init(url) a task late)", async () => {
  const aborted = [];
  let release;
  const held = new Promise((r) => (release = r));
  const wasm = [];
  const page = await open(browser, null, {
    setup: async (context) => {
      context.on("requestfailed", (r) => aborted.push([r.url(), r.failure()?.errorText ?? ""]));
      await context.route(/\.wasm/, async (route) => {
        const url = route.request().url();
        wasm.push(url);
        // the entry's own download is held until the test ends; the other url answers
        if (url.endsWith(".wasm")) await held;
        await route.continue().catch(() => {}); // aborted by then
      });
    },
  });
  try {
    await page.goto(api.url + "/");
    await page.waitForFunction(() => window.ready === true);
    await until(() => wasm.length === 1, { what: "the early download" });
    const other = `${wasm[0]}?from=elsewhere`;
    const loaded = await page.evaluate((url) => window.sp.default(url).then(() => "loaded", (e) => e.message), other);
    assert.equal(loaded, "loaded");
    assert.deepEqual(wasm, [wasm[0], other]);
    await until(() => aborted.length === 1, { what: "the early download aborted" });
    assert.deepEqual(aborted, [[wasm[0], "net::ERR_ABORTED"]]);
  } finally {
    release();
    await page.context().close();
  }
  // An init(url) of the very url the entry fetched takes its download: one request.
  const { page: again, wasm: seen, close } = await openPage((route) => route.continue());
  try {
    await until(() => seen.length === 1, { what: "the early download" });
    const url = new URL(seen[0]).pathname; // as a page names it: resolved like fetch()
    assert.equal(await again.evaluate((url) => window.sp.default(url).then(() => "loaded"), url), "loaded");
    await sleep(200);
    assert.equal(seen.length, 1, "downloaded once");
  } finally {
    await close();
  }
});

test("the wrapped error keeps the glue's error as its cause", async () => {
  const body = "<!DOCTYPE html><html></html>";
  const { page, close } = await openPage((route) => route.fulfill({ status: 200, contentType: "application/wasm", body }));
  try {
    const error = await page.evaluate(() => window.sp.default().then(() => null, (e) => ({ message: e.message, cause: String(e.cause) })));
    assert.match(error.message, /HTML page, not WebAssembly.*optimizeDeps/s);
    assert.match(error.cause, /CompileError: .*expected magic word 00 61 73 6d, found 3c 21 44 4f/);
  } finally {
    await close();
  }
});

test("a missing .wasm: the React app renders, usePolling reports load_failed; a later mount loads and completes", async () => {
  let missing = true;
  const { page, wasm, close } = await openPage((route) =>
    missing ? route.fulfill({ status: 404, contentType: "text/plain", body: "Not Found" }) : route.continue());
  try {
    await page.evaluate(() => window.mountApp("file-that-never-starts"));
    await page.waitForSelector('#status[data-status="error"]', { timeout: 15000 });
    const status = await page.$eval("#status", (e) => ({ ...e.dataset }));
    assert.equal(status.kind, "load_failed");
    assert.equal(status.failure, "load_failed", "usePollingLoadError");
    assert.equal(status.manager, "false", "usePollingContext() is null");
    assert.ok(status.message.includes(`from ${wasm[0]}: the server answered 404 Not Found. Where the bundler does not emit smart_polling_bg.wasm (esbuild, the Angular CLI's ng build), copy it`), status.message);
    assert.equal(await page.textContent("#sibling"), "the app rendered");
    assert.equal(requestsFor("file-that-never-starts"), 0);

    // a later mount of the provider loads again, now that the .wasm is there
    missing = false;
    const { fileId } = await generate();
    await page.evaluate((id) => window.mountApp(id), fileId);
    await page.waitForSelector('#status[data-status="completed"]', { timeout: 15000 });
    const done = await page.$eval("#status", (e) => ({ ...e.dataset }));
    assert.match(done.url, /^\/media\/.+\.png$/);
    assert.equal(done.failure, "");
    assert.equal(done.manager, "true");
    assert.ok(wasm.length >= 2, `loaded again: ${wasm.length} requests`);
  } finally {
    await close();
  }
});

test("manager[Symbol.dispose]() (and `using`) stops its jobs in the browser: no request and no callback afterwards", async () => {
  const { page, close } = await openPage((route) => route.continue());
  try {
    const interval = 200;
    const { fileId } = await generate({ duration: 3600 }); // 6 minutes: never completes here
    await page.evaluate(async ([id, interval]) => {
      await window.sp.default();
      window.heard = [];
      window.manager = new window.sp.PollingManager({ eventsUrl: null, intervals: [interval], jitter: 0 });
      window.manager.startPolling(id, {
        onUpdate: () => window.heard.push("update"),
        onProgress: () => window.heard.push("progress"),
        onComplete: () => window.heard.push("complete"),
        onError: () => window.heard.push("error"),
      });
    }, [fileId, interval]);
    await until(() => requestsFor(fileId) >= 3, { timeout: 10000, what: "three requests" });
    const heardBefore = await page.evaluate(() => {
      window.manager[Symbol.dispose]();
      return window.heard.length;
    });
    const count = requestsFor(fileId);
    await sleep(5 * interval); // proving an absence: 5 intervals
    assert.equal(requestsFor(fileId), count, "no request after dispose");
    assert.equal(await page.evaluate(() => window.heard.length), heardBefore, "no callback after dispose");

    // the `using` declaration calls the same dispose at the end of its block
    const other = (await generate({ duration: 3600 })).fileId;
    const heard = await page.evaluate(`(async () => {
      const heard = [];
      {
        using m = new window.sp.PollingManager({ eventsUrl: null, intervals: [${interval}], jitter: 0 });
        m.startPolling(${JSON.stringify(other)}, { onUpdate: () => heard.push("update"), onError: () => heard.push("error") });
        while (heard.length < 2) await new Promise((r) => setTimeout(r, 20));
      }
      window.usingHeard = heard;
      return heard.length;
    })()`);
    const usingCount = requestsFor(other);
    assert.ok(usingCount >= 2);
    await sleep(5 * interval);
    assert.equal(requestsFor(other), usingCount, "no request after the using block");
    assert.equal(await page.evaluate(() => window.usingHeard.length), heard, "no callback after the using block");
  } finally {
    await close();
  }
});
