// Herd mode (POST /api/storm), per-100-ms request counts, 429s per job, and
// the extra static folders (mounts) used by the browser benchmark.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer, getJson, sendJson, generate, readSse, sleep } from "../test-support.mjs";

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

test("a storm answers every record and events request with 429 and Retry-After, then ends", async () => {
  const a = await generate(api, "image", { duration: 60 });
  const b = await generate(api, "video", { duration: 60, faults: {} });
  await sendJson(`${api.url}/api/stats/reset`, "POST", {});

  const started = await sendJson(`${api.url}/api/storm`, "POST", { ms: 400, retryAfter: 2 });
  assert.equal(started.status, 200);
  assert.equal(started.body.storm.retryAfter, 2);
  assert.ok(started.body.storm.until > Date.now());
  assert.ok((await getJson(`${api.url}/api/storm`)).body.storm);

  for (const url of [`/api/file/${a.fileId}`, `/api/project/${a.projectId}`, `/api/file/${b.fileId}`, `/api/file/ghost`]) {
    const r = await getJson(api.url + url);
    assert.equal(r.status, 429, url);
    assert.equal(r.headers.get("retry-after"), "2", url);
  }
  const sse = await readSse(`${api.url}/api/events/file.${a.fileId}`, { timeout: 1000 });
  assert.equal(sse.status, 429);
  assert.equal(sse.headers.get("retry-after"), "2");
  // the rest of the API is not stormed
  assert.equal((await getJson(`${api.url}/api/health`)).status, 200);
  assert.equal((await getJson(`${api.url}/api/jobs`)).status, 200);

  await sleep(450);
  assert.equal((await getJson(`${api.url}/api/file/${a.fileId}`)).status, 200, "over after ms");
  assert.equal((await getJson(`${api.url}/api/storm`)).body.storm, null);

  const s = await stats("?buckets=1");
  assert.deepEqual(s.rateLimitedByJob, { [a.fileId]: 3, [b.fileId]: 1, ghost: 1 }, "project 429s count for their file");
  assert.equal(s.byStatus["429"], 5);
  assert.equal(s.bucketMs, 100);
  assert.equal(s.buckets.reduce((x, y) => x + y, 0), s.total, "every counted request is in a bucket");
  assert.equal(s.buckets429.reduce((x, y) => x + y, 0), 5);
  assert.ok(s.buckets.length >= 5, "the buckets span the 450 ms wait");
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
  // windows of 300 ms every 600 ms: sample across two periods, the status follows the clock
  const { fileId } = await generate(api, "image", {
    duration: 60,
    faults: { serverError: { status: 503, burstEvery: 600, burstFor: 300 } },
  });
  const seen = { in: new Set(), out: new Set() };
  const end = Date.now() + 1300;
  while (Date.now() < end) {
    const before = Date.now() % 600;
    const r = await getJson(`${api.url}/api/file/${fileId}`);
    const after = Date.now() % 600;
    if (before < 290 && after < 290 && after >= before) seen.in.add(r.status);
    if (before > 310 && after > 310 && after >= before) seen.out.add(r.status);
    await sleep(15);
  }
  assert.deepEqual([...seen.in], [503]);
  assert.deepEqual([...seen.out], [200]);
  for (const bad of [{ burstEvery: 100 }, { burstEvery: 100, burstFor: 200 }, { burstEvery: 0, burstFor: 0 }, { burstEvery: "1", burstFor: 1 }]) {
    const r = await sendJson(`${api.url}/api/generate/image`, "POST", { prompt: "x", faults: { serverError: bad } });
    assert.equal(r.status, 400, JSON.stringify(bad));
  }
});
