// End-to-end: the demo's generator hooks keep their generations in
// localStorage. A generation running when the page reloads is picked up again
// (one new event stream, no duplicate poller) and finishes, announced exactly
// once; a finished one is not announced again after a reload and stays in the
// history; storage that is corrupt, of another version, carries unsafe urls,
// is disabled or full changes nothing but persistence.
//
// Announcements are the page's toasts ([data-testid="toast"]); an init script
// logs every toast element that appears into sessionStorage, which survives
// reloads of the tab, so a test can count them across page loads.
// Needs www/dist and www/dist-strict (npm run build:www).
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import {
  assertSilent as silent,
  callApi,
  closeAll,
  generate,
  jobStats,
  launchChromium,
  openPage as open,
  shot as screenshot,
  until,
} from "./support.mjs";
import { createApiServer } from "../server/index.mjs";

const SPEED = 10;
const KEY = { image: "smart-polling-demo:images:v1", video: "smart-polling-demo:videos:v1" };

let api;
let browser;

before(async () => {
  api = await createApiServer({ port: 0, speed: SPEED, seed: 21 });
  browser = await launchChromium();
});

after(() => closeAll({ browser, api }));

beforeEach(async () => {
  await call(api, "DELETE", "/api/faults");
  await call(api, "POST", "/api/stats/reset");
});

const call = (server, method, path, body) => callApi(server, method, path, body);

/**
 * A page in its own context (its own localStorage). `seconds`: how long the
 * server takes over each generation (before SPEED), added to the generate
 * POST, so that a reload lands while the job runs. `init`: a script run
 * before the page's own (e.g. to break localStorage).
 */
async function openPage({ server = api, seconds = null, init = null } = {}) {
  const logToasts = () => {
    const seen = new WeakSet();
    const record = () => {
      for (const el of document.querySelectorAll('[data-testid="toast"]')) {
        if (seen.has(el)) continue;
        seen.add(el);
        const log = JSON.parse(sessionStorage.getItem("e2e:announcements") || "[]");
        log.push({ fileId: el.dataset.fileId, tone: el.dataset.tone, kind: el.dataset.kind });
        sessionStorage.setItem("e2e:announcements", JSON.stringify(log));
      }
    };
    new MutationObserver(record).observe(document, { childList: true, subtree: true });
  };
  const page = await open(browser, server.url + "/", {
    init: init ? [logToasts, init] : [logToasts],
    setup: async (context) => {
      if (seconds == null) return;
      await context.route("**/api/generate/*", (route) => {
        const body = JSON.parse(route.request().postData() || "{}");
        return route.continue({ postData: JSON.stringify({ ...body, duration: seconds }) });
      });
    },
  });
  await page.waitForSelector('[data-testid="generate-image"]');
  return page;
}

/** The file id of the first card, once the server has answered the POST. */
async function firstFileId(page) {
  await page.waitForSelector('[data-testid="job"][data-file-id]:not([data-file-id=""])');
  return page.getAttribute('[data-testid="job"]', "data-file-id");
}

/** The card of `fileId` once it has `status`. */
async function card(page, fileId, status, timeout = 20000) {
  const sel = `[data-testid="job"][data-file-id="${fileId}"][data-status="${status}"]`;
  await page.waitForSelector(sel, { timeout });
  return page.$eval(sel, (e) => ({
    channel: e.dataset.channel,
    terminals: Number(e.dataset.terminals),
    resumed: e.dataset.resumed === "true",
    media: e.querySelector("img, video")?.getAttribute("src") ?? null,
    text: e.textContent,
  }));
}

/** Every toast that has appeared in this tab, across reloads. */
const announcements = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem("e2e:announcements") || "[]"));
const stored = (page, kind) => page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? "null"), KEY[kind]);

/** Asserts that the server sees no request for `fileId` for a while. */
const assertSilent = (server, fileId, message) => silent(async () => (await jobStats(server, fileId)).total, message);

const shot = (page, name) => screenshot(page, name, { settle: 600 });

/** No src or href in the app (the head's data: favicon aside) that is not http(s) or relative. */
const unsafeLinks = (page) =>
  page.$$eval("#root [src], #root [href]", (els) =>
    els
      .flatMap((e) => [e.getAttribute("src"), e.getAttribute("href")])
      .filter((v) => v != null && !/^https?:$/.test(new URL(v, location.href).protocol)),
  );

test("a video running when the page reloads is picked up again and finishes, announced once", async () => {
  // 14 s at SPEED 10: still running at the reload, on a loaded machine too
  // (npm test runs this file beside the other tiers)
  const page = await openPage({ seconds: 140 });
  await generate(page, "video", "a comet over a winter sea");
  const id = await firstFileId(page);
  // the job streams: the server has its event stream
  await until(async () => (await jobStats(api, id)).events === 1, { timeout: 10000, what: "the event stream" });
  await page.waitForSelector(`[data-testid="status-video"][data-connection="connected"]`);
  const saved = await stored(page, "video");
  assert.equal(saved.version, 1);
  assert.equal(saved.items[0].fileId, id);
  assert.ok(["pending", "processing"].includes(saved.items[0].status), `stored as running: ${saved.items[0].status}`);
  await shot(page, "7-recovery-before-reload.png");

  const beforeReload = await jobStats(api, id);
  await page.reload();
  // restored as running and watched again (data-resumed), whatever its status by now
  await page.waitForSelector(`[data-testid="job"][data-file-id="${id}"][data-resumed="true"]`);
  const done = await card(page, id, "completed", 30000);
  assert.equal(done.terminals, 1, "one onComplete in the reloaded page");
  assert.equal(done.resumed, true);
  assert.equal(done.channel, "sse");
  assert.match(done.media, /\/media\/.+\.webm$/);

  const afterReload = await jobStats(api, id);
  assert.equal(afterReload.events - beforeReload.events, 1, "exactly one new event stream after the reload");
  assert.ok(afterReload.file - beforeReload.file <= 2, `one schedule: ${afterReload.file - beforeReload.file} file requests after the reload`);
  await until(async () => (await announcements(page)).length >= 1, { timeout: 5000, what: "the announcement" });
  await page.waitForTimeout(500);
  assert.deepEqual(await announcements(page), [{ fileId: id, tone: "ok", kind: "video" }], "announced exactly once");
  assert.equal(await page.getAttribute('[data-testid="current-video"]', "data-file-id"), id, "currentGeneration is the video");
  assert.equal((await stored(page, "video")).items[0].status, "completed");
  await shot(page, "8-recovery-finished-after-reload.png");

  // reload after completion: in the history, not announced again, not polled again
  await page.reload();
  const restored = await card(page, id, "completed");
  assert.equal(restored.terminals, 0, "no callback for a finished generation");
  assert.equal(restored.resumed, false);
  assert.match(restored.media, /\/media\/.+\.webm$/);
  assert.equal(await page.getAttribute('[data-testid="current-video"]', "data-file-id"), id);
  await assertSilent(api, id, "a finished generation is not polled after a reload");
  assert.equal((await announcements(page)).length, 1, "not announced again after the reload");
  await page.context().close();
});

test("a polling-only image keeps polling only after the reload and finishes once", async () => {
  const page = await openPage({ seconds: 100 }); // still running at the reload
  await page.check('[data-testid="disable-stream"]');
  await generate(page, "image", "a kite over dunes");
  const id = await firstFileId(page);
  await until(async () => (await jobStats(api, id)).file >= 1, { timeout: 10000, what: "the first poll" });
  await page.reload();
  // the switch is not persisted (it is off after the reload), the job's own setting is
  assert.equal(await page.isChecked('[data-testid="disable-stream"]'), false);
  const done = await card(page, id, "completed", 30000);
  assert.equal(done.channel, "polling");
  assert.equal(done.resumed, true);
  assert.equal(done.terminals, 1);
  assert.equal((await jobStats(api, id)).events, 0, "no event stream, before or after the reload");
  await page.waitForTimeout(500);
  assert.deepEqual(await announcements(page), [{ fileId: id, tone: "ok", kind: "image" }]);
  await page.context().close();
});

test("a generation that finished while the page was away is announced once when it comes back", async () => {
  const page = await openPage({ seconds: 40 });
  await generate(page, "image", "a lighthouse keeper's cat");
  const id = await firstFileId(page);
  await until(async () => (await jobStats(api, id)).total >= 1, { timeout: 10000, what: "the first request" });
  await page.goto("about:blank");
  await until(
    async () => (await call(api, "GET", "/api/jobs")).find((j) => j.fileId === id)?.status === "completed",
    { timeout: 15000, what: "the job to finish on the server" },
  );
  await page.goto(api.url + "/");
  const done = await card(page, id, "completed");
  assert.equal(done.resumed, true);
  assert.equal(done.terminals, 1);
  await page.waitForTimeout(500);
  assert.deepEqual(await announcements(page), [{ fileId: id, tone: "ok", kind: "image" }]);
  await page.context().close();
});

test("under StrictMode a reload also resumes the job on one event stream", async () => {
  const strict = await createApiServer({
    port: 0,
    speed: SPEED,
    seed: 22,
    staticDir: new URL("../www/dist-strict/", import.meta.url).pathname,
  });
  try {
    const page = await openPage({ server: strict, seconds: 100 }); // still running at the reload
    await generate(page, "image", "a tram in the rain");
    const id = await firstFileId(page);
    await until(async () => (await jobStats(strict, id)).events === 1, { timeout: 10000, what: "the event stream" });
    const beforeReload = await jobStats(strict, id);
    await page.reload();
    const done = await card(page, id, "completed", 30000);
    assert.equal(done.terminals, 1);
    const afterReload = await jobStats(strict, id);
    assert.equal(afterReload.events - beforeReload.events, 1, "one event stream after the reload, not two");
    assert.ok(afterReload.file - beforeReload.file <= 3, `no duplicate polling (${afterReload.file - beforeReload.file})`);
    await page.waitForTimeout(500);
    assert.equal((await announcements(page)).length, 1);
    await page.context().close();
  } finally {
    await strict.close();
  }
});

test("stopGeneration stops the poller for good; forceCheckResults then finds the result, announced once", async () => {
  const page = await openPage({ seconds: 40 });
  await generate(page, "image", "a clock tower at noon");
  const id = await firstFileId(page);
  await until(async () => (await jobStats(api, id)).events === 1, { timeout: 10000, what: "the event stream" });
  await page.click('[data-testid="stop-image"]');
  await card(page, id, "stopped");
  await assertSilent(api, id, "no request after stopGeneration");
  assert.equal((await stored(page, "image")).items[0].status, "stopped");
  // a stopped generation stays stopped across a reload (not picked up again)
  await page.reload();
  await card(page, id, "stopped");
  await assertSilent(api, id, "a stopped generation is not resumed by a reload");
  await until(
    async () => (await call(api, "GET", "/api/jobs")).find((j) => j.fileId === id)?.status === "completed",
    { timeout: 15000, what: "the job to finish on the server" },
  );
  assert.deepEqual(await announcements(page), [], "nothing announced yet");
  const before = await jobStats(api, id);
  await page.click(`[data-testid="job"][data-file-id="${id}"] [data-testid="job-check"]`);
  const done = await card(page, id, "completed");
  assert.equal(done.terminals, 1);
  const after = await jobStats(api, id);
  assert.equal(after.events, before.events, "the check polls, it opens no stream");
  assert.ok(after.file > before.file, "the check asked the server");
  await page.waitForTimeout(500);
  assert.deepEqual(await announcements(page), [{ fileId: id, tone: "ok", kind: "image" }]);
  assert.equal(await page.getAttribute('[data-testid="current-image"]', "data-file-id"), id);
  // clearCurrentGeneration hides the latest result, the history keeps it
  await page.click('[aria-label="Dismiss the latest image"]');
  await page.waitForSelector('[data-testid="current-image"]', { state: "detached" });
  await page.reload();
  await card(page, id, "completed");
  assert.equal(await page.$('[data-testid="current-image"]'), null, "cleared stays cleared");
  assert.equal((await announcements(page)).length, 1);
  await page.context().close();
});

test("forceCheckResults on a running job asks the server again at once (here: past a hanging request)", async () => {
  // Every file request hangs and there is no stream: the job's next request
  // would only come after its 15 s request timeout.
  await call(api, "PUT", "/api/faults", { hang: 1, stream: "off" });
  const page = await openPage();
  await generate(page, "image", "a patient heron");
  const id = await firstFileId(page);
  await until(async () => (await jobStats(api, id)).file === 1, { timeout: 10000, what: "the first (hanging) poll" });
  await page.click('[data-testid="check-image"]');
  await until(async () => (await jobStats(api, id)).file === 2, { timeout: 8000, what: "the check's request, before the request timeout" });
  await page.click('[data-testid="stop-image"]');
  await card(page, id, "stopped");
  await page.context().close();
});

test("corrupt, old or unsafe storage is ignored without an error", async () => {
  const page = await openPage();
  const item = (over) => ({
    id: "gen-forged-1",
    kind: "image",
    prompt: "forged",
    fileId: "img_forged1",
    projectId: "prj_forged1",
    status: "completed",
    createdAt: Date.now() - 60000,
    finishedAt: Date.now() - 50000,
    url: "/media/img_forged1.png",
    thumbnailUrl: null,
    contentType: "image/png",
    streamAllowed: true,
    ownFaults: false,
    error: null,
    announced: true,
    ...over,
  });
  const cases = [
    { name: "garbage JSON", image: "{not json", video: "[1, 2", cards: 0 },
    { name: "JSON of the wrong shape", image: "null", video: JSON.stringify({ version: 1, items: "nope" }), cards: 0 },
    { name: "another version", image: JSON.stringify({ version: 2, items: [item()] }), video: JSON.stringify([item({ kind: "video" })]), cards: 0 },
    {
      name: "unsafe urls and bad ids",
      image: JSON.stringify({
        version: 1,
        currentId: "gen-js",
        items: [
          item({ id: "gen-js", fileId: "img_js1", url: "javascript:alert(document.domain)" }),
          item({ id: "gen-js2", fileId: "img_js2", url: " JavaScript:alert(1)" }),
          item({ id: "gen-js3", fileId: "img_js3", url: "java\tscript:alert(1)" }),
          item({ id: "gen-data", fileId: "img_data", url: "data:text/html,<script>alert(1)</script>" }),
          item({ id: "gen-thumb", fileId: "img_thumb", thumbnailUrl: "javascript:alert(1)", url: "/media/img_thumb.png" }),
          item({ id: "gen-path", fileId: "../../api/faults", status: "processing", url: null }),
          item({ id: "gen-<b>", fileId: "img_tag" }),
          item({ id: "gen-kind", kind: "video", fileId: "img_kind" }),
          item({ id: "gen-nourl", fileId: "img_nourl", url: null }),
          item(), // the one valid item
          item({ id: "gen-dup", fileId: "img_forged1" }), // same server id again
          42,
          null,
        ],
      }),
      video: JSON.stringify({ version: 1, items: [item({ kind: "video", url: "vbscript:msgbox(1)" })] }),
      cards: 2, // the valid item, and the one whose unsafe thumbnail is dropped
    },
  ];
  for (const c of cases) {
    await page.evaluate(([k, v]) => {
      localStorage.setItem(k.image, v.image);
      localStorage.setItem(k.video, v.video);
    }, [KEY, c]);
    await page.reload();
    await page.waitForSelector('[data-testid="generate-image"]:enabled');
    assert.equal(await page.$(".crash"), null, `${c.name}: the page runs`);
    assert.equal(await page.$$eval('[data-testid="job"]', (els) => els.length), c.cards, `${c.name}: cards`);
    assert.deepEqual(await unsafeLinks(page), [], `${c.name}: no unsafe src or href`);
  }
  // the valid forged item is only history: nothing is requested for any of them
  const stats = await call(api, "GET", "/api/stats");
  assert.deepEqual(Object.keys(stats.byJob), [], "no request for stored ids");
  assert.equal(await page.$('[data-testid="current-image"]'), null, "currentId of a dropped item is ignored");
  await shot(page, "9-recovery-corrupt-storage.png");

  // a generation still works, and its save replaces what was there
  await generate(page, "image", "a fresh start");
  const handle = await page.waitForFunction(() => {
    const fresh = [...document.querySelectorAll('[data-testid="job"]')].find(
      (e) => e.dataset.fileId && !["img_forged1", "img_thumb"].includes(e.dataset.fileId),
    );
    return fresh?.dataset.fileId;
  });
  const id = await handle.jsonValue();
  await card(page, id, "completed");
  const saved = await stored(page, "image");
  assert.equal(saved.version, 1);
  assert.ok(saved.items.every((x) => !/script:|^data:/i.test(x.url ?? "")), "nothing unsafe written back");
  assert.equal((await announcements(page)).length, 1);
  await page.context().close();
});

test("disabled localStorage changes nothing but persistence", async () => {
  const page = await openPage({
    seconds: 30,
    init: () => {
      Object.defineProperty(window, "localStorage", {
        configurable: true,
        get() {
          throw new DOMException("storage is disabled", "SecurityError");
        },
      });
    },
  });
  await generate(page, "image", "a house without memory");
  const id = await firstFileId(page);
  const done = await card(page, id, "completed");
  assert.equal(done.terminals, 1);
  await page.waitForTimeout(300);
  assert.equal((await announcements(page)).length, 1);
  await page.reload();
  await page.waitForSelector('[data-testid="generate-image"]:enabled');
  assert.equal(await page.$$eval('[data-testid="job"]', (els) => els.length), 0, "nothing kept");
  await page.context().close();
});

test("a full localStorage changes nothing but persistence", async () => {
  const page = await openPage({
    seconds: 30,
    init: () => {
      const setItem = Storage.prototype.setItem;
      Storage.prototype.setItem = function (key, value) {
        if (this === window.localStorage) throw new DOMException("quota exceeded", "QuotaExceededError");
        return setItem.call(this, key, value);
      };
    },
  });
  await generate(page, "video", "a lake that forgets");
  const id = await firstFileId(page);
  const done = await card(page, id, "completed", 20000);
  assert.equal(done.terminals, 1);
  await page.waitForTimeout(300);
  assert.deepEqual(await announcements(page), [{ fileId: id, tone: "ok", kind: "video" }]);
  await page.context().close();
});
