// Fault injection: global (PUT /api/faults) and per job.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startServer, getJson, sendJson, generate, readSse, waitDone, hasType, until } from "../test-support.mjs";

let api;
before(async () => {
  api = await startServer({ speed: 50 });
});
after(() => api.close());
beforeEach(async () => {
  await sendJson(`${api.url}/api/faults`, "DELETE");
});

const setFaults = (f) => sendJson(`${api.url}/api/faults`, "PUT", f);
const file = (id, init) => getJson(`${api.url}/api/file/${id}`, init);
const project = (id, init) => getJson(`${api.url}/api/project/${id}`, init);

/** A record the client can read: an object, url null or a string, tasks an array of objects. */
function wellShaped(body) {
  return (
    body !== null &&
    typeof body === "object" &&
    !Array.isArray(body) &&
    (body.url === null || typeof body.url === "string") &&
    Array.isArray(body.tasks) &&
    body.tasks.every((t) => t && typeof t === "object" && typeof t.status === "string")
  );
}

test("PUT / GET / DELETE /api/faults, with defaults filled in and validation", async () => {
  assert.deepEqual((await getJson(`${api.url}/api/faults`)).body, {});
  const put = await setFaults({ rateLimit: { probability: 0.5 }, serverError: {}, stream: "die", fail: false, hang: 0 });
  assert.equal(put.status, 200);
  const expected = {
    rateLimit: { probability: 0.5, retryAfter: "seconds", seconds: 2 },
    serverError: { probability: 1, status: 503 },
    stream: "die",
  };
  assert.deepEqual(put.body, expected);
  assert.deepEqual((await getJson(`${api.url}/api/faults`)).body, expected);
  for (const bad of [
    { rateLimit: { retryAfter: "later" } },
    { serverError: { status: 404 } },
    { hang: 1.5 },
    { stream: "sometimes" },
    { forbidden: "yes" },
    { slow: -1 },
    { typo: true },
    [],
  ]) {
    const r = await setFaults(bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal(typeof r.body.error, "string");
  }
  assert.equal((await setFaults("{oops")).status, 400);
  assert.deepEqual((await getJson(`${api.url}/api/faults`)).body, expected, "a bad PUT changes nothing");
  assert.deepEqual((await sendJson(`${api.url}/api/faults`, "DELETE")).body, {});
  assert.deepEqual((await getJson(`${api.url}/api/faults`)).body, {});
});

test("429 with Retry-After in seconds", async () => {
  const { fileId, projectId } = await generate(api, "image");
  await setFaults({ rateLimit: { probability: 1, retryAfter: "seconds", seconds: 3 } });
  for (const r of [await file(fileId), await project(projectId)]) {
    assert.equal(r.status, 429);
    assert.equal(r.headers.get("retry-after"), "3");
  }
});

test("429 with Retry-After as an HTTP date, not scaled by speed", async () => {
  const { fileId } = await generate(api, "image");
  await setFaults({ rateLimit: { retryAfter: "date", seconds: 4 } });
  const before = Date.now();
  const r = await file(fileId);
  const after = Date.now();
  assert.equal(r.status, 429);
  const h = r.headers.get("retry-after");
  assert.match(h, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  // At least the 4 s from the answer, rounded up to a whole second; however
  // long the answer took, within the request's own time.
  const date = Date.parse(h);
  assert.ok(date >= before + 4000 && date < after + 5000, `${date - before} ms after the request`);
});

test("429 without a Retry-After header", async () => {
  const { fileId } = await generate(api, "image");
  await setFaults({ rateLimit: { retryAfter: "none" } });
  const r = await file(fileId);
  assert.equal(r.status, 429);
  assert.equal(r.headers.get("retry-after"), null);
});

test("probabilities use the seeded RNG: some requests fail, some pass", async () => {
  const { fileId } = await generate(api, "image");
  await setFaults({ rateLimit: { probability: 0.5 } });
  const statuses = [];
  for (let i = 0; i < 40; i++) statuses.push((await file(fileId)).status);
  const limited = statuses.filter((s) => s === 429).length;
  assert.ok(limited > 5 && limited < 35, `${limited} of 40`);
  assert.ok(statuses.every((s) => s === 429 || s === 200));
});

test("5xx: 500 and 503 as JSON, 502 as an HTML page", async () => {
  const { fileId, projectId } = await generate(api, "image");
  for (const status of [500, 503]) {
    await setFaults({ serverError: { probability: 1, status } });
    const r = await file(fileId);
    assert.equal(r.status, status);
    assert.equal((await project(projectId)).status, status);
  }
  await setFaults({ serverError: { status: 502 } });
  const r = await file(fileId);
  assert.equal(r.status, 502);
  assert.match(r.text, /Bad Gateway/);
});

test("notFoundFor: 404 until that long after creation, then the record", async () => {
  const wait = 1500;
  await setFaults({ notFoundFor: wait });
  const created = Date.now(); // the job is created after this, during the POST
  const { fileId, projectId } = await generate(api, "image", { duration: 1 });
  const early = await file(fileId);
  assert.equal(early.status, 404);
  assert.deepEqual(early.body, { error: "not found" });
  assert.equal((await project(projectId)).status, 404);
  // Ask until the record comes (every 50 ms, for up to 10 s).
  const later = await until(async () => {
    const r = await file(fileId);
    return r.status === 404 ? null : { ...r, at: Date.now() };
  }, { timeout: 10000, every: 50, what: "the record" });
  assert.equal(later.status, 200);
  assert.ok(later.at >= created + wait, `the record ${later.at - created} ms after the POST`);
  assert.equal(later.body.tasks[0].status, "completed");
});

test("forbidden: 403 on file, project and events", async () => {
  const { fileId, projectId } = await generate(api, "image");
  await setFaults({ forbidden: true });
  assert.equal((await file(fileId)).status, 403);
  assert.equal((await project(projectId)).status, 403);
  const sse = await readSse(`${api.url}/api/events/file.${fileId}`);
  assert.equal(sse.status, 403);
});

test("slow: every file/project response is delayed", async () => {
  const { fileId, projectId } = await generate(api, "image");
  await setFaults({ slow: 250 });
  let t0 = Date.now();
  assert.equal((await file(fileId)).status, 200);
  assert.ok(Date.now() - t0 >= 240);
  t0 = Date.now();
  assert.equal((await project(projectId)).status, 200);
  assert.ok(Date.now() - t0 >= 240);
  await setFaults({ slow: 250, rateLimit: {} }); // error answers are slow too
  t0 = Date.now();
  assert.equal((await file(fileId)).status, 429);
  assert.ok(Date.now() - t0 >= 240);
});

test("hang: no answer until the client aborts; the server stays healthy", async () => {
  const { fileId } = await generate(api, "image");
  await setFaults({ hang: 1 });
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 300);
  await assert.rejects(fetch(`${api.url}/api/file/${fileId}`, { signal: ac.signal }), { name: "AbortError" });
  assert.ok(Date.now() - t0 >= 290);
  assert.deepEqual((await getJson(`${api.url}/api/health`)).body, { ok: true });
  await setFaults({});
  assert.equal((await file(fileId)).status, 200);
});

test("close() ends hanging requests promptly", async () => {
  const s = await startServer({ faults: { hang: 1 } });
  const { fileId } = await generate(s, "image");
  const pending = fetch(`${s.url}/api/file/${fileId}`).then(
    () => "answered",
    () => "failed",
  );
  // The request has reached the server (counted), and hangs there.
  await until(async () => (await getJson(`${s.url}/api/stats`)).body.byJob[fileId]?.file === 1, { what: "the request" });
  const t0 = Date.now();
  await s.close();
  assert.equal(await pending, "failed");
  assert.ok(Date.now() - t0 < 3000, `closed after ${Date.now() - t0} ms`);
});

test("malformed: 200 with a body that is not JSON or not a record", async () => {
  const { fileId, projectId } = await generate(api, "image");
  await setFaults({ malformed: 1 });
  const kinds = new Set();
  for (let i = 0; i < 16; i++) {
    const r = await file(fileId);
    assert.equal(r.status, 200);
    assert.ok(r.body === undefined || !wellShaped(r.body), r.text);
    kinds.add(r.body === undefined ? "not json" : "wrong shape");
  }
  assert.deepEqual([...kinds].sort(), ["not json", "wrong shape"]);
  assert.equal((await project(projectId)).status, 200);
});

test("stream off: 404 on events; records still work", async () => {
  const { fileId } = await generate(api, "image");
  await setFaults({ stream: "off" });
  const sse = await readSse(`${api.url}/api/events/file.${fileId}`);
  assert.equal(sse.status, 404);
  assert.equal((await file(fileId)).status, 200);
});

test("stream never: the connection is accepted but no headers come", async () => {
  const { fileId } = await generate(api, "image");
  await setFaults({ stream: "never" });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  await assert.rejects(fetch(`${api.url}/api/events/file.${fileId}`, { signal: ac.signal }), { name: "AbortError" });
});

test("stream die: one progress message, then the socket is destroyed", async () => {
  const { fileId } = await generate(api, "video", { duration: 50 });
  await setFaults({ stream: "die" });
  const sse = await readSse(`${api.url}/api/events/file.${fileId}`, { timeout: 10000 });
  assert.equal(sse.status, 200);
  assert.equal(sse.timedOut, false, "the stream ended by itself");
  assert.ok(sse.error || sse.ended);
  assert.equal(sse.messages.length, 1);
  assert.equal(sse.messages[0].json.type, "render_progress");
});

test("stream garbage: data lines that are not JSON messages", async () => {
  // 3 s: the stream connects while the job runs (its progress marks are
  // then still to come), however slow the machine.
  const { fileId } = await generate(api, "image", { duration: 150 });
  await setFaults({ stream: "garbage" });
  const sse = await readSse(`${api.url}/api/events/file.${fileId}`, { until: (o) => o.messages.length >= 5, timeout: 10000 });
  assert.equal(sse.status, 200);
  assert.ok(sse.messages.length >= 5, `${sse.messages.length} messages`);
  assert.ok(sse.messages.every((m) => m.json === undefined), sse.messages.map((m) => m.data).join(" | "));
  const done = await waitDone(api, fileId);
  assert.equal(done.tasks[0].status, "completed", "the job itself completes");
});

test("fail: the job ends in error, no url, empty project data", async () => {
  await setFaults({ fail: true });
  const img = await generate(api, "image", { duration: 1 });
  const vid = await generate(api, "video", { duration: 1 });
  await setFaults({});
  const i = await waitDone(api, img.fileId);
  assert.equal(i.tasks[0].status, "error");
  assert.equal(i.url, null);
  const v = await waitDone(api, vid.fileId);
  assert.equal(v.tasks[0].status, "ERROR");
  assert.equal(v.url, null);
  const p = (await project(vid.projectId)).body;
  assert.deepEqual(p.data, []);
  assert.equal(p.tasks[0].status, "ERROR");
  // decided at creation: clearing the global faults does not save it, setting them does not fail others
  const ok = await generate(api, "image", { duration: 1 });
  await setFaults({ fail: true });
  assert.equal((await waitDone(api, ok.fileId)).tasks[0].status, "completed");
});

test("per-job faults override the global ones", async () => {
  await setFaults({ forbidden: true, stream: "off" });
  const clean = await generate(api, "image", { duration: 5, faults: {} });
  const plain = await generate(api, "image", { duration: 5 });
  assert.equal((await file(clean.fileId)).status, 200);
  assert.equal((await project(clean.projectId)).status, 200);
  const sse = await readSse(`${api.url}/api/events/file.${clean.fileId}`, { until: hasType("render_result") });
  assert.equal(sse.status, 200);
  assert.ok(hasType("render_result")(sse));
  assert.equal((await file(plain.fileId)).status, 403);

  await setFaults({});
  const limited = await generate(api, "image", { faults: { rateLimit: { retryAfter: "seconds", seconds: 7 } } });
  const r = await file(limited.fileId);
  assert.equal(r.status, 429);
  assert.equal(r.headers.get("retry-after"), "7");
  assert.equal((await file(plain.fileId)).status, 200, "other jobs are unaffected");

  const failing = await generate(api, "video", { duration: 1, faults: { fail: true } });
  assert.equal((await waitDone(api, failing.fileId)).tasks[0].status, "ERROR");

  const jobs = (await getJson(`${api.url}/api/jobs`)).body;
  assert.deepEqual(jobs.find((j) => j.fileId === limited.fileId).faults, {
    rateLimit: { probability: 1, retryAfter: "seconds", seconds: 7 },
  });
  await until(() => api.state.openStreams === 0);
});
