// Proxy mode: records and events forwarded to an upstream with a bearer token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, getJson, sendJson, generate, readSse, hasType, until, waitDone, parsePng } from "../test-support.mjs";

let upstream;
let proxy;
const seen = []; // { url, authorization } as the upstream received them

before(async () => {
  upstream = await startServer({
    speed: 50,
    onRequest: (req) => seen.push({ url: req.url, authorization: req.headers.authorization }),
  });
  proxy = await startServer({ seed: "proxy", upstreamUrl: upstream.url + "/", upstreamToken: "s3cret" });
});
after(async () => {
  await proxy.close();
  await upstream.close();
});

test("file and project records come from the upstream, with the bearer token", async () => {
  const { fileId, projectId } = await generate(upstream, "image", { duration: 5 });
  seen.length = 0;
  const r = await getJson(`${proxy.url}/api/file/${fileId}?v=1`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /json/);
  assert.equal(r.body.id, fileId);
  assert.deepEqual(seen, [{ url: `/api/file/${fileId}`, authorization: "Bearer s3cret" }], "no query unless its key is allowed");
  const p = await getJson(`${proxy.url}/api/project/${projectId}`);
  assert.equal(p.body.id, projectId);
  assert.equal(seen[1].authorization, "Bearer s3cret");

  // the upstream's relative media url resolves through the proxy too
  const done = await waitDone(proxy, fileId);
  const img = await fetch(proxy.url + done.url);
  assert.equal(img.headers.get("content-type"), "image/png");
  assert.equal(parsePng(Buffer.from(await img.arrayBuffer())).width, 256);

  // counted on the proxy
  assert.ok((await getJson(`${proxy.url}/api/stats`)).body.byJob[fileId].file >= 1);
});

test("statuses and headers pass through (404, 429 + Retry-After)", async () => {
  const missing = await getJson(`${proxy.url}/api/file/nope`);
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { error: "not found" });
  const { fileId } = await generate(upstream, "image", { faults: { rateLimit: { seconds: 9 } } });
  const limited = await getJson(`${proxy.url}/api/file/${fileId}`);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "9");
});

test("the event stream is streamed through", async () => {
  const { fileId } = await generate(upstream, "video", { duration: 15 });
  seen.length = 0;
  const sse = await readSse(`${proxy.url}/api/events/file.${fileId}`, { until: hasType("render_result") });
  assert.equal(sse.status, 200);
  assert.match(sse.headers.get("content-type"), /^text\/event-stream/);
  assert.ok(sse.first.startsWith(": ok"));
  assert.ok(sse.messages.filter((m) => m.json.type === "render_progress").length >= 5);
  assert.ok(hasType("file")(sse));
  assert.equal(seen[0].url, `/api/events/file.${fileId}`);
  assert.equal(seen[0].authorization, "Bearer s3cret");
  // the client went away: so does the upstream stream
  await until(() => upstream.state.openStreams === 0);
});

test("everything else stays local", async () => {
  const local = await generate(proxy, "image", { duration: 1 });
  assert.ok((await getJson(`${proxy.url}/api/jobs`)).body.some((j) => j.fileId === local.fileId));
  assert.ok(!(await getJson(`${upstream.url}/api/jobs`)).body.some((j) => j.fileId === local.fileId));
  assert.equal((await getJson(`${proxy.url}/api/file/${local.fileId}`)).status, 404, "records are the upstream's");
  await sendJson(`${proxy.url}/api/faults`, "PUT", { forbidden: true });
  assert.deepEqual((await getJson(`${upstream.url}/api/faults`)).body, {});
  await sendJson(`${proxy.url}/api/faults`, "DELETE");
});

test("no token, no Authorization header; a dead upstream is a 502", async (t) => {
  const open = await startServer({ upstreamUrl: upstream.url });
  t.after(() => open.close());
  const { fileId } = await generate(upstream, "image");
  seen.length = 0;
  assert.equal((await getJson(`${open.url}/api/file/${fileId}`)).status, 200);
  assert.equal(seen[0].authorization, undefined);

  const gone = await startServer();
  const deadUrl = gone.url;
  await gone.close();
  const dead = await startServer({ upstreamUrl: deadUrl, upstreamToken: "x" });
  t.after(() => dead.close());
  const r = await getJson(`${dead.url}/api/file/${fileId}`);
  assert.equal(r.status, 502);
  assert.equal(r.body.error, "bad gateway");
});
