// Herd mode (POST /api/storm), per-100-ms request counts, 429s per job, and
// the extra static folders (mounts) used by the browser benchmark.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer, getJson, sendJson, generate, readSse, until } from "../test-support.mjs";

let api;
let dir;
before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "storm-test-"));
  writeFileSync(path.join(dir, "hello.js"), "export const hello = 1;\n");
  api = await startServer({ speed: 1, mounts: { "/mounted/": dir } });
});
after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

const stats = async (q = "") => (await getJson(`${api.url}/api/stats${q}`)).body;

test("a storm answers every record and events request with 429 and Retry-After while it lasts, then ends on its own", async () => {
  const a = await generate(api, "image", { duration: 60 });
  const b = await generate(api, "video", { duration: 60, faults: {} });
  await sendJson(`${api.url}/api/stats/reset`, "POST", {});

  // A storm far longer than the requests below take, however slow the machine.
  const started = await sendJson(`${api.url}/api/storm`, "POST", { ms: 60000, retryAfter: 2 });
  assert.equal(started.status, 200);
  assert.equal(started.body.storm.retryAfter, 2);
  assert.ok(started.body.storm.until > Date.now());
  assert.ok((await getJson(`${api.url}/api/storm`)).body.storm);

  for (const url of [`/api/file/${a.fileId}`, `/api/project/${a.projectId}`, `/api/file/${b.fileId}`, `/api/file/ghost`]) {
    const r = await getJson(api.url + url);
    assert.equal(r.status, 429, url);
    assert.equal(r.headers.get("retry-after"), "2", url);
  }
  const sse = await readSse(`${api.url}/api/events/file.${a.fileId}`, { timeout: 10000 });
  assert.equal(sse.status, 429);
  assert.equal(sse.headers.get("retry-after"), "2");
  // the rest of the API is not stormed
  assert.equal((await getJson(`${api.url}/api/health`)).status, 200);
  assert.equal((await getJson(`${api.url}/api/jobs`)).status, 200);

  const s = await stats("?buckets=1");
  assert.deepEqual(s.rateLimitedByJob, { [a.fileId]: 3, [b.fileId]: 1, ghost: 1 }, "project 429s count for their file");
  assert.equal(s.byStatus["429"], 5);
  assert.equal(s.bucketMs, 100);
  assert.equal(s.buckets.reduce((x, y) => x + y, 0), s.total, "every counted request is in a bucket");
  assert.equal(s.buckets429.reduce((x, y) => x + y, 0), 5);

  // A short storm (it replaces the long one) ends by itself when its time is up.
  const short = (await sendJson(`${api.url}/api/storm`, "POST", { ms: 300, retryAfter: 2 })).body.storm;
  const ended = await until(
    async () => (await getJson(`${api.url}/api/file/${a.fileId}`)).status === 200 && Date.now(),
    { timeout: 10000, every: 20, what: "the storm's end" },
  );
  assert.ok(ended >= short.until, `answered ${short.until - ended} ms before the storm's end`);
  assert.equal((await getJson(`${api.url}/api/storm`)).body.storm, null);
  const after = await stats("?buckets=1");
  // The buckets reach the request after the storm (100 ms each since the reset).
  assert.ok(after.buckets.length > Math.floor((short.until - after.startedAt) / after.bucketMs), "the buckets span the storm");
  assert.equal(after.buckets.reduce((x, y) => x + y, 0), after.total);
});

test("DELETE ends a storm early; bad bodies are a 400", async () => {
  const { fileId } = await generate(api, "image", { duration: 60 });
  await sendJson(`${api.url}/api/storm`, "POST", {}); // defaults: 3 s, Retry-After 2
  assert.equal((await getJson(`${api.url}/api/file/${fileId}`)).status, 429);
  assert.deepEqual((await sendJson(`${api.url}/api/storm`, "DELETE")).body, { storm: null });
  assert.equal((await getJson(`${api.url}/api/file/${fileId}`)).status, 200);
  for (const body of [{ ms: -1 }, { ms: "3000" }, { retryAfter: 1.5 }, { retryAfter: -2 }]) {
    assert.equal((await sendJson(`${api.url}/api/storm`, "POST", body)).status, 400, JSON.stringify(body));
  }
  assert.equal((await getJson(`${api.url}/api/storm`, { method: "PUT" })).status, 405);
});

test("rateLimit faults count in rateLimitedByJob too; buckets only when asked", async () => {
  const { fileId } = await generate(api, "image", { duration: 60, faults: { rateLimit: { seconds: 1 } } });
  await sendJson(`${api.url}/api/stats/reset`, "POST", {});
  await getJson(`${api.url}/api/file/${fileId}`);
  await getJson(`${api.url}/api/file/${fileId}`);
  const s = await stats();
  assert.deepEqual(s.rateLimitedByJob, { [fileId]: 2 });
  assert.equal(s.buckets, undefined);
});

/** A raw GET, so that `..` reaches the server as sent. */
function rawGet(p) {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port: api.port, path: p }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, type: res.headers["content-type"], body }));
    }).on("error", reject);
  });
}

test("mounts serve their folder's files and nothing outside it", async () => {
  const ok = await rawGet("/mounted/hello.js");
  assert.equal(ok.status, 200);
  assert.match(ok.type, /^text\/javascript/);
  assert.equal(ok.body, "export const hello = 1;\n");
  assert.equal((await rawGet("/mounted/missing.js")).status, 404);
  assert.equal((await rawGet("/mounted/")).status, 404, "no index fallback");
  assert.doesNotMatch((await rawGet("/mounted/../index.mjs")).body, /createApiServer/, "the URL parser resolves `..` first");
  assert.equal((await rawGet("/mounted/..%2f..%2fetc%2fpasswd")).status, 404, "an encoded `..` stays inside");
  assert.equal((await rawGet("/mounted/%ZZ")).status, 400);
});

test("serverError bursts: errors only inside the windows of real time", async () => {
  // windows of 300 ms every 600 ms: the status follows the clock. Requests
  // wholly inside a window, or wholly outside, until there are three of each.
  const { fileId } = await generate(api, "image", {
    duration: 60,
    faults: { serverError: { status: 503, burstEvery: 600, burstFor: 300 } },
  });
  const seen = { in: [], out: [] };
  await until(
    async () => {
      const before = Date.now();
      const r = await getJson(`${api.url}/api/file/${fileId}`);
      const after = Date.now();
      const [from, to] = [before % 600, after % 600];
      if (after - before < 290 && from < 290 && to < 290 && to >= from) seen.in.push(r.status);
      if (after - before < 290 && from > 310 && to > 310 && to >= from) seen.out.push(r.status);
      return seen.in.length >= 3 && seen.out.length >= 3;
    },
    { timeout: 30000, every: 15, what: "requests inside and outside the windows" },
  );
  assert.deepEqual([...new Set(seen.in)], [503]);
  assert.deepEqual([...new Set(seen.out)], [200]);
  for (const bad of [{ burstEvery: 100 }, { burstEvery: 100, burstFor: 200 }, { burstEvery: 0, burstFor: 0 }, { burstEvery: "1", burstFor: 1 }]) {
    const r = await sendJson(`${api.url}/api/generate/image`, "POST", { prompt: "x", faults: { serverError: bad } });
    assert.equal(r.status, 400, JSON.stringify(bad));
  }
});
