// End-to-end: the demo page (www/dist, built by `npm run build:www`) served by
// the simulated generation API, driven in headless Chromium. The whole stack is
// real: the wasm package, the React hooks, the server's SSE and faults.
// Screenshots of each state go to screenshots/ (git-ignored).
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { assertSilent, callApi, closeAll, generate, launchChromium, openPage as open, shot, until } from "./support.mjs";
import { createApiServer } from "../server/index.mjs";

let api;
let browser;

before(async () => {
  // speed 10: an image takes about 0.6 s, a video about 2.5 s.
  api = await createApiServer({ port: 0, speed: 10, seed: 7 });
  browser = await launchChromium();
});

after(() => closeAll({ browser, api }));

beforeEach(async () => {
  await call("DELETE", "/api/faults");
  await call("POST", "/api/stats/reset");
});

const call = (method, path, body) => callApi(api, method, path, body);

const stats = () => call("GET", "/api/stats");

/** The demo page, in a context of its own. */
const openPage = () => open(browser, api.url + "/");

/** Waits until `n` cards have `status`; returns their attributes. */
async function cards(page, status, n, timeout = 60000) {
  await page.waitForFunction(
    ([s, k]) => document.querySelectorAll(`[data-testid="job"][data-status="${s}"]`).length >= k,
    [status, n],
    { timeout },
  );
  return page.$$eval(`[data-testid="job"][data-status="${status}"]`, (els) =>
    els.map((e) => ({
      fileId: e.dataset.fileId,
      channel: e.dataset.channel,
      terminals: Number(e.dataset.terminals),
      text: e.textContent,
      media: e.querySelector("img, video")?.getAttribute("src") ?? null,
    })),
  );
}

/** Faults that keep every job polling forever: each poll is rate limited, no stream. */
const neverEnding = () =>
  call("PUT", "/api/faults", { rateLimit: { probability: 1, retryAfter: "seconds", seconds: 1 }, stream: "off" });

/** Server-side requests made so far for these file ids. */
async function requestsFor(ids) {
  const s = await stats();
  return ids.reduce((n, id) => n + (s.byJob[id]?.total ?? 0), 0);
}


test("an image completes over the stream", async () => {
  const page = await openPage();
  await generate(page, "image", "a lighthouse at dawn, oil painting");
  const [card] = await cards(page, "completed", 1);
  assert.equal(card.channel, "sse");
  assert.equal(card.terminals, 1);
  assert.match(card.media, /\/media\/.+\.png$/);
  const job = (await stats()).byJob[card.fileId];
  assert.equal(job.events, 1, "one event stream");
  assert.ok(job.file <= 2, `the catch-up poll, at most one more: got ${job.file}`);
  await page.waitForFunction(() => document.querySelector('[data-testid="job"] img')?.complete);
  await shot(page, "1-image-over-sse.png");
  await page.context().close();
});

test("a video completes with the stream disabled (polling only)", async () => {
  const page = await openPage();
  await page.check('[data-testid="disable-stream"]');
  await generate(page, "video", "a paper boat on a rainy street");
  const [card] = await cards(page, "completed", 1, 30000);
  assert.equal(card.channel, "polling");
  assert.equal(card.terminals, 1);
  assert.match(card.media, /\/media\/.+\.webm$/);
  const job = (await stats()).byJob[card.fileId];
  assert.equal(job.events ?? 0, 0, "no stream was opened");
  assert.ok(job.file >= 2, "it polled");
  await shot(page, "2-video-polling.png");
  await page.context().close();
});

test("a 429 storm with Retry-After is ridden out with a bounded request count", async () => {
  await call("PUT", "/api/faults", {
    rateLimit: { probability: 0.7, retryAfter: "seconds", seconds: 1 },
    stream: "off",
  });
  const page = await openPage();
  await generate(page, "image", "a fox in the snow");
  await page.waitForFunction(() => document.querySelector('[data-testid="job"]')?.textContent.includes("rate"), null, { timeout: 15000 });
  await shot(page, "3-rate-limited.png");
  const [card] = await cards(page, "completed", 1, 45000);
  assert.equal(card.terminals, 1);
  const s = await stats();
  assert.ok((s.byStatus["429"] ?? 0) >= 1, "the storm happened");
  const job = s.byJob[card.fileId];
  // Each 429 waits at least the Retry-After (1 s) and at least the growing backoff.
  assert.ok(job.file <= 20, `bounded: ${job.file} requests`);
  await page.context().close();
});

test("a 403 ends the job with a visible error", async () => {
  await call("PUT", "/api/faults", { forbidden: true });
  const page = await openPage();
  await generate(page, "image", "a forbidden city");
  const [card] = await cards(page, "error", 1);
  assert.equal(card.terminals, 1);
  assert.match(card.text, /forbidden|403|denied/i);
  const job = (await stats()).byJob[card.fileId];
  assert.ok(job.file <= 1, `no retry after a 403 (${job.file} file requests)`);
  // The metrics panel (refreshed every second) counts the terminal error.
  await page.waitForFunction(() => document.querySelector('[data-testid="metrics"]').textContent.includes("forbidden"), null, { timeout: 5000 });
  await shot(page, "4-forbidden.png");
  await page.context().close();
});

// With 10-s jobs the three surely overlap, and the page's stream limit shows.

test("three concurrent jobs all complete exactly once", async () => {
  const page = await openPage();
  // 10 s per image (instead of 0.3-0.6 s), so that the three jobs surely run
  // at the same time, however slow the machine, and the stream limit (2)
  // applies to them
  await page.context().route("**/api/generate/*", (route) => {
    const body = JSON.parse(route.request().postData() || "{}");
    return route.continue({ postData: JSON.stringify({ ...body, duration: 100 }) });
  });
  // Every change of the cards: how many running jobs the manager reports on
  // the stream (a card with an attempt count has had a progress report; before
  // one, its channel is only the expected one), and how many run at once.
  await page.evaluate(() => {
    window.streams = { max: 0, maxRunning: 0, trace: [] };
    const check = () => {
      const running = [...document.querySelectorAll('[data-testid="job"]')].filter(
        (e) => e.dataset.status === "pending" || e.dataset.status === "processing",
      );
      const reported = running.filter((e) => e.querySelector('[data-testid="job-attempt"]')?.textContent.includes("/"));
      const sse = reported.filter((e) => e.dataset.channel === "sse").length;
      window.streams.max = Math.max(window.streams.max, sse);
      window.streams.maxRunning = Math.max(window.streams.maxRunning, running.filter((e) => e.dataset.fileId).length);
      const line = `${running.length} running, ${sse} of ${reported.length} reported on sse`;
      if (window.streams.trace.at(-1) !== line) window.streams.trace.push(line);
    };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  for (const p of ["a red kite", "a green valley", "a blue whale"]) await generate(page, "image", p);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="job"][data-file-id]:not([data-file-id=""])').length === 3);
  assert.equal(await page.$$eval('[data-testid="job"][data-status="completed"]', (els) => els.length), 0, "all three run at once");
  const done = await cards(page, "completed", 3);
  assert.equal(done.length, 3);
  const streams = await page.evaluate(() => window.streams);
  assert.equal(streams.maxRunning, 3, `three ran at once: ${streams.trace.join("; ")}`);
  assert.ok(streams.max <= 2, `at most 2 streams at a time: ${streams.trace.join("; ")}`);
  const channels = done.map((c) => c.channel);
  assert.ok(channels.filter((c) => c === "sse").length <= 2, `at most 2 ended on the stream: ${channels}`);
  await page.waitForTimeout(1000);
  const again = await cards(page, "completed", 3);
  assert.deepEqual(again.map((c) => c.terminals), [1, 1, 1], "exactly one onComplete each");
  const metrics = await page.textContent('[data-testid="metrics"]');
  assert.match(metrics, /100\s*%/, "the metrics panel shows the success rate");
  await shot(page, "5-three-jobs-and-metrics.png");
  await page.context().close();
});

test("reloading the page while jobs run leaves no poller behind", async () => {
  await neverEnding();
  const page = await openPage();
  await generate(page, "image", "a job that never ends");
  await generate(page, "video", "another one");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="job"][data-file-id]:not([data-file-id=""])').length === 2);
  const ids = await page.$$eval('[data-testid="job"]', (els) => els.map((e) => e.dataset.fileId));
  await until(async () => (await requestsFor(ids)) >= 4, { what: "four requests" });
  await shot(page, "6-before-reload.png");
  await page.reload();
  // The reloaded page picks both running jobs up again (e2e/recovery.test.mjs);
  // once it stops them, nothing may poll: not its jobs, not the old page's.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="job"][data-resumed="true"]').length === 2);
  await page.click('[data-testid="clear"]');
  await page.waitForSelector('[data-testid="job"]', { state: "detached" });
  await assertSilent(() => requestsFor(ids), "request count stopped growing after the reload and Clear all");
  await page.context().close();
});

test("removing a running job from the page stops its poller", async () => {
  await neverEnding();
  const page = await openPage();
  await generate(page, "image", "a job removed while it runs");
  await page.waitForSelector('[data-testid="job"][data-file-id]:not([data-file-id=""])');
  const id = await page.getAttribute('[data-testid="job"]', "data-file-id");
  await until(async () => (await requestsFor([id])) >= 2, { what: "two requests" });
  await page.click('[data-testid="job"] [aria-label="Stop and remove"]');
  await page.waitForSelector('[data-testid="job"]', { state: "detached" });
  await assertSilent(() => requestsFor([id]), "no request after the card was removed");
  await page.context().close();
});

test("the fault panel drives the server: a stream that never opens falls back to polling", async () => {
  const page = await openPage();
  await page.selectOption('[data-testid="fault-stream"]', "never");
  await until(async () => (await call("GET", "/api/faults")).stream === "never", { what: "the fault" });
  await generate(page, "image", "a lantern in the fog");
  // The manager waits sseConnectTimeout (10 s) for the stream, then polls.
  const [card] = await cards(page, "completed", 1, 30000);
  assert.equal(card.channel, "polling");
  await page.click('[data-testid="fault-reset"]');
  await until(async () => (await call("GET", "/api/faults")).stream !== "never", { what: "the reset" });
  await page.context().close();
});

test("React StrictMode's double mounting starts no duplicate poller", async () => {
  // The same page built with React's development runtime, where StrictMode
  // mounts, unmounts and remounts every component and effect.
  const strict = await createApiServer({
    port: 0,
    speed: 10,
    seed: 8,
    staticDir: new URL("../www/dist-strict/", import.meta.url).pathname,
  });
  try {
    const page = await open(browser, strict.url + "/");
    await generate(page, "image", "a quiet harbour");
    const [card] = await cards(page, "completed", 1);
    assert.equal(card.terminals, 1);
    const job = (await (await fetch(strict.url + "/api/stats")).json()).byJob[card.fileId];
    assert.equal(job.events, 1, "one event stream, not two");
    assert.ok(job.file <= 3, `no duplicate polling (${job.file} file requests)`);
    await page.context().close();
  } finally {
    await strict.close();
  }
});

