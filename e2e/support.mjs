// What every end-to-end test file shares: Chromium as this machine has it
// (never downloaded); pages with their uncaught errors collected;
// screenshots; calls to the demo server's API (generations, request
// counts); proving that requests stopped; the tabs' channel; and waiting
// for events, not durations (tests/support/wait.mjs).
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { chromium } from "playwright-core";
import { sleep } from "../tests/support/wait.mjs";

export { sleep, until } from "../tests/support/wait.mjs";

export const CHROMIUM_ARGS = [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--disable-quic",
];

export function launchChromium({ backForwardCache = false } = {}) {
  // Playwright turns the back/forward cache off unless told not to.
  const ignoreDefaultArgs = backForwardCache ? ["--disable-back-forward-cache"] : [];
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, ignoreDefaultArgs });
}

/** The end of a test file: its browser, its server and its temporary folder
 *  go, and no page had an uncaught error. */
export async function closeAll({ browser, api, tmp }) {
  await browser?.close();
  await api?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  assertNoPageErrors();
}

/** Every request a demo server got for a file record, as [ms, path], for
 *  its `onRequest` option. */
export function fileRequestLog() {
  const log = [];
  log.onRequest = (req) => {
    if (req.url.startsWith("/api/file/")) log.push([Date.now(), req.url.split("?")[0]]);
  };
  return log;
}

// ---------------------------------------------------------------------------
// Pages

/** Every uncaught error of the pages this test file opened (each file runs in its own process). */
export const pageErrors = [];

/** Collects `page`'s uncaught errors into `pageErrors`; returns the page. */
export function watchErrors(page) {
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  return page;
}

/** For each file's `after`: no page it opened threw. */
export function assertNoPageErrors() {
  assert.deepEqual(pageErrors, [], "no uncaught errors in the pages");
}

const DESKTOP = { width: 1360, height: 1000 };

/**
 * A page with its errors collected, in `context` or a new context of
 * `browser` (a desktop viewport), opened at `url` when given.
 * `init`: scripts run before the page's own, in the new context;
 * `setup(context)`: e.g. its routes, before the page opens.
 */
export async function openPage(browser, url, { context = null, viewport = DESKTOP, init = [], setup = null } = {}) {
  const ctx = context ?? (await browser.newContext({ viewport }));
  for (const script of init) await ctx.addInitScript(script);
  if (setup) await setup(ctx);
  const page = watchErrors(await ctx.newPage());
  if (url) await page.goto(url);
  return page;
}

const SHOTS = new URL("../screenshots/", import.meta.url).pathname;

/**
 * A screenshot into screenshots/ (git-ignored), once the page has settled
 * for `settle` ms (bar transitions, the metrics panel's refresh): it shows
 * a state, it asserts nothing.
 */
export async function shot(page, name, { settle = 1100 } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  await sleep(settle);
  await page.screenshot({ path: SHOTS + name, fullPage: true });
}

/** Starts a generation of `kind` from the demo page's form. */
export async function generate(page, kind, prompt) {
  await page.fill('[data-testid="prompt"]', prompt);
  await page.waitForSelector(`[data-testid="generate-${kind}"]:enabled`);
  await page.click(`[data-testid="generate-${kind}"]`);
}

// ---------------------------------------------------------------------------
// The demo server

/** A call to the demo server; fails the test on an error status. */
export async function callApi(server, method, path, body) {
  const res = await fetch(server.url + path, {
    method,
    // the demo server takes state changes only as JSON, even without a body
    headers: method === "GET" || method === "HEAD" ? {} : { "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status}`);
  return res.headers.get("content-type")?.includes("json") ? res.json() : res.text();
}

/**
 * A generation created on the demo server directly (`POST
 * /api/generate/{kind}`): `{ fileId, projectId }`. `body` may set its
 * `duration` (seconds, before the server's speed divides it) and `faults`.
 */
export const createGeneration = (server, kind = "image", body = {}) =>
  callApi(server, "POST", `/api/generate/${kind}`, { prompt: `e2e ${kind}`, ...body });

/** The requests the server saw for file `id`: `{ file, project, events, total }`. */
export const jobStats = async (server, id) =>
  (await callApi(server, "GET", "/api/stats")).byJob[id] ?? { file: 0, project: 0, events: 0, total: 0 };

/**
 * Proves an absence: once the requests already on the wire have landed
 * (`settle` ms), `count()` (async) holds still over `window` ms, a window
 * longer than the waits of the schedules it watches.
 */
export async function assertSilent(count, message, { settle = 300, window = 2500 } = {}) {
  await sleep(settle);
  const before = await count();
  await sleep(window);
  assert.equal(await count(), before, message);
}

// ---------------------------------------------------------------------------
// Tabs

/**
 * The BroadcastChannel on which the managers in `page`'s browser context
 * share job `id` of `kind`, read off the name of the lock its leader holds
 * (`<channel>/<kind>/<id>`). A test that posts on it first shows that a
 * valid message is heard there (so a change of either name fails loudly).
 */
export async function tabsChannel(page, kind, id) {
  const names = await page.evaluate(() => navigator.locks.query().then((s) => [...s.held, ...s.pending].map((l) => l.name)));
  const suffix = `/${kind}/${id}`;
  const lock = names.find((n) => n.endsWith(suffix));
  assert.ok(lock, `a lock for ${kind} ${id} among ${JSON.stringify(names)}`);
  return lock.slice(0, -suffix.length);
}

/** Posts `messages` in order on `channel` from `page`, as another tab would. */
export function postAsATab(page, channel, messages) {
  return page.evaluate(([name, list]) => {
    const c = new BroadcastChannel(name);
    for (const m of list) c.postMessage(m);
    c.close();
  }, [channel, messages]);
}
