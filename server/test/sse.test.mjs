// The event stream: progress, task_status, file and render_result, in order.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, generate, readSse, hasType, types, until, waitDone } from "../test-support.mjs";

let api;
before(async () => {
  api = await startServer({ speed: 50, pingInterval: 40 });
});
after(() => api.close());

test("image stream: ok comment, rising progress, then task_status, file, render_result; stays open", async () => {
  // 3 s: the stream connects early in the job (its progress marks still to
  // come), however slow the machine.
  const { fileId } = await generate(api, "image", { prompt: "stream me", duration: 150 });
  let sawResultAt = 0;
  const sse = await readSse(`${api.url}/api/events/file.${fileId}`, {
    until: (o) => {
      if (!sawResultAt && hasType("render_result")(o)) sawResultAt = Date.now();
      return sawResultAt && Date.now() - sawResultAt > 150; // keep reading a little after the result
    },
  });
  assert.equal(sse.status, 200);
  assert.match(sse.headers.get("content-type"), /^text\/event-stream/);
  assert.match(sse.headers.get("cache-control"), /no-cache/);
  assert.equal(sse.headers.get("connection"), "keep-alive");
  assert.ok(sse.first.startsWith(": ok\n\n"), "opens with a comment");
  assert.equal(sse.ended, false, "the server keeps the stream open");
  assert.equal(sse.error, null);
  assert.ok(sse.comments.includes("ping"), "pings");

  for (const m of sse.messages) {
    assert.ok(m.json && typeof m.json.type === "string" && typeof m.json.object === "object", m.data);
  }
  const progress = sse.messages.filter((m) => m.json.type === "render_progress").map((m) => m.json.object.progress);
  assert.ok(progress.length >= 8, `about every 10 %: ${progress}`);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i] > progress[i - 1], `rising: ${progress}`);
  assert.ok(progress.every((p) => p >= 0 && p <= 100));
  assert.ok(sse.messages.every((m) => m.json.type !== "render_progress" || typeof m.json.object.message === "string"));

  const t = types(sse);
  const lastProgress = t.lastIndexOf("render_progress");
  const status = t.lastIndexOf("task_status");
  const file = t.indexOf("file");
  const result = t.indexOf("render_result");
  assert.ok(lastProgress < status && status < file && file < result, t.join(","));
  assert.equal(sse.messages[status].json.object.status.toUpperCase(), "COMPLETED");
  const record = sse.messages[file].json.object;
  assert.equal(record.id, fileId);
  assert.equal(record.tasks[0].status, "completed");
  const r = sse.messages[result].json.object;
  assert.equal(r.url, `/media/${fileId}.png`);
  assert.equal(r.file_url, r.url);
  assert.equal(record.url, r.url);
  assert.equal(t.filter((x) => x === "render_result").length, 1);

  // the client closed: the server cleans up the stream's timers
  await until(() => api.state.openStreams === 0);
});

test("video stream: upper-case task statuses", async () => {
  const { fileId } = await generate(api, "video", { duration: 100 }); // 2 s: connected while it runs
  const sse = await readSse(`${api.url}/api/events/file.${fileId}`, { until: hasType("render_result") });
  const statuses = sse.messages.filter((m) => m.json.type === "task_status").map((m) => m.json.object.status);
  assert.deepEqual(statuses, ["IN_PROGRESS", "COMPLETED"]);
  const file = sse.messages.find((m) => m.json.type === "file").json.object;
  assert.equal(file.tasks[0].status, "COMPLETED");
  assert.equal(file.url, `/media/${fileId}.webm`);
});

test("connecting after completion delivers the outcome at once", async () => {
  const { fileId } = await generate(api, "image", { duration: 1 });
  await waitDone(api, fileId);
  const t0 = Date.now();
  const sse = await readSse(`${api.url}/api/events/file.${fileId}`, { until: hasType("render_result") });
  // At once, not after a progress schedule or a ping: loose above.
  assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
  assert.deepEqual(types(sse).slice(-3), ["task_status", "file", "render_result"]);
});

test("a failed job streams task_status ERROR and the file, no result", async () => {
  const { fileId } = await generate(api, "video", { duration: 100, faults: { fail: true } }); // 2 s: connected while it runs
  const sse = await readSse(`${api.url}/api/events/file.${fileId}`, { until: hasType("file"), timeout: 10000 });
  const t = types(sse);
  assert.ok(!t.includes("render_result"));
  const status = sse.messages.filter((m) => m.json.type === "task_status").map((m) => m.json.object.status);
  assert.deepEqual(status, ["IN_PROGRESS", "ERROR"]);
  const file = sse.messages.find((m) => m.json.type === "file").json.object;
  assert.equal(file.url, null);
  assert.equal(file.tasks[0].status, "ERROR");
});

test("many clients on one job, closing early, leave nothing running", async () => {
  const { fileId } = await generate(api, "image", { duration: 150 }); // 3 s: connected while it runs
  const reads = [];
  for (let i = 0; i < 5; i++) {
    reads.push(readSse(`${api.url}/api/events/file.${fileId}`, { until: (o) => o.messages.length >= 2 }));
  }
  const all = await Promise.all(reads);
  for (const s of all) assert.equal(s.messages[0].json.type, "task_status");
  await until(() => api.state.openStreams === 0);
});

test("close() ends open streams promptly", async () => {
  const s = await startServer();
  const { fileId } = await generate(s, "video", { duration: 1000 });
  const reading = readSse(`${s.url}/api/events/file.${fileId}`, { timeout: 5000 });
  await until(() => s.state.openStreams === 1);
  const t0 = Date.now();
  await s.close();
  const sse = await reading;
  assert.ok(Date.now() - t0 < 3000, `closed after ${Date.now() - t0} ms`);
  assert.ok(sse.ended || sse.error, "the client saw the stream end");
  assert.equal(sse.timedOut, false);
});
