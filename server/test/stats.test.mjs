// Request counting: total, per job, per status, timeline.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, getJson, sendJson, generate, readSse } from "../test-support.mjs";

let api;
before(async () => {
  api = await startServer({ speed: 50 });
});
after(() => api.close());

const stats = async () => (await getJson(`${api.url}/api/stats`)).body;

test("counts requests per job and per status", async () => {
  const { fileId, projectId } = await generate(api, "image", { duration: 10 });
  const other = await generate(api, "video", { duration: 10 });
  assert.deepEqual((await sendJson(`${api.url}/api/stats/reset`, "POST", {})).body, { ok: true });
  const zero = await stats();
  assert.equal(zero.total, 0);
  assert.deepEqual(zero.byJob, {});
  assert.deepEqual(zero.byStatus, {});

  for (let i = 0; i < 3; i++) await getJson(`${api.url}/api/file/${fileId}`);
  for (let i = 0; i < 2; i++) await getJson(`${api.url}/api/project/${projectId}`);
  await readSse(`${api.url}/api/events/file.${fileId}`, { until: (o) => o.messages.length > 0 });
  await getJson(`${api.url}/api/file/${other.fileId}`);
  await getJson(`${api.url}/api/file/ghost`);
  await getJson(`${api.url}/api/health`);
  await sendJson(`${api.url}/api/faults`, "PUT", { rateLimit: {} });
  await getJson(`${api.url}/api/project/${other.projectId}`);
  await sendJson(`${api.url}/api/faults`, "DELETE");

  const s = await stats();
  assert.deepEqual(s.byJob[fileId], { file: 3, project: 2, events: 1, total: 6 });
  assert.deepEqual(s.byJob[other.fileId], { file: 1, project: 1, events: 0, total: 2 }, "project requests count for their file");
  assert.deepEqual(s.byJob.ghost, { file: 1, project: 0, events: 0, total: 1 });
  assert.equal(s.total, 12, "every request except GET /api/stats");
  assert.deepEqual(s.byStatus, { 200: 10, 404: 1, 429: 1 });
  assert.ok(Array.isArray(s.timeline) && s.timeline.length >= 1);
  const [ms, total] = s.timeline.at(-1);
  assert.equal(total, 12);
  assert.ok(ms >= 0 && ms < 60000);
  for (let i = 1; i < s.timeline.length; i++) {
    assert.ok(Math.floor(s.timeline[i][0] / 1000) > Math.floor(s.timeline[i - 1][0] / 1000), "one point per second");
  }
  // looking does not count
  assert.equal((await stats()).total, 12);
});

test("reset clears the counters, not the jobs", async () => {
  const { fileId } = await generate(api, "image");
  await getJson(`${api.url}/api/file/${fileId}`);
  assert.ok((await stats()).total > 0);
  await sendJson(`${api.url}/api/stats/reset`, "POST", {});
  const s = await stats();
  assert.equal(s.total, 0);
  assert.deepEqual(s.timeline, []);
  assert.equal((await getJson(`${api.url}/api/file/${fileId}`)).status, 200);
  assert.ok((await getJson(`${api.url}/api/jobs`)).body.some((j) => j.fileId === fileId));
});
