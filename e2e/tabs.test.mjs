// End-to-end proof of issue 11, item 1: tabs share one job per id. Two or
// three pages of ONE browser context (so they share Web Locks and
// BroadcastChannel) watch the same generation on the demo server: one of
// them leads (sends every request, holds the stream), the others follow and
// hear every state; closing the leader hands the job over; a manager with
// `shareAcrossTabs: false` polls on its own; forged channel messages are
// ignored; tabs merge what they learn; a context gone offline pauses its
// jobs (issue 21). The last test does the same with two tabs of the demo page.
//
// The harness page (written to a temp dir in `before`) loads pkg/index.js as
// is: the demo server serves it under /tabs/ and the package under /pkg/
// (its `mounts`), from the same origin as its API. Query: `id` (the file to
// watch; several, comma-separated), `share=0` (shareAcrossTabs: false),
// `stream=0` (eventsUrl: null), `maxStreams`, `overrides` (JSON job
// options). Every callback is recorded in `window`.
// Needs pkg/ (npm run build) and www/dist (npm run build:www).
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  callApi,
  closeAll,
  createGeneration,
  jobStats as statsOf,
  launchChromium,
  openPage,
  postAsATab,
  sleep,
  tabsChannel,
  until,
} from "./support.mjs";
import { createApiServer } from "../server/index.mjs";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SPEED = 10;

const HARNESS = `<!doctype html><meta charset="utf-8"><title>smart-polling tabs</title>
<script type="module">
import init, { PollingManager } from "/pkg/index.js";
const q = new URLSearchParams(location.search);
Object.assign(window, { progress: [], updates: [], completes: [], completedAt: [], errors: [], retries: [], attempts: [], results: [] });
addEventListener("pageshow", (e) => e.persisted && (window.restored = true));
await init();
const options = { shareAcrossTabs: q.get("share") !== "0" };
if (q.get("stream") === "0") options.eventsUrl = null;
if (q.get("maxStreams")) options.maxStreams = Number(q.get("maxStreams"));
window.manager = new PollingManager(options);
for (const id of (q.get("id") || "").split(",").filter(Boolean)) {
  const overrides = q.get("overrides") ? JSON.parse(q.get("overrides")) : {};
  if (q.get("form") === "promise") {
    // the old module's form: onProgress(attempt, elapsed, nextInterval) before each attempt
    window.manager
      .pollFileCompletion(id, { ...overrides, onProgress: (attempt) => window.attempts.push(attempt) })
      .then((r) => window.results.push(r));
    continue;
  }
  window.manager.startPolling(id, {
    onProgress: (p) => window.progress.push({ ...p, at: Date.now() }),
    onUpdate: (r) => window.updates.push(r),
    onComplete: (r) => (window.completes.push(r), window.completedAt.push(Date.now())),
    onError: (e) => window.errors.push({ kind: e.kind, message: e.message }),
    onRetry: (e, delay) => window.retries.push({ kind: e.kind, message: e.message, delay }),
  }, overrides);
}
window.ready = true;
</script>
`;

let tmp;
let api;
let browser;
/** Every file, project and events request the server saw: { at, url }. */
let requests = [];
/** Event streams open on the server now, and at most so far. */
const streams = { open: 0, max: 0 };

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "smart-polling-tabs-"));
  writeFileSync(path.join(tmp, "index.html"), HARNESS);
  writeFileSync(path.join(tmp, "other.html"), "<!doctype html><title>another page</title><p>elsewhere</p>");
  api = await createApiServer({
    port: 0,
    speed: SPEED,
    seed: 11,
    staticDir: path.join(REPO, "www/dist"),
    mounts: { "/pkg/": path.join(REPO, "pkg"), "/tabs/": tmp },
    onRequest(req) {
      if (/^\/api\/(file|project|events)\//.test(req.url)) requests.push({ at: Date.now(), url: req.url });
      if (req.url.startsWith("/api/events/")) {
        // a stream holds its connection until the client closes it
        streams.open++;
        streams.max = Math.max(streams.max, streams.open);
        req.socket.once("close", () => streams.open--);
      }
    },
  });
  browser = await launchChromium();
});

after(() => closeAll({ browser, api, tmp }));

beforeEach(async () => {
  await call("DELETE", "/api/faults");
  await call("POST", "/api/stats/reset");
  requests = [];
  streams.max = streams.open;
});

const call = (method, path, body) => callApi(api, method, path, body);

/** A job on the demo server lasting `seconds` (before SPEED divides it). */
const generate = (seconds, kind = "image") => createGeneration(api, kind, { duration: seconds });

const jobStats = (id) => statsOf(api, id);

/** Requests the server saw for file `id` (GET /api/file/{id}), after `since`. */
const fileRequests = (id, since = 0) => requests.filter((r) => r.url.split("?")[0] === `/api/file/${id}` && r.at > since);

/** A harness page in `context` watching file `id` (or nothing). */
async function watch(context, id, { share = true, stream = true, overrides = null, maxStreams = null, form = null, browser: from = browser } = {}) {
  const q = new URLSearchParams();
  if (id) q.set("id", id);
  if (form) q.set("form", form);
  if (maxStreams != null) q.set("maxStreams", String(maxStreams));
  if (!share) q.set("share", "0");
  if (!stream) q.set("stream", "0");
  if (overrides) q.set("overrides", JSON.stringify(overrides));
  const page = await openPage(from, `${api.url}/tabs/index.html?${q}`, { context });
  await page.waitForFunction(() => window.ready === true);
  return page;
}

/** What a harness page recorded. */
const recorded = (page) =>
  page.evaluate(() => ({
    progress: window.progress,
    updates: window.updates,
    completes: window.completes,
    completedAt: window.completedAt,
    errors: window.errors,
    retries: window.retries,
  }));

/** Runs `body(context, browser)` in a Chromium of its own with the
 *  back/forward cache on (Playwright turns it off), closed after. */
async function withCachingBrowser(body) {
  const cachingBrowser = await launchChromium({ backForwardCache: true });
  try {
    const context = await cachingBrowser.newContext();
    await body(context, cachingBrowser);
    await context.close();
  } finally {
    await cachingBrowser.close();
  }
}

/** The `tab` of the page's latest progress report (undefined before any, or when not shared). */
const lastTab = (page) => page.evaluate(() => window.progress.at(-1)?.tab);

const maxAttempt = (rec) => rec.progress.reduce((m, p) => Math.max(m, p.attempt), 0);

/**
 * The record as it was until the job first completed in any page: when the
 * leader ends a job, a follower may take it over before it hears the end
 * (the bug pinned by the skipped test below), so what the pages and the
 * server see after that moment is left to that test.
 */
const untilEnd = (recs) => {
  const end = Math.min(...recs.map((r) => r.completedAt[0] ?? Infinity));
  return { end, recs: recs.map((r) => ({ ...r, progress: r.progress.filter((p) => p.at <= end) })) };
};

const completed = (pages, timeout = 20000) =>
  Promise.all(pages.map((p) => p.waitForFunction(() => window.completes.length + window.errors.length > 0, null, { timeout })));

/** Every page completed exactly once, with no error, all with the same record; returns it. */
async function assertSameCompletion(pages) {
  await completed(pages);
  // Proving an absence: a second outcome (a follower taking an ended job
  // over after the leader's lock lets go, a second of grace) would land by now.
  await sleep(1500);
  const recs = await Promise.all(pages.map(recorded));
  for (const [i, rec] of recs.entries()) {
    assert.deepEqual(rec.errors, [], `page ${i}: no error`);
    assert.equal(rec.completes.length, 1, `page ${i}: exactly one onComplete`);
  }
  const record = recs[0].completes[0];
  assert.match(record.url, /^\/media\/.+\.png$/);
  for (const [i, rec] of recs.entries()) assert.deepEqual(rec.completes[0], record, `page ${i}: the same record`);
  return { record, recs };
}

test("three tabs on one generation: one event stream, one schedule, each completes once with the same record", async () => {
  const { fileId } = await generate(80);
  const context = await browser.newContext();
  const pages = [];
  for (let i = 0; i < 3; i++) pages.push(await watch(context, fileId));
  const all = (await assertSameCompletion(pages)).recs;
  for (const rec of all) {
    assert.ok(rec.progress.length > 0);
    // Unnamed only while a job alone in its tab waits for its lock.
    const named = rec.progress.findIndex((p) => p.tab !== undefined);
    assert.ok(named >= 0, "a shared job's progress names its tab once its role is known");
    assert.ok(rec.progress.slice(named).every((p) => p.tab === "leader" || p.tab === "follower"), "and every progress after that does");
  }
  const { end, recs } = untilEnd(all);
  const leaders = recs.filter((r) => r.progress.some((p) => p.tab === "leader"));
  assert.equal(leaders.length, 1, "exactly one page led");
  const seen = requests.filter((r) => r.at <= end && r.url.includes(fileId));
  const streamsSeen = seen.filter((r) => r.url.startsWith("/api/events/")).length;
  const polls = seen.filter((r) => r.url.startsWith("/api/file/")).length;
  assert.equal(streamsSeen, 1, "one event stream for three pages");
  assert.ok(polls <= maxAttempt(leaders[0]), `the leader's requests only: ${polls} file requests, leader attempt ${maxAttempt(leaders[0])}`);
  await context.close();
});

test("three tabs polling one generation: the server sees one schedule", async () => {
  const { fileId } = await generate(80);
  const context = await browser.newContext();
  const overrides = { intervals: [400] };
  const pages = [];
  for (let i = 0; i < 3; i++) pages.push(await watch(context, fileId, { stream: false, overrides }));
  const { end, recs } = untilEnd((await assertSameCompletion(pages)).recs);

  const attempts = recs.map(maxAttempt);
  const times = fileRequests(fileId).filter((r) => r.at <= end).map((r) => r.at);
  assert.equal((await jobStats(fileId)).events ?? 0, 0);
  assert.ok(times.length >= 4, `it polled: ${times.length} requests`);
  // Three schedules would send about three times as many requests as any one
  // page counts, and requests would chase each other.
  assert.equal(times.length, Math.max(...attempts), `one schedule: ${times.length} requests, attempts seen ${attempts}`);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  assert.ok(Math.min(...gaps) >= 200, `no second schedule: gaps ${gaps}`);
  await context.close();
});

test("a check now in a following tab makes the leading tab poll: the short call completes, and the following tab sends nothing", async () => {
  // Done after 4 s: the leader's first request must find it pending, even
  // when a loaded machine takes a second or two to open the pages.
  const { fileId } = await generate(40);
  const context = await browser.newContext();
  const overrides = { intervals: [30000] }; // the slow fallback: its next request 30 s away
  const leader = await watch(context, fileId, { stream: false, overrides });
  // Its first answer (pending): the next request 30 s away.
  await leader.waitForFunction(() => window.progress.some((p) => p.tab === "leader" && p.nextPollIn > 20000));
  const follower = await watch(context, fileId, { stream: false, overrides });
  await follower.waitForFunction(() => window.progress.some((p) => p.tab === "follower" && p.nextPollIn > 20000));
  await until(async () => (await call("GET", "/api/jobs")).find((j) => j.fileId === fileId)?.status === "completed", {
    timeout: 10000,
    what: "the generation done",
  });
  assert.equal(fileRequests(fileId).length, 1, "the premise: one request so far");

  // The product's "check now": a 10 s pollFileCompletion, first wait 1 s.
  const asked = Date.now();
  const result = await follower.evaluate((id) => window.manager.pollFileCompletion(id, { maxDuration: 10000, initialInterval: 1000 }), fileId);
  const took = Date.now() - asked;
  assert.equal(result.success, true, JSON.stringify(result));
  assert.match(result.data.url, /^\/media\//);
  assert.ok(took < 3000, `resolved ${took} ms after the call, not at its 10 s deadline`);
  assert.equal(fileRequests(fileId).length, 2, "one more request: the leader's");
  const rec = await recorded(leader);
  assert.equal(rec.completes.length, 1, "the leader completed on its own request");
  assert.equal((await recorded(follower)).completes.length, 1, "so did the follower's first caller");
  await context.close();
});

test("a check now in a tab that watches nothing yet (a reload's recovery check) makes the leading tab poll", async () => {
  const { fileId } = await generate(40); // done after 4 s, found pending first
  const context = await browser.newContext();
  const leader = await watch(context, fileId, { stream: false, overrides: { intervals: [30000] } });
  await leader.waitForFunction(() => window.progress.some((p) => p.tab === "leader" && p.nextPollIn > 20000));
  await until(async () => (await call("GET", "/api/jobs")).find((j) => j.fileId === fileId)?.status === "completed", {
    timeout: 10000,
    what: "the generation done",
  });
  const other = await watch(context, null, { stream: false });
  const asked = Date.now();
  const result = await other.evaluate((id) => window.manager.pollFileCompletion(id, { maxDuration: 10000, initialInterval: 1000 }), fileId);
  const took = Date.now() - asked;
  assert.equal(result.success, true, JSON.stringify(result));
  assert.ok(took < 3000, `resolved ${took} ms after the call, not at its 10 s deadline`);
  assert.equal(fileRequests(fileId).length, 2, "one more request: the leader's");
  await context.close();
});

test("a leading tab that goes into the back/forward cache hands over at once; restored, it follows", () =>
  withCachingBrowser(async (context, cachingBrowser) => {
    const { fileId } = await generate(60); // 6 s
    const overrides = { intervals: [500] };
    const first = await watch(context, fileId, { overrides, browser: cachingBrowser });
    await first.waitForFunction(() => window.progress.some((p) => p.tab === "leader" && p.channel === "sse"));
    const second = await watch(context, fileId, { overrides, browser: cachingBrowser });
    await second.waitForFunction(() => window.progress.some((p) => p.tab === "follower"));
    assert.equal(streams.open, 1, "the leader's stream");

    const left = Date.now();
    await first.goto(`${api.url}/tabs/other.html`);
    await second.waitForFunction(() => window.progress.some((p) => p.tab === "leader"), null, { timeout: 3000 });
    const tookOver = await second.evaluate(() => window.progress.find((p) => p.tab === "leader").at);
    assert.ok(tookOver - left < 2000, `the other tab leads ${tookOver - left} ms after the first left`);
    // The cached page's stream was closed as it left: one stream, the new leader's.
    await second.waitForFunction(() => window.progress.some((p) => p.tab === "leader" && p.channel === "sse"), null, { timeout: 5000 });
    await sleep(300);
    assert.equal(streams.open, 1, "the cached page holds no stream");

    await first.goBack({ waitUntil: "commit" }); // a restored page fires no load
    await first.waitForFunction(() => window.ready === true);
    const reasons = await first.evaluate(() => performance.getEntriesByType("navigation")[0].notRestoredReasons?.reasons);
    assert.equal(await first.evaluate(() => window.restored === true), true, `restored from the cache, not loaded again: ${JSON.stringify(reasons)}`);
    await first.waitForFunction(() => window.progress.at(-1)?.tab === "follower" || window.completes.length > 0, null, { timeout: 5000 });
    await completed([first, second]);
    await sleep(1000);
    for (const page of [first, second]) {
      const rec = await recorded(page);
      assert.equal(rec.completes.length, 1, "one onComplete");
      assert.deepEqual(rec.errors, []);
    }
  }),
);

test("a following tab in the back/forward cache is passed over: when the leader closes, the next tab leads", () =>
  withCachingBrowser(async (context, cachingBrowser) => {
    const { fileId } = await generate(80); // 8 s
    const watchHere = (id) => watch(context, id, { stream: false, overrides: { intervals: [500] }, browser: cachingBrowser });
    const leader = await watchHere(fileId);
    await leader.waitForFunction(() => window.progress.some((p) => p.tab === "leader" && p.attempt >= 1));
    const cached = await watchHere(fileId);
    await cached.waitForFunction(() => window.progress.some((p) => p.tab === "follower"));
    const next = await watchHere(fileId);
    await next.waitForFunction(() => window.progress.some((p) => p.tab === "follower"));
    // The second page's lock request was queued first; it goes into the cache.
    await cached.goto(`${api.url}/tabs/other.html`);
    const closing = Date.now();
    await leader.close();
    await next.waitForFunction(() => window.progress.some((p) => p.tab === "leader"), null, { timeout: 4000 });
    const led = await next.evaluate(() => window.progress.find((p) => p.tab === "leader").at);
    assert.ok(led - closing < 2000, `the third page leads ${led - closing} ms after the leader closed`);
    await completed([next]);
  }),
);

test("closing the leading tab mid-job hands over: a request within 2 s, the attempt count carries on, it completes in the others", async () => {
  const { fileId } = await generate(150); // 15 s: running still when its leader closes, however slow the machine
  const context = await browser.newContext();
  const overrides = { intervals: [500] };
  const first = await watch(context, fileId, { stream: false, overrides });
  await first.waitForFunction(() => window.progress.some((p) => p.tab === "leader" && p.attempt >= 1));
  const others = [await watch(context, fileId, { stream: false, overrides }), await watch(context, fileId, { stream: false, overrides })];
  await until(async () => fileRequests(fileId).length >= 3, { timeout: 10000, what: "three requests" });
  for (const p of others) await p.waitForFunction(() => window.progress.some((x) => x.tab === "follower" && x.attempt >= 2));
  assert.equal(await lastTab(first), "leader");

  const before = await Promise.all(others.map(async (p) => maxAttempt(await recorded(p))));
  const job = (await call("GET", "/api/jobs")).find((j) => j.fileId === fileId);
  assert.notEqual(job?.status, "completed", "the premise: the job still runs when its leader closes");
  const closing = Date.now();
  await first.close();
  const closed = Date.now();

  // A request after the leader's page is gone comes from the new leader.
  await until(async () => fileRequests(fileId, closed).length >= 1, { timeout: 10000, what: "a request after the close" });
  const takeover = fileRequests(fileId, closed)[0].at;
  assert.ok(takeover - closing <= 2000, `a request ${takeover - closing} ms after the close`);

  const { end, recs } = untilEnd((await assertSameCompletion(others)).recs);
  const closedAt = closed;
  const leads = recs.map((r) => r.progress.some((p) => p.tab === "leader" && p.at >= closedAt));
  assert.equal(leads.filter(Boolean).length, 1, `one page took over: ${leads}`);
  const i = leads.indexOf(true);
  const firstLead = recs[i].progress.find((p) => p.tab === "leader" && p.at >= closedAt);
  assert.ok(firstLead.attempt >= before[i], `the attempt count carried on: ${firstLead.attempt} after ${before[i]}`);
  // One schedule throughout: every request the server saw is counted by the
  // attempt count the last leader ends with.
  const total = fileRequests(fileId).filter((r) => r.at <= end).length;
  assert.ok(total <= maxAttempt(recs[i]), `${total} requests, final attempt ${maxAttempt(recs[i])}`);
  await context.close();
});

test("a leading tab that reloads with a request out: the other tab hears no error from the aborted request, and takes over", async () => {
  // Each answer takes 2 s: the leader's request is out when it reloads.
  const { fileId } = await createGeneration(api, "image", { duration: 150, faults: { slow: 2000 } });
  const context = await browser.newContext();
  const overrides = { intervals: [300] };
  const first = await watch(context, fileId, { stream: false, overrides });
  await first.waitForFunction(() => window.progress.some((p) => p.tab === "leader" && p.attempt >= 1));
  const other = await watch(context, fileId, { stream: false, overrides });
  await other.waitForFunction(() => window.progress.some((p) => p.tab === "follower"));
  // Out now: a request sent, not yet answered (2 s each).
  await until(async () => (await recorded(first)).progress.some((p) => p.attempt >= 2), { timeout: 10000, what: "a second request" });
  const reloaded = Date.now();
  await first.reload();
  await other.waitForFunction((since) => window.progress.some((p) => p.tab === "leader" && p.at >= since), reloaded, { timeout: 10000 });
  await sleep(2500); // the aborted request's answer time, and more
  const rec = await recorded(other);
  assert.deepEqual(rec.retries, [], "no error reached the other tab");
  assert.deepEqual(rec.errors, []);
  await context.close();
});

test("the Promise form in a following tab: its onProgress hears each of the leader's attempts, once, in order", async () => {
  const { fileId } = await generate(60);
  const context = await browser.newContext();
  const overrides = { intervals: [400] };
  const leader = await watch(context, fileId, { stream: false, overrides, form: "promise" });
  await until(() => fileRequests(fileId).length >= 1, { what: "the leader's first request" });
  const follower = await watch(context, fileId, { stream: false, overrides, form: "promise" });
  const done = (page) => page.waitForFunction(() => window.results.length > 0, null, { timeout: 20000 });
  await Promise.all([done(leader), done(follower)]);
  const [lead, follow] = await Promise.all(
    [leader, follower].map((p) => p.evaluate(() => ({ attempts: window.attempts, result: window.results[0] }))),
  );
  assert.equal(lead.result.success, true, JSON.stringify(lead.result));
  assert.equal(follow.result.success, true, JSON.stringify(follow.result));
  assert.ok(lead.attempts.length >= 4, `the leader polled: ${lead.attempts}`);
  assert.deepEqual(lead.attempts, lead.attempts.map((_, i) => i + 1), "the leader's own, from 1");
  // The follower made no request: it heard the leader's, from the one it
  // joined at, each once and in order (before, it heard none: a frozen
  // progress bar in the second tab).
  assert.ok(follow.attempts.length >= 3, `the follower heard attempts: ${follow.attempts}`);
  const first = follow.attempts[0];
  assert.deepEqual(follow.attempts, follow.attempts.map((_, i) => first + i), `in order, once each: ${follow.attempts}`);
  assert.ok(follow.attempts.at(-1) <= lead.attempts.at(-1), `never ahead of the leader: ${follow.attempts} / ${lead.attempts}`);
  assert.ok(lead.attempts.at(-1) - follow.attempts.at(-1) <= 1, `up to the leader's last: ${follow.attempts} / ${lead.attempts}`);
  await context.close();
});

test("a following tab hears the leader's 503s as its own onRetry, and its own maxConsecutiveErrors ends its wait", async () => {
  const { fileId } = await generate(60);
  const context = await browser.newContext();
  const quick = { intervals: [300], initialDelay: 200, maxDelay: 400 };
  const leader = await watch(context, fileId, { stream: false, overrides: quick });
  await until(() => fileRequests(fileId).length >= 1, { what: "the leader's first request" });
  const follower = await watch(context, fileId, { stream: false, overrides: { ...quick, maxConsecutiveErrors: 3 } });
  // The server fails only once the second tab follows (a tab that joins a
  // run of errors already at its limit ends at once, with no onRetry).
  await follower.waitForFunction(() => window.progress.some((p) => p.tab === "follower"), null, { timeout: 15000 });
  await call("PUT", "/api/faults", { serverError: { probability: 1, status: 503 } });
  await follower.waitForFunction(() => window.errors.length > 0, null, { timeout: 15000 });
  const [lead, follow] = await Promise.all([recorded(leader), recorded(follower)]);
  assert.deepEqual(follow.errors, [{ kind: "server", message: "Server error (HTTP 503)" }], "its own limit ended its wait");
  assert.ok(
    follow.retries.length >= 1 && follow.retries.every((r) => r.kind === "server" && r.message === "Server error (HTTP 503)"),
    JSON.stringify(follow.retries),
  );
  assert.ok(follow.progress.some((p) => p.tab === "follower"), "it followed");
  assert.deepEqual(lead.errors, [], "the leader goes on, on its own limits");
  assert.ok(lead.retries.length >= 3, `the leader retried: ${lead.retries.length}`);
  await context.close();
});

test("tabs learn together: the stored history holds each tab's completion once, and a shared job's once", async () => {
  const context = await browser.newContext();
  const KEY = "smart-polling/learned//api/file/{id}";
  // Two tabs, each on its own generation: each records its own completion.
  const [a, b] = [await generate(60), await generate(70)];
  const own = [await watch(context, a.fileId), await watch(context, b.fileId)];
  await completed(own);
  // Two tabs on one generation: only the tab that polled it records it.
  const shared = await generate(60);
  const both = [await watch(context, shared.fileId), await watch(context, shared.fileId)];
  // The premise: the second tab joined the running job (it follows).
  await both[1].waitForFunction(() => window.progress.some((p) => p.tab === "follower"));
  await assertSameCompletion(both);
  const stored = await own[0].evaluate((k) => JSON.parse(localStorage.getItem(k) ?? "null"), KEY);
  assert.equal(stored?.v, 2, JSON.stringify(stored));
  assert.equal(stored.any.length, 3, `three completions, each once: ${JSON.stringify(stored.any)}`);
  assert.equal(new Set(stored.any.map(String)).size, 3, "no sample twice");
  for (const [at, ms] of stored.any) {
    assert.ok(at > Date.now() - 120_000 && at <= Date.now(), `learned now: ${at}`);
    assert.ok(ms >= 1000 && ms < 60_000, `a plausible completion time: ${ms}`);
  }
  await context.close();
});

test("offline for seconds, past the Promise form's error limit: the job pauses, and polls within moments of online", async () => {
  const { fileId } = await generate(80);
  const context = await browser.newContext();
  const page = await watch(context, fileId, { stream: false, overrides: { intervals: [200], maxConsecutiveErrors: 3 } });
  await until(() => fileRequests(fileId).length >= 1, { timeout: 10_000, what: "a first request" });
  await context.setOffline(true);
  const offlineAt = Date.now();
  await until(async () => (await page.evaluate(() => window.progress.at(-1)?.waitingForNetwork)) === true, { timeout: 10_000, what: "progress says it waits for the network" });
  // At 200 ms a poll, 3 s offline is 15 polls' worth: five times the error limit.
  await sleep(3000);
  const during = fileRequests(fileId, offlineAt + 100).length;
  assert.equal(during, 0, "nothing reached the server while offline");
  const onlineAt = Date.now();
  await context.setOffline(false);
  await until(() => fileRequests(fileId, onlineAt).length >= 1, { timeout: 10000, what: "a request after online" });
  const first = fileRequests(fileId, onlineAt)[0].at - onlineAt;
  // At once (a paused job polls at the next turn), not when some wait is up: loose above.
  assert.ok(first < 2000, `the first request after online left ${first} ms later`);
  await completed([page], 20_000);
  const rec = await recorded(page);
  assert.deepEqual(rec.errors, [], "the job survived");
  assert.ok(rec.retries.every((r) => r.kind !== "network"), `no network error counted: ${JSON.stringify(rec.retries)}`);
  assert.equal(await page.evaluate(() => window.manager.metrics().offlinePauses), 1);
  await context.close();
});

test("a tab with shareAcrossTabs: false polls on its own", async () => {
  const { fileId } = await generate(100);
  const context = await browser.newContext();
  const overrides = { intervals: [400] };
  // One sharing page (it leads: no other tab shares the job) and one that
  // does not share: were it to join, it would follow and send nothing.
  const shared = await watch(context, fileId, { stream: false, overrides });
  await shared.waitForFunction(() => window.progress.some((p) => p.tab === "leader"));
  const alone = await watch(context, fileId, { stream: false, share: false, overrides });
  const [a, own] = (await assertSameCompletion([shared, alone])).recs;

  assert.ok(own.progress.every((p) => p.tab === undefined), "not a shared job: no tab in its progress");
  const leader = maxAttempt(a);
  const mine = maxAttempt(own);
  assert.ok(mine >= 2, `it polled: ${mine} attempts`);
  const total = (await jobStats(fileId)).file;
  assert.equal(total, leader + mine, `the shared schedule (${leader}) and its own (${mine})`);
  await context.close();
});

test("forged channel messages (another version, malformed, a completion with a javascript: url) reach no callback", async () => {
  const { fileId } = await generate(100); // 10 s
  const context = await browser.newContext();
  const overrides = { intervals: [500] };
  const pages = [await watch(context, fileId, { stream: false, overrides }), await watch(context, fileId, { stream: false, overrides })];
  await pages[1].waitForFunction(() => window.progress.some((p) => p.tab === "follower" && p.attempt >= 1));
  const forger = await watch(context, null);
  const channel = await tabsChannel(forger, "file", fileId);
  // A valid state on that channel is heard by the follower (within the
  // job's limits, a safe record): the name is right. Heard again later, it
  // marks that every message posted before it has been handled.
  const heard = (page, n) => page.evaluate((n) => window.updates.some((u) => u.probe === n), n);
  const probe = (n) => ({
    v: 1, type: "state", kind: "file", id: fileId, attempt: 1, elapsed: 100, channel: "polling", position: 0,
    fingerprint: 9_000_000 + n, record: { id: fileId, url: null, type: "image", tasks: [{ id: "t", status: "in_progress" }], probe: n },
  });
  await postAsATab(forger, channel, [probe(1)]);
  await until(() => heard(pages[1], 1), { what: "the follower to hear a valid state" });
  // The server's record changes as the job runs (progress, updated_at): the
  // pages hear real updates meanwhile; a forged record carries `forged`.
  const counts = async () => Promise.all(pages.map(async (p) => {
    const r = await recorded(p);
    return { forgedUpdates: r.updates.filter((u) => "forged" in u).length, completes: r.completes.length, errors: r.errors.length };
  }));
  const start = await counts();
  assert.ok(start.every((c) => c.forgedUpdates === 0));

  const evil = "javascript:alert(document.domain)";
  const record = { id: fileId, url: evil, thumbnail_url: evil, type: "image", tasks: [{ id: "t", status: "completed" }], forged: 1 };
  const good = { id: fileId, url: "/media/forged.png", type: "image", tasks: [{ id: "t", status: "completed" }], forged: 2 };
  const base = { v: 1, kind: "file", id: fileId, attempt: 777, elapsed: 123456789, channel: "polling", position: 0 };
  const messages = [
    // another version, otherwise a well-formed completion
    { ...base, v: 2, type: "end", result: "complete", url: good.url, record: good, fingerprint: 1 },
    { ...base, v: "1", type: "end", result: "complete", url: good.url, record: good, fingerprint: 1 },
    // malformed
    null, 42, "end", [], {}, { v: 1 }, { v: 1, type: "end" },
    { v: 1, type: "end", kind: "file", id: fileId },
    { v: 1, type: "end", kind: "file", id: fileId, result: "complete" },
    { v: 1, type: "end", kind: "file", id: fileId, result: "complete", url: good.url },
    { v: 1, type: "end", kind: "file", id: fileId, result: "complete", url: good.url, record: "not a record" },
    { v: 1, type: "end", kind: "file", id: fileId, result: "no such error", record: good },
    { v: 1, type: "end", kind: "video", id: fileId, result: "complete", url: good.url, record: good },
    { ...base, type: "state", attempt: "many", record: good, fingerprint: 2 },
    { ...base, type: "state", record: good, fingerprint: "x" },
    { ...base, type: "state", record: { id: fileId, url: 5, tasks: "no" }, fingerprint: 3 },
    { ...base, type: "promote", record: good },
    // an elapsed time past a day (no page's job runs that long)
    { ...base, type: "state", record: good, fingerprint: 8 },
    // more server errors in a row than requests made (would end every follower)
    { ...base, type: "state", attempt: 3, elapsed: 100, errors: 1_000_000, error: 503 },
    // a completion whose url is a script, or whose url the record does not carry
    { ...base, type: "end", result: "complete", url: evil, record, fingerprint: 4 },
    { ...base, type: "end", result: "complete", url: good.url, record, fingerprint: 5 },
    { ...base, type: "end", result: "complete", url: evil, record: good, fingerprint: 6 },
    { ...base, type: "state", record, fingerprint: 7 },
  ];
  await postAsATab(forger, channel, [...messages, probe(2)]);
  // and from inside a watching page too (another channel object of the same name)
  await postAsATab(pages[1], channel, [...messages, probe(3)]);
  // Each sender's messages arrive in order: once its last probe is heard,
  // everything it posted before has been handled.
  await until(async () => (await heard(pages[1], 2)) && (await heard(pages[1], 3)), { what: "the closing probes" });
  assert.deepEqual(await counts(), start, "no onUpdate, onComplete or onError from a forged message");

  // The job goes on and ends with the server's record, once in each page.
  const { record: done, recs } = await assertSameCompletion(pages);
  assert.equal(done.url, `/media/${fileId}.png`);
  for (const rec of recs) {
    assert.ok(!rec.progress.some((p) => p.attempt === 777 || p.elapsedTime >= 123456789), "no forged progress");
    assert.ok(!rec.updates.some((u) => "forged" in u), "no forged record");
    assert.ok(!JSON.stringify(rec).includes("javascript:"), "no script url anywhere");
  }
  await context.close();
});

/**
 * Three generations ending 4, 5 and 6 s from now, watched by one page with
 * `maxStreams: 2`; returns the most event streams the server saw open at once.
 */
async function threeStreams(share) {
  const ids = [];
  for (const seconds of [40, 50, 60]) ids.push((await generate(seconds)).fileId);
  const context = await browser.newContext();
  const page = await watch(context, ids.join(","), { share, maxStreams: 2 });
  await page.waitForFunction(() => window.completes.length + window.errors.length >= 3, null, { timeout: 20000 });
  const rec = await recorded(page);
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(rec.completes.map((r) => r.id).sort(), [...ids].sort(), "each completes once");
  await context.close();
  return streams.max;
}

test("maxStreams holds for a page's own jobs (shareAcrossTabs: false): never a third stream at once", async () => {
  assert.equal(await threeStreams(false), 2);
});

test(
  "maxStreams holds for shared jobs too: never a third stream at once",
  async () => {
    assert.equal(await threeStreams(true), 2);
  },
);

test(
  "a job that ends in the leading tab is not taken over by a follower",
  async () => {
    // 12 generations ending 0.3 s apart, from 10 s on: three pages watching
    // them all before the first ends (checked below). Opening three pages
    // took over 4 s once, beside a compile (npm test runs this file
    // alongside the other tiers).
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push((await generate(100 + i * 3)).fileId);
    const context = await browser.newContext();
    const overrides = { intervals: [300] };
    const pages = [];
    for (let i = 0; i < 3; i++) pages.push(await watch(context, ids.join(","), { stream: false, overrides }));
    await Promise.all(pages.map((p) => p.waitForFunction((n) => window.completes.length >= n, ids.length, { timeout: 30000 })));
    // Proving an absence: a takeover comes after the ended job's lock lets
    // go (a second of grace), then at the next 300 ms poll.
    await sleep(2500);
    const recs = await Promise.all(pages.map(recorded));
    const problems = [];
    for (const id of ids) {
      const ended = Math.min(...recs.map((r) => r.completedAt[r.completes.findIndex((c) => c.id === id)]));
      // A page that started watching after the end would rightly poll once.
      const joined = Math.max(...recs.map((r) => r.progress.find((p) => p.fileId === id)?.at ?? Infinity));
      assert.ok(joined < ended, `${id}: every page watched it before it ended`);
      const late = fileRequests(id, ended).length;
      const leaders = recs.filter((r) => r.progress.some((p) => p.fileId === id && p.tab === "leader")).length;
      if (late || leaders !== 1) problems.push(`${id}: ${late} request(s) after the end, ${leaders} leaders`);
    }
    assert.deepEqual(problems, []);
    await context.close();
  },
);

test("the demo in two tabs: one tab polls the generation, the other follows it", async () => {
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  // 6 s per generation, so the second tab opens while it runs
  await context.route("**/api/generate/*", (route) => {
    const body = JSON.parse(route.request().postData() || "{}");
    return route.continue({ postData: JSON.stringify({ ...body, duration: 150 }) });
  });
  const open = async () => {
    const page = await openPage(browser, api.url + "/", { context });
    await page.waitForSelector('[data-testid="generate-image"]:enabled');
    return page;
  };
  const first = await open();
  await first.fill('[data-testid="prompt"]', "a lighthouse seen from two tabs");
  await first.click('[data-testid="generate-image"]');
  await first.waitForSelector('[data-testid="job"][data-file-id]:not([data-file-id=""])');
  const fileId = await first.getAttribute('[data-testid="job"]', "data-file-id");
  await first.waitForSelector('[data-testid="job-tab"][data-tab="leader"]');
  // the second tab picks the running generation up from storage and follows
  const second = await open();
  const card = `[data-testid="job"][data-file-id="${fileId}"]`;
  await second.waitForSelector(`${card} [data-testid="job-tab"][data-tab="follower"]`, { timeout: 5000 });
  assert.equal(await first.getAttribute(`${card} [data-testid="job-tab"]`, "data-tab"), "leader");
  assert.match(await first.textContent(`${card} [data-testid="job-tab"]`), /this tab polls/i);
  assert.match(await second.textContent(`${card} [data-testid="job-tab"]`), /another tab polls/i);
  assert.equal((await jobStats(fileId)).events, 1, "one event stream for the two tabs");

  // The metrics panel charts the server's request rate (the requests above
  // land in its bars within a couple of refreshes) and shows the retry budget.
  await second.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="request-rate"] [data-testid="request-rate-bar"]')].some((b) => Number(b.dataset.requests) > 0),
    null,
    { timeout: 5000 },
  );
  await second.waitForFunction(() => /10\s*\/\s*10/.test(document.querySelector('[data-testid="retry-budget"]')?.textContent ?? ""), null, { timeout: 5000 });

  for (const page of [first, second]) {
    await page.waitForSelector(`${card}[data-status="completed"]`, { timeout: 20000 });
  }
  for (const page of [first, second]) assert.equal(await page.getAttribute(card, "data-terminals"), "1");
  await context.close();
});
