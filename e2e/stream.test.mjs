// End-to-end: a real `EventSource` in Chromium whose connection drops is
// reconnected by the browser, and the job keeps it: it polls while the
// stream is away, one request catches up when it is back, and the result
// comes over the stream. A stream that keeps dropping as soon as it opens
// is closed at its third drop, and polling finishes the job.
//
// A small server of its own (the demo server's "die" fault has no way back):
// the package's own files (pkg/, unbundled, as the manual's import map), a
// record route, and an event stream route that cuts its connections as the
// test says. Needs pkg/ (npm run build).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { assertNoPageErrors, launchChromium, openPage, sleep, until } from "./support.mjs";

const PKG = fileURLToPath(new URL("../pkg/", import.meta.url));
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };

const PAGE = `<!doctype html><meta charset="utf-8"><title>stream</title>
<script type="importmap">{ "imports": { "smart-polling": "/pkg/index.js" } }</script>
<script type="module">
import init, { PollingManager } from "smart-polling";
await init();
window.runJob = (id) => new Promise((resolve) => {
  const seen = { channels: [], updates: 0 };
  const m = new PollingManager({
    fileUrl: "/api/file/{id}", eventsUrl: "/api/events/{id}", shareAcrossTabs: false,
    intervals: [300], jitter: 0, sseConnectTimeout: 3000, streamPollInterval: 0,
  });
  m.startPolling(id, {
    onProgress: (p) => { if (seen.channels.at(-1) !== p.channel) seen.channels.push(p.channel); },
    onUpdate: () => { seen.updates += 1; },
    onComplete: (r) => resolve({ ...seen, url: r.url }),
    onError: (e) => resolve({ ...seen, error: e.kind }),
  });
});
window.ready = true;
</script>`;

/** Per job id: how its stream behaves, what the server has seen. */
const jobs = new Map();
const job = (id) => {
  if (!jobs.has(id)) jobs.set(id, { streams: 0, records: 0, open: new Set(), done: false, cut: () => 0 });
  return jobs.get(id);
};

let server;
let base;
let browser;

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    let m;
    if (url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end(PAGE);
    }
    if ((m = /^\/pkg\/([\w.-]+)$/.exec(url.pathname))) {
      try {
        const body = readFileSync(path.join(PKG, m[1]));
        res.writeHead(200, { "content-type": TYPES[path.extname(m[1])] ?? "application/octet-stream" });
        return res.end(body);
      } catch {
        res.writeHead(404);
        return res.end();
      }
    }
    if ((m = /^\/api\/file\/([\w-]+)$/.exec(url.pathname))) {
      const j = job(m[1]);
      j.records += 1;
      res.writeHead(200, { "content-type": "application/json" });
      const done = j.done ? `"https://cdn.example/${m[1]}.png"` : "null";
      return res.end(`{"id":"${m[1]}","url":${done},"tasks":[{"status":"${j.done ? "completed" : "processing"}"}]}`);
    }
    if ((m = /^\/api\/events\/([\w-]+)$/.exec(url.pathname))) {
      const j = job(m[1]);
      j.streams += 1;
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      // The browser reconnects after `retry:` ms (its own default is 3 s).
      res.write("retry: 200\n\n");
      j.open.add(res);
      res.on("close", () => j.open.delete(res));
      const cut = j.cut(j.streams);
      if (cut > 0) setTimeout(() => res.destroy(), cut);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const j of jobs.values()) for (const res of j.open) res.destroy();
  await new Promise((resolve) => server.close(resolve));
  assertNoPageErrors();
});

async function page() {
  const p = await openPage(browser, base);
  if (process.env.STREAM_DEBUG) {
    p.on("console", (m) => console.log("console:", m.text()));
    p.on("request", (r) => console.log("request:", r.url()));
    p.on("requestfailed", (r) => console.log("failed:", r.url(), r.failure()?.errorText));
  }
  await p.waitForFunction(() => window.ready === true);
  return p;
}

test("a stream whose connection drops is reconnected by the browser, and its result ends the job", async () => {
  const j = job("drop1");
  // The first connection is cut after 1.5 s of quiet; the second stays.
  j.cut = (n) => (n === 1 ? 1500 : 0);
  const p = await page();
  const result = p.evaluate(() => window.runJob("drop1"));
  await until(() => j.streams === 2 && j.open.size === 1, { timeout: 10000, what: "the browser's reconnection" });
  // One catch-up request at the open, one at the drop, one at the reopen
  // (and a poll every 300 ms while the stream is away, about 200 ms here);
  // then none while it is open (no safety poll here).
  await until(() => j.records >= 3, { timeout: 5000, what: "the reopen's catch-up request" });
  await sleep(300);
  const reopened = j.records;
  assert.ok(reopened <= 5, `record requests by the reopen: ${reopened}`);
  await sleep(1000);
  assert.equal(j.records, reopened, "no polling while the stream is open again");
  j.done = true;
  for (const res of j.open) {
    res.write(`data: ${JSON.stringify({ type: "render_result", object: { url: "https://cdn.example/drop1.png" } })}\n\n`);
  }
  const seen = await result;
  assert.equal(seen.url, "https://cdn.example/drop1.png");
  assert.equal(seen.error, undefined);
  assert.deepEqual(seen.channels, ["sse", "polling", "sse"], "polling while the stream was away");
  assert.equal(j.streams, 2, "the browser's reconnection, no new stream");
  await until(() => j.open.size === 0, { timeout: 5000, what: "the stream closed at the end" });
  await p.close();
});

test("a stream that drops as soon as it opens is closed at its third drop, and polling ends the job", async () => {
  const j = job("flap1");
  j.cut = () => 100;
  const p = await page();
  const result = p.evaluate(() => window.runJob("flap1"));
  await until(() => j.streams === 3, { timeout: 10000, what: "three connections" });
  // Closed: no fourth connection after the browser's 200 ms.
  await sleep(1000);
  assert.equal(j.streams, 3, "no reconnection after the third drop");
  j.done = true;
  const seen = await result;
  assert.equal(seen.url, "https://cdn.example/flap1.png");
  assert.equal(seen.channels.at(-1), "polling");
  await p.close();
});
