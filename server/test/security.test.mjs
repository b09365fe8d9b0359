// Issue 18, items 4 and 5: the Host allowlist (DNS rebinding), JSON-only
// state changes, per-id counters that cannot pollute prototypes or grow
// without limit, and a proxy that forwards only what it must.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startServer, getJson, sendJson, sleep, until } from "../test-support.mjs";
import { optionsFromEnv } from "../index.mjs";

/**
 * One request with full control over the path and headers (fetch normalises the
 * one and will not set Host). With `firstChunk`, resolves on the first body chunk
 * and drops the connection (for streams). `aborted`: the body never completed.
 * Fails after `timeout` ms.
 */
function raw(port, { method = "GET", path = "/", headers = {}, body, firstChunk = false, timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      const done = () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode, headers: res.headers, text, aborted: !res.complete });
      };
      res.on("data", (c) => {
        chunks.push(c);
        if (firstChunk) {
          done();
          req.destroy();
        }
      });
      res.on("end", done);
      res.on("close", done); // after "end", or the connection dropped mid-body
      res.on("error", () => {});
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${path}: no answer in ${timeout} ms`));
    }, timeout);
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
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

// ---------- proxy mode ----------

/**
 * A fake upstream on 127.0.0.1 that records what it receives. Ids decide what it
 * does: "hang*" never answers, "stall*" sends headers and part of a body, then
 * nothing; anything else answers at once, with headers that must not come back.
 */
async function fakeUpstream() {
  const seen = []; // { method, url, authorization, cookie }
  const held = new Set();
  const closed = []; // urls whose request was closed (by the proxy or after the answer)
  const streams = new Map(); // url -> the response of an open event stream
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, cookie: req.headers.cookie });
    res.on("close", () => closed.push(req.url));
    const leaky = {
      "Set-Cookie": ["session=upstream-secret; Path=/; HttpOnly", "other=1"],
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Credentials": "true",
      "Access-Control-Expose-Headers": "*",
      "WWW-Authenticate": 'Bearer realm="upstream"',
      Location: "https://upstream.example/elsewhere",
      "X-Upstream-Internal": "secret",
    };
    if (req.url.includes("hang")) {
      held.add(res);
      return;
    }
    if (req.url.includes("stall")) {
      held.add(res);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"id":"stall","tasks":[');
      return;
    }
    if (req.url.startsWith("/api/events/")) {
      held.add(res);
      streams.set(req.url, res);
      res.writeHead(200, { ...leaky, "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      res.write(': ok\n\ndata: {"type":"task_status","object":{"status":"IN_PROGRESS"}}\n\n');
      return;
    }
    if (req.url.startsWith("/media/")) {
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
      res.writeHead(200, { ...leaky, "Content-Type": "image/png", "Content-Length": png.length, "Cache-Control": "public, max-age=60" });
      return res.end(png);
    }
    const limited = req.url.includes("limited");
    const body = JSON.stringify({ id: req.url.split("/").pop().split("?")[0], url: null, tasks: [{ status: "in_progress" }] });
    res.writeHead(limited ? 429 : 200, {
      ...leaky,
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": "no-store",
      ETag: '"v1"',
      ...(limited ? { "Retry-After": "7" } : {}),
    });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    held,
    closed,
    streams,
    async close() {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let up;
let proxy;
before(async () => {
  up = await fakeUpstream();
  proxy = await startServer({ upstreamUrl: up.url, upstreamToken: "s3cret" });
});
after(async () => {
  await proxy?.close();
  await up?.close();
});

test("proxy: encoded slashes, dot segments, bad ids and other sub-paths are not forwarded (the token stays home)", async () => {
  up.seen.length = 0;
  const paths = [
    "/api/file/..%2F..%2Fadmin",
    "/api/file/..%2f..%2fadmin",
    "/api/file/a%2Fb",
    "/api/file/%2e%2e",
    "/api/file/a%00b",
    "/api/project/..%2Fadmin%3Fx=1",
    "/api/project/a.b",
    "/api/file/" + "a".repeat(129),
    "/api/events/file.x%2F..%2F..%2Fadmin",
    "/api/events/file.abc/extra",
    "/api/events/project.abc",
    "/api/events/..%2F..%2Fadmin",
    "/api/events/file.",
    "/api/file/abc/../../admin",
    "/media/..%2F..%2Fadmin",
    "/media/x%2F..%2F..%2Fadmin.png",
    "/media/..png",
    "/media/a.b.c.png",
    "/media/abc",
  ];
  for (const path of paths) {
    const r = await raw(proxy.port, { path });
    assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status}`);
  }
  assert.deepEqual(up.seen, [], "the upstream received nothing");
  // a rebinding Host does not reach it either
  const r = await raw(proxy.port, { path: "/api/file/abc", headers: { host: `evil.example:${proxy.port}` } });
  assert.equal(r.status, 421);
  assert.deepEqual(up.seen, []);
  // while a valid id is forwarded, with the token
  assert.equal((await raw(proxy.port, { path: "/api/file/abc" })).status, 200);
  assert.deepEqual(up.seen, [{ method: "GET", url: "/api/file/abc", authorization: "Bearer s3cret", cookie: undefined }]);
});

test("proxy: the query is dropped unless its key is in upstreamQueryKeys", async (t) => {
  up.seen.length = 0;
  await raw(proxy.port, { path: "/api/file/abc?admin=1&v=2" });
  await raw(proxy.port, { path: "/api/project/p1?x=..%2Fadmin" });
  await raw(proxy.port, { path: "/api/events/file.abc?token=1", firstChunk: true });
  await raw(proxy.port, { path: "/media/up_1.png?sig=abc" });
  assert.deepEqual(up.seen.map((s) => s.url), ["/api/file/abc", "/api/project/p1", "/api/events/file.abc", "/media/up_1.png"]);

  const keyed = await startServer({ upstreamUrl: up.url, upstreamQueryKeys: ["v"] });
  t.after(() => keyed.close());
  up.seen.length = 0;
  await raw(keyed.port, { path: "/api/file/abc?admin=1&v=2&v=a%26b%3Dc" });
  assert.deepEqual(up.seen.map((s) => s.url), ["/api/file/abc?v=2&v=a%26b%3Dc"]);
  assert.equal(up.seen[0].authorization, undefined, "no token configured, none sent");
  assert.deepEqual(optionsFromEnv({ UPSTREAM_QUERY_KEYS: "v, page" }).upstreamQueryKeys, ["v", "page"]);
  await assert.rejects(startServer({ upstreamUrl: up.url, upstreamQueryKeys: ["a&b"] }), RangeError);
});

test("proxy: only the headers the client needs come back (no Set-Cookie, no Access-Control-*)", async () => {
  const leaked = (headers) =>
    ["set-cookie", "access-control-allow-origin", "access-control-allow-credentials", "access-control-expose-headers",
      "www-authenticate", "location", "x-upstream-internal"].filter((h) => headers[h] !== undefined);

  const ok = await raw(proxy.port, { path: "/api/file/abc" });
  assert.equal(ok.status, 200);
  assert.deepEqual(leaked(ok.headers), []);
  assert.equal(ok.headers["content-type"], "application/json; charset=utf-8");
  assert.equal(ok.headers["cache-control"], "no-store");
  assert.equal(ok.headers.etag, '"v1"');
  assert.ok(ok.headers.date);
  assert.equal(JSON.parse(ok.text).id, "abc");

  const limited = await raw(proxy.port, { path: "/api/project/limited1" });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers["retry-after"], "7");
  assert.deepEqual(leaked(limited.headers), []);

  const media = await raw(proxy.port, { path: "/media/up_1.png" });
  assert.equal(media.status, 200);
  assert.equal(media.headers["content-type"], "image/png");
  assert.equal(media.headers["content-length"], "4");
  assert.deepEqual(leaked(media.headers), []);

  const sse = await raw(proxy.port, { path: "/api/events/file.abc", firstChunk: true });
  assert.equal(sse.status, 200);
  assert.equal(sse.headers["content-type"], "text/event-stream");
  assert.deepEqual(leaked(sse.headers), []);
  assert.match(sse.text, /^: ok/);
});

test("proxy: a hung upstream is answered with a 504 after upstreamTimeout, and the upstream request is closed", async (t) => {
  const quick = await startServer({ upstreamUrl: up.url, upstreamToken: "s3cret", upstreamTimeout: 300 });
  t.after(() => quick.close());
  for (const path of ["/api/file/hang1", "/api/project/hang2", "/api/events/file.hang3", "/media/hang4.png"]) {
    const r = await raw(quick.port, { path }); // raw fails after 10 s: a generous deadline, not a timing window
    assert.equal(r.status, 504, path);
    assert.equal(JSON.parse(r.text).error, "gateway timeout");
    assert.match(JSON.parse(r.text).detail, /300 ms.*UPSTREAM_TIMEOUT/);
    assert.ok(up.seen.some((s) => s.url === path), `${path} reached the upstream`);
    await until(() => up.closed.includes(path));
  }
  assert.deepEqual(optionsFromEnv({ UPSTREAM_TIMEOUT: "5000" }).upstreamTimeout, 5000);
  assert.equal(optionsFromEnv({}).upstreamTimeout, undefined, "the default (30 s) is createApiServer's");
  await assert.rejects(startServer({ upstreamUrl: up.url, upstreamTimeout: 0 }), RangeError);
});

test("proxy: a record whose body stalls after the headers is cut off at upstreamTimeout", async (t) => {
  const quick = await startServer({ upstreamUrl: up.url, upstreamTimeout: 300 });
  t.after(() => quick.close());
  const r = await raw(quick.port, { path: "/api/file/stall1" });
  assert.equal(r.status, 200, "the headers had come");
  assert.equal(r.aborted, true, "the body never completed");
  await until(() => up.closed.includes("/api/file/stall1"));
});

test("proxy: an open event stream is exempt from the timeout once its headers have come", async (t) => {
  const quick = await startServer({ upstreamUrl: up.url, upstreamTimeout: 300 });
  t.after(() => quick.close());
  const path = "/api/events/file.long1";
  const chunks = [];
  let ended = false;
  const req = http.get({ host: "127.0.0.1", port: quick.port, path, agent: false }, (res) => {
    assert.equal(res.statusCode, 200);
    res.on("data", (c) => chunks.push(String(c)));
    res.on("close", () => (ended = true));
  });
  req.on("error", () => {});
  t.after(() => req.destroy());
  await until(() => chunks.join("").includes("IN_PROGRESS"));
  await sleep(1000); // over three times the timeout, which would have cut a record
  up.streams.get(path).write('data: {"type":"render_progress","object":{"progress":50}}\n\n');
  await until(() => chunks.join("").includes("render_progress"));
  assert.equal(ended, false);
  assert.ok(!up.closed.includes(path));
});
