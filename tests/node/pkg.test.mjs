// The shipped package, exactly as `npm run build` leaves it in pkg/ (short
// import/export names, minified glue), loaded in Node and run against the
// demo server: polling only, since Node has no EventSource. The browser tests
// cover behaviour in depth; these prove the size pass kept the module whole.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";

import { initSync, PollingManager } from "../../pkg/index.js";
import { sleep, until } from "./support.mjs";
import { generate, getJson, sendJson, startServer } from "../../server/test-support.mjs";

let api;
before(async () => {
  initSync({ module: readFileSync(new URL("../../pkg/smart_polling_bg.wasm", import.meta.url)) });
  api = await startServer();
});
after(() => api.close());

const options = (extra = {}) => ({
  fileUrl: `${api.url}/api/file/{id}`,
  eventsUrl: `${api.url}/api/events/file.{id}`,
  intervals: [40],
  initialDelay: 20,
  maxDelay: 200,
  ...extra,
});

/** A manager freed when the test ends, passed or failed (a live job would
 * keep Node running). */
function manager(t, extra) {
  const m = new PollingManager(options(extra));
  t.after(() => m.free());
  return m;
}

/** Starts a job and resolves with every callback it made, once it ends. */
function watch(m, id, overrides) {
  return new Promise((resolve) => {
    const seen = { updates: 0, progress: [], retries: [], complete: [], error: [] };
    const end = () => setTimeout(() => resolve(seen), 30); // catch a late second call
    m.startPolling(
      id,
      {
        onUpdate: () => seen.updates++,
        onProgress: (p) => seen.progress.push(p),
        onRetry: (e, ms) => seen.retries.push([e.kind, ms]),
        onComplete: (r) => (seen.complete.push(r), (seen.completedAt = performance.now()), end()),
        onError: (e) => (seen.error.push(e), end()),
      },
      overrides,
    );
  });
}

const requests = async (id) => (await getJson(`${api.url}/api/stats`)).body.byJob[id]?.file ?? 0;

test("an image completes by polling when there is no EventSource", async (t) => {
  assert.equal(typeof globalThis.EventSource, "undefined", "this test needs a Node without EventSource");
  const { fileId } = await generate(api, "image");
  const m = manager(t);
  const seen = await watch(m, fileId);
  assert.equal(seen.error.length, 0);
  assert.equal(seen.complete.length, 1);
  assert.equal(seen.complete[0].id, fileId);
  assert.match(seen.complete[0].url, /^\/media\/img_\w+\.png$/);
  assert.ok(seen.updates >= 1);
  assert.ok(seen.progress.every((p) => p.fileId === fileId));
  assert.equal(seen.progress.at(-1).channel, "polling", "fell back from the stream");
  assert.equal(m.activeCount, 0);
  const metrics = m.metrics();
  assert.equal(metrics.successRate, 1);
  assert.equal(metrics.totalRequests, await requests(fileId));
});

test("a 429 with Retry-After is waited out, then the job completes", async (t) => {
  const { fileId } = await generate(api, "image");
  await sendJson(`${api.url}/api/faults`, "PUT", { rateLimit: { retryAfter: "seconds", seconds: 1 } });
  t.after(() => sendJson(`${api.url}/api/faults`, "DELETE", {}));
  const m = manager(t);
  const started = performance.now();
  const done = watch(m, fileId);
  // The fault is cleared once the server has answered the job a 429 (not
  // after a fixed time, which a slow machine could spend before the job's
  // first request).
  const limited = async () => (await getJson(`${api.url}/api/stats`)).body.rateLimitedByJob?.[fileId] >= 1;
  await until(limited, { what: "the server's 429" });
  await sendJson(`${api.url}/api/faults`, "DELETE", {});
  const seen = await done;
  assert.equal(seen.complete.length, 1);
  assert.deepEqual(seen.retries[0], ["rate_limited", 1000]);
  // The 429 came after `started`: the job's next request a second after it.
  assert.ok(seen.completedAt - started >= 1000, "waited the server's second");
});

test("a 403 ends the job at once with a terminal error", async (t) => {
  const { fileId } = await generate(api, "image");
  await sendJson(`${api.url}/api/faults`, "PUT", { forbidden: true });
  t.after(() => sendJson(`${api.url}/api/faults`, "DELETE", {}));
  const m = manager(t);
  const seen = await watch(m, fileId);
  assert.equal(seen.complete.length, 0);
  assert.equal(seen.error.length, 1);
  assert.deepEqual(
    { kind: seen.error[0].kind, status: seen.error[0].status, retryable: seen.error[0].retryable },
    { kind: "forbidden", status: 403, retryable: false },
  );
  assert.equal(await requests(fileId), 1);
});

test("invalid options throw a RangeError naming the option", () => {
  const bad = (extra) => () => new PollingManager(options(extra));
  assert.throws(bad({ timeout: -1 }), (e) => e instanceof RangeError && e.message.startsWith("timeout"));
  assert.throws(bad({ fileUrl: "/api/file/" }), (e) => e instanceof RangeError && /fileUrl/.test(e.message));
});

test("an invalid id is an error without any request", async (t) => {
  const before = (await getJson(`${api.url}/api/stats`)).body.total;
  const m = manager(t);
  const seen = await watch(m, "../etc");
  assert.equal(seen.error[0].kind, "invalid_id");
  assert.equal((await getJson(`${api.url}/api/stats`)).body.total, before, "no request");
});

test("callbacks are called as methods of their object", async (t) => {
  const { fileId } = await generate(api, "image");
  const m = manager(t);
  class Card {
    updates = 0;
    done = null;
    onUpdate() {
      this.updates++;
    }
    onComplete(record) {
      this.done = record;
    }
  }
  const card = new Card();
  m.startPolling(fileId, card);
  await until(() => card.done);
  assert.equal(card.done.id, fileId);
  assert.ok(card.updates >= 1);
});

test("the Promise form resolves with the result, or as stopped", async (t) => {
  const m = manager(t);
  const { fileId } = await generate(api, "image");
  const result = await m.pollFileCompletion(fileId);
  assert.equal(result.success, true);
  assert.equal(result.method, "success");
  assert.equal(result.data.id, fileId);
  assert.equal(result.attempts, await requests(fileId));

  const other = await generate(api, "video");
  const pending = m.pollFileCompletion(other.fileId);
  await until(() => m.isPolling(other.fileId));
  assert.equal(m.stopPolling(other.fileId), true);
  const stopped = await pending;
  assert.equal(stopped.success, false);
  assert.equal(stopped.failure.kind, "stopped");
  assert.equal(stopped.error, "Polling was stopped");
});

test("stopPolling from inside a callback ends the job silently", async (t) => {
  const { fileId } = await generate(api, "image");
  const m = manager(t);
  let updates = 0;
  let after = 0;
  m.startPolling(fileId, {
    onUpdate: () => {
      updates++;
      assert.equal(m.stopPolling(fileId), true);
    },
    onProgress: () => updates && after++,
    onComplete: () => after++,
    onError: () => after++,
  });
  await until(() => updates === 1);
  await sleep(200); // a few polling intervals: nothing more may happen
  assert.equal(updates, 1);
  assert.equal(after, 0);
  assert.equal(m.isPolling(fileId), false);
  assert.equal(await requests(fileId), 1);
});
