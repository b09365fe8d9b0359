// Issue 18, items 4 and 5: the Host allowlist (DNS rebinding), JSON-only
// state changes, per-id counters that cannot pollute prototypes or grow
// without limit, and a proxy that forwards only what it must.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startServer, getJson, sendJson } from "../test-support.mjs";
import { optionsFromEnv } from "../index.mjs";

/** One request with full control over the headers (fetch will not set Host). */
function raw(port, { method = "GET", path = "/", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

let api;
before(async () => {
  api = await startServer();
});
after(() => api.close());

const stats = async (server = api) => (await getJson(`${server.url}/api/stats`)).body;

// ---------- Host allowlist ----------

test("a rebinding Host is refused with 421 and a message naming ALLOWED_HOSTS; nothing is counted", async () => {
  await sendJson(`${api.url}/api/stats/reset`, "POST", {});
  for (const host of [`evil.example:${api.port}`, "evil.example", `localhost.evil.example:${api.port}`, `127.0.0.1.nip.io:${api.port}`]) {
    const r = await raw(api.port, { path: "/api/health", headers: { host } });
    assert.equal(r.status, 421, host);
    assert.match(r.headers["content-type"], /^text\/plain/);
    assert.match(r.text, /ALLOWED_HOSTS/);
  }
  const evil = await raw(api.port, { path: "/api/jobs", headers: { host: `evil.example:${api.port}` } });
  assert.match(evil.text, /Host "evil\.example:\d+"/, "says which name was refused");
  assert.equal((await stats()).total, 0, "refused requests are not counted");
});

test("a rebinding Host cannot change state either", async () => {
  const r = await raw(api.port, {
    method: "POST",
    path: "/api/storm",
    headers: { host: `evil.example:${api.port}`, "content-type": "application/json" },
    body: JSON.stringify({ ms: 60000 }),
  });
  assert.equal(r.status, 421);
  assert.equal((await getJson(`${api.url}/api/storm`)).body.storm, null);
});

test("the loopback names on the server's own port are served; another port is not", async () => {
  for (const host of [`127.0.0.1:${api.port}`, `localhost:${api.port}`, `LocalHost:${api.port}`, `[::1]:${api.port}`]) {
    const r = await raw(api.port, { path: "/api/health", headers: { host } });
    assert.equal(r.status, 200, host);
    assert.deepEqual(JSON.parse(r.text), { ok: true });
  }
  const other = api.port === 1 ? 2 : api.port - 1;
  assert.equal((await raw(api.port, { path: "/api/health", headers: { host: `localhost:${other}` } })).status, 421);
  assert.equal((await raw(api.port, { path: "/api/health", headers: { host: "localhost" } })).status, 421, "no port means 80");
  assert.equal((await raw(api.port, { path: "/api/health", headers: { host: "a b" } })).status, 421, "malformed");
  // what the tests' fetch sends
  assert.equal((await getJson(`${api.url}/api/health`)).status, 200);
  assert.equal((await getJson(`http://localhost:${api.port}/api/health`)).status, 200);
});

test("allowedHosts adds names: 'name' for any port, 'name:port' for that port only", async (t) => {
  const named = await startServer({ allowedHosts: ["Demo.Test", "lan.test:4321"] });
  t.after(() => named.close());
  const status = async (host) => (await raw(named.port, { path: "/api/health", headers: { host } })).status;
  assert.equal(await status(`demo.test:${named.port}`), 200);
  assert.equal(await status("demo.test"), 200);
  assert.equal(await status("lan.test:4321"), 200);
  assert.equal(await status(`lan.test:${named.port === 4321 ? 4322 : named.port}`), 421);
  assert.equal(await status(`evil.example:${named.port}`), 421);
  await assert.rejects(startServer({ allowedHosts: ["bad/host"] }), RangeError);
});

test("ALLOWED_HOSTS is read by optionsFromEnv (commas or spaces)", () => {
  assert.deepEqual(optionsFromEnv({ ALLOWED_HOSTS: "demo.test, LAN.test:8080  other.test" }).allowedHosts, [
    "demo.test",
    "lan.test:8080",
    "other.test",
  ]);
  assert.deepEqual(optionsFromEnv({}).allowedHosts, []);
});

// ---------- JSON-only state changes ----------

test("state changes without Content-Type: application/json are refused with 415, and change nothing", async () => {
  await sendJson(`${api.url}/api/faults`, "PUT", { slow: 5 });
  const { fileId } = (await sendJson(`${api.url}/api/generate/image`, "POST", { prompt: "before" })).body;
  await getJson(`${api.url}/api/file/${fileId}`);
  const before = await stats();
  assert.ok(before.total > 0);
  const jobs = (await getJson(`${api.url}/api/jobs`)).body.length;

  // what a cross-site page can send without a preflight: text/plain, a form, or no type at all
  const attempts = [
    ["POST", "/api/storm", "text/plain", '{"ms":60000}'],
    ["POST", "/api/storm", "text/plain;charset=UTF-8", '{"ms":60000}'],
    ["POST", "/api/stats/reset", "text/plain", ""],
    ["POST", "/api/stats/reset", undefined, undefined],
    ["PUT", "/api/faults", "text/plain", '{"forbidden":true}'],
    ["DELETE", "/api/faults", undefined, undefined],
    ["DELETE", "/api/storm", "application/x-www-form-urlencoded", "a=1"],
    ["POST", "/api/generate/image", "application/x-www-form-urlencoded", "prompt=x"],
    ["POST", "/api/generate/video", "multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n--x--\r\n'],
    ["POST", "/api/generate/image", "application/jsonp", '{"prompt":"x"}'],
  ];
  for (const [method, path, type, body] of attempts) {
    const r = await getJson(api.url + path, { method, headers: type ? { "content-type": type } : {}, body });
    assert.equal(r.status, 415, `${method} ${path} ${type}`);
    assert.match(r.body.error, /application\/json/);
  }

  assert.equal((await getJson(`${api.url}/api/storm`)).body.storm, null, "no storm started");
  assert.deepEqual((await getJson(`${api.url}/api/faults`)).body, { slow: 5 }, "faults neither replaced nor cleared");
  assert.equal((await getJson(`${api.url}/api/jobs`)).body.length, jobs, "no job created");
  const after = await stats();
  assert.equal(after.startedAt, before.startedAt, "stats not reset");
  assert.ok(after.total >= before.total + attempts.length);
  assert.deepEqual(after.byJob[fileId], before.byJob[fileId]);
  await sendJson(`${api.url}/api/faults`, "DELETE");
});

test("with the JSON content type (parameters allowed, body optional) they work; a wrong method is still a 405", async () => {
  const r = await getJson(`${api.url}/api/stats/reset`, { method: "POST", headers: { "content-type": "Application/JSON; charset=utf-8" } });
  assert.equal(r.status, 200);
  assert.equal((await sendJson(`${api.url}/api/storm`, "POST")).status, 200, "no body: the defaults");
  assert.deepEqual((await sendJson(`${api.url}/api/storm`, "DELETE")).body, { storm: null });
  assert.equal((await getJson(`${api.url}/api/storm`, { method: "PUT", headers: { "content-type": "text/plain" }, body: "{}" })).status, 405);
  assert.equal((await getJson(`${api.url}/api/health`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" })).status, 405);
});

// ---------- per-id counters ----------

test("GET /api/file/__proto__ and friends leave Object.prototype untouched; the server still works", async () => {
  const names = ["__proto__", "constructor", "prototype", "hasOwnProperty", "toString"];
  const polluted = () => ["file", "project", "events", "total"].filter((k) => Object.hasOwn(Object.prototype, k));
  const toString = Object.prototype.toString;
  await sendJson(`${api.url}/api/stats/reset`, "POST");
  for (const id of names) {
    assert.equal((await getJson(`${api.url}/api/file/${id}`)).status, 404, id);
    assert.equal((await getJson(`${api.url}/api/project/${id}`)).status, 404, id);
    assert.equal((await getJson(`${api.url}/api/events/file.${id}`)).status, 404, id);
  }
  // and the 429 counter, during a storm
  await sendJson(`${api.url}/api/storm`, "POST", { ms: 60000 });
  for (const id of names) assert.equal((await getJson(`${api.url}/api/file/${id}`)).status, 429, id);
  await sendJson(`${api.url}/api/storm`, "DELETE");

  assert.deepEqual(polluted(), []);
  assert.equal(({}).total, undefined);
  assert.equal(Object.prototype.toString, toString);
  const s = await stats();
  assert.deepEqual(Object.keys(s.byJob).sort(), [...names].sort(), "each name counted as an id of its own");
  assert.deepEqual(s.byJob.__proto__, { file: 2, project: 1, events: 1, total: 4 });
  assert.equal(s.rateLimitedByJob.constructor, 1);

  // the server still answers, counts and creates jobs
  const { fileId } = (await sendJson(`${api.url}/api/generate/image`, "POST", { prompt: "after" })).body;
  assert.equal((await getJson(`${api.url}/api/file/${fileId}`)).body.id, fileId);
  assert.deepEqual((await stats()).byJob[fileId], { file: 1, project: 0, events: 0, total: 1 });
});

test("the per-id counters keep at most statsMaxIds ids, dropping the oldest", async (t) => {
  const small = await startServer({ statsMaxIds: 3 });
  t.after(() => small.close());
  for (const id of ["a1", "a2", "a3"]) await getJson(`${small.url}/api/file/${id}`);
  await getJson(`${small.url}/api/file/a1`); // counted again: still the oldest
  for (const id of ["a4", "a5"]) await getJson(`${small.url}/api/file/${id}`);
  const s = await stats(small);
  assert.deepEqual(Object.keys(s.byJob), ["a3", "a4", "a5"]);
  assert.equal(s.total, 6, "the total still counts every request");

  await sendJson(`${small.url}/api/storm`, "POST", { ms: 60000 });
  for (let i = 1; i <= 10; i++) assert.equal((await getJson(`${small.url}/api/project/b${i}`)).status, 429);
  await sendJson(`${small.url}/api/storm`, "DELETE");
  const after = await stats(small);
  assert.deepEqual(after.rateLimitedByJob, { b8: 1, b9: 1, b10: 1 });
  assert.deepEqual(Object.keys(after.byJob), ["b8", "b9", "b10"]);
  assert.equal(small.state.stats.byJob.size, 3);

  await assert.rejects(startServer({ statsMaxIds: 0 }), RangeError);
});
