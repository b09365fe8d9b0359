// The packed package (`npm pack` of pkg/, extracted into a temp
// node_modules) imported by name in plain Node, as a test runner or a server
// imports it (issue 17, items 1, 2 and 4):
// - it loads its .wasm from the file system by itself: nothing here calls
//   initSync or passes bytes;
// - requests go to `globalThis.fetch` as it is when they are made (replaced
//   after import), with the url as configured: a relative `/api/file/{id}`
//   arrives unchanged;
// - no EventSource means polling, without an error;
// - configureDefaults, before and after the load;
// - a load that fails (a missing .wasm, an HTML page in its place) makes the
//   Promise helpers resolve with "load_failed", and is not kept: once the
//   file is back, the next call loads and completes;
// - `manager[Symbol.dispose]()` stops the manager's jobs.
import assert from "node:assert/strict";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";

import { installPacked, mockFetch, sleep, until } from "./support.mjs";

const installs = [];
after(() => installs.forEach((i) => i.remove()));
function install() {
  const i = installPacked();
  installs.push(i);
  return i;
}

/** Fast waits for the helpers' shared manager. */
const quick = { intervals: [20], initialDelay: 10, maxDelay: 50, jitter: 0 };

test("importing the package needs no window or document, and no load happens before use", async () => {
  assert.equal(typeof globalThis.window, "undefined");
  assert.equal(typeof globalThis.document, "undefined");
  const fetch = mockFetch();
  try {
    const { sp, react } = await install().load();
    assert.equal(typeof sp.default, "function");
    assert.equal(typeof react.PollingProvider, "function");
    assert.deepEqual(fetch.calls, [], "no request at import");
    assert.throws(() => new sp.PollingManager(), /await init\(\)/);
  } finally {
    fetch.restore();
  }
});

test("init() reads the .wasm from the file system by itself and resolves with nothing", async (t) => {
  const { sp } = await install().load();
  const fetch = mockFetch(); // after import: the package must see this one
  t.after(fetch.restore);
  assert.equal(await sp.default(), undefined);
  assert.deepEqual(fetch.calls, [], "the .wasm was not fetched");
  assert.equal(await sp.default(), undefined, "a second init() shares the load");

  // an absolute url: this part holds whether or not the request is built as a Request
  const m = new sp.PollingManager({ fileUrl: "http://api.example/file/{id}", eventsUrl: null, ...quick });
  t.after(() => m.free());
  const result = await m.pollFileCompletion("abs-1");
  assert.equal(result.success, true, JSON.stringify(result));
  assert.equal(result.data.url, "https://cdn.example/abs-1.png");
  assert.equal(fetch.count("abs-1"), 2);
  assert.deepEqual(fetch.urls(), ["http://api.example/file/abs-1", "http://api.example/file/abs-1"]);
});

test("pollFileCompletion without init() or options: the mocked fetch gets the relative /api/file/{id}; callbacks fire", async (t) => {
  const { sp } = await install().load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const seen = { updates: [], progress: [], errors: [] };
  const started = sp.pollFileCompletion("rel-1", {
    ...quick,
    onUpdate: (r) => seen.updates.push(r.url),
    onProgress: (attempt, elapsed, next, p) => seen.progress.push([attempt, p.channel]),
    onError: (e) => seen.errors.push(e.message),
  });
  // waiting for the module: running, as both the old module's queries say
  assert.equal(sp.smartPollingManager.isPolling("file-rel-1"), true);
  const [status, ...others] = sp.smartPollingManager.getPollingStatus();
  assert.deepEqual(others, []);
  assert.equal(status.pollId, "file-rel-1");
  assert.equal(status.attempts, 0);
  assert.ok(status.elapsed >= 0 && status.elapsed < 1000, `elapsed since the call: ${status.elapsed}`);
  const result = await started;
  assert.equal(result.success, true, JSON.stringify(result));
  assert.equal(result.method, "success");
  assert.equal(result.data.id, "rel-1");
  assert.equal(result.data.url, "https://cdn.example/rel-1.png");
  assert.equal(result.attempts, 2);
  assert.equal(result.channel, "polling");
  assert.deepEqual(fetch.calls, ["/api/file/rel-1", "/api/file/rel-1"], "the url as configured, a string");
  assert.deepEqual(seen.updates, [null, "https://cdn.example/rel-1.png"]);
  assert.ok(seen.progress.length >= 1 && seen.progress.every(([, channel]) => channel === "polling"));
  assert.deepEqual(seen.errors, []);
});

test("a PollingManager with relative urls and no EventSource polls, without an error; callbacks fire", async (t) => {
  assert.equal(typeof globalThis.EventSource, "undefined", "this test needs a Node without EventSource");
  const { sp } = await install().load();
  await sp.default();
  const fetch = mockFetch({ doneAfter: 3 });
  t.after(fetch.restore);
  // the stream is asked for (eventsUrl), but there is no EventSource: polling
  const m = new sp.PollingManager({ fileUrl: "/api/file/{id}", eventsUrl: "/api/events/file.{id}", ...quick });
  t.after(() => m.free());
  const seen = { updates: 0, channels: [], complete: [], errors: [], retries: [] };
  m.startPolling("rel-2", {
    onUpdate: () => seen.updates++,
    onProgress: (p) => seen.channels.push(p.channel),
    onComplete: (r) => seen.complete.push(r),
    onError: (e) => seen.errors.push(e),
    onRetry: (e) => seen.retries.push(e),
  });
  await until(() => seen.complete.length + seen.errors.length > 0);
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.retries, [], "no transient error either");
  assert.equal(seen.complete[0].url, "https://cdn.example/rel-2.png");
  assert.equal(seen.updates, 2, "onUpdate for each new state: pending (twice the same), then done");
  assert.ok(seen.channels.length > 0 && seen.channels.every((c) => c === "polling"), `no stream is tried without EventSource: ${seen.channels}`);
  assert.deepEqual(fetch.calls, ["/api/file/rel-2", "/api/file/rel-2", "/api/file/rel-2"]);
});

test("a relative url with no page and no fetch mock (Node's own fetch) ends the job at once with relative_url", async (t) => {
  assert.equal(typeof globalThis.location, "undefined", "this test needs Node without a DOM");
  const { sp } = await install().load();
  await sp.default();
  const m = new sp.PollingManager({ eventsUrl: null, shareAcrossTabs: false, ...quick });
  t.after(() => m.free());
  const seen = { errors: [], retries: [] };
  m.startPolling("rel-3", { onError: (e) => seen.errors.push(e), onRetry: (e) => seen.retries.push(e) });
  await until(() => seen.errors.length > 0);
  assert.deepEqual(seen.retries, [], "no retry: none could succeed");
  const [e] = seen.errors;
  assert.equal(e.kind, "relative_url");
  assert.equal(e.retryable, false);
  assert.equal(e.attempt, 1);
  assert.match(e.message, /^A relative url cannot be fetched outside a page: give the manager \(the helpers: configureDefaults\) an absolute fileUrl and projectUrl, or mock fetch\. fetch said: .*\/api\/file\/rel-3/);
  assert.equal(m.isPolling("rel-3"), false);
  // a Promise helper says the same
  const r = await sp.pollFileCompletion("rel-4", quick);
  assert.equal(r.failure.kind, "relative_url");
  assert.equal(r.attempts, 1);
  // a hand-written mock that rejects, to test retries, is the network's
  const realFetch = globalThis.fetch;
  t.after(() => (globalThis.fetch = realFetch));
  globalThis.fetch = async () => {
    throw new TypeError("Failed to fetch");
  };
  const offline = await sp.pollFileCompletion("rel-5", { ...quick, maxConsecutiveErrors: 2 });
  assert.equal(offline.failure.kind, "network");
  assert.equal(offline.error, "Could not reach the server: Failed to fetch");
  assert.equal(offline.attempts, 2);
});

test("no fetch at all (Jest's jsdom environment, Node before 18) ends the job at once with no_fetch, saying what to do; a fetch put back later works", async (t) => {
  const { sp } = await install().load();
  await sp.default();
  const realFetch = globalThis.fetch;
  t.after(() => (globalThis.fetch = realFetch));
  delete globalThis.fetch;
  const m = new sp.PollingManager({ fileUrl: "https://api.example/file/{id}", eventsUrl: null, shareAcrossTabs: false, ...quick });
  t.after(() => m.free());
  const seen = { errors: [], retries: [] };
  m.startPolling("nofetch-1", { onError: (e) => seen.errors.push(e), onRetry: (e) => seen.retries.push(e) });
  await until(() => seen.errors.length > 0);
  assert.deepEqual(seen.retries, [], "no retry: none could succeed");
  const [e] = seen.errors;
  assert.equal(e.kind, "no_fetch");
  assert.equal(e.retryable, false);
  assert.equal(e.attempt, 1);
  assert.match(e.message, /globalThis\.fetch is not a function\): mock globalThis\.fetch before the job starts/);
  const r = await m.pollFileCompletion("nofetch-2", quick);
  assert.equal(r.failure.kind, "no_fetch");
  assert.equal(r.attempts, 1);
  // a fetch (a test's mock) put in place afterwards: the next job uses it
  const fetch = mockFetch({ doneAfter: 1 });
  t.after(fetch.restore);
  const ok = await m.pollFileCompletion("nofetch-3", quick);
  assert.equal(ok.success, true);
});

test("eventsWithCredentials opens the stream with withCredentials; by default it is off; a non-boolean is refused", async (t) => {
  const { sp } = await install().load();
  await sp.default();
  const inits = [];
  globalThis.EventSource = class {
    constructor(url, init) {
      inits.push([String(url), init?.withCredentials]);
      setTimeout(() => this.onerror?.({ type: "error" }), 0);
    }
    close() {}
  };
  t.after(() => delete globalThis.EventSource);
  const fetch = mockFetch({ doneAfter: 1 });
  t.after(fetch.restore);
  const streams = { fileUrl: "/api/file/{id}", eventsUrl: "https://events.example/file.{id}", shareAcrossTabs: false, ...quick };
  for (const [id, extra] of [["cred-1", { eventsWithCredentials: true }], ["cred-2", {}]]) {
    const m = new sp.PollingManager({ ...streams, ...extra });
    t.after(() => m.free());
    let done = false;
    m.startPolling(id, { onComplete: () => (done = true) });
    await until(() => done, { what: `${id} to complete` });
  }
  assert.deepEqual(inits, [
    ["https://events.example/file.cred-1", true],
    ["https://events.example/file.cred-2", false],
  ]);
  assert.throws(() => new sp.PollingManager({ eventsWithCredentials: "yes" }), /^RangeError: eventsWithCredentials must be true or false$/);
});

test("an EventSource stand-in with no close() leaves the manager working: the job polls on and completes", async (t) => {
  const { sp } = await install().load();
  await sp.default();
  globalThis.EventSource = class {
    constructor() {
      setTimeout(() => this.onerror?.({ type: "error" }), 0);
    }
  };
  t.after(() => delete globalThis.EventSource);
  const fetch = mockFetch({ doneAfter: 2 });
  t.after(fetch.restore);
  const m = new sp.PollingManager({ fileUrl: "/api/file/{id}", eventsUrl: "/api/events/file.{id}", shareAcrossTabs: false, ...quick });
  t.after(() => m.free());
  const done = [];
  m.startPolling("noclose-1", { onComplete: (r) => done.push(r.id) });
  await until(() => done.length > 0, { what: "the job to complete by polling" });
  m.startPolling("noclose-2", { onComplete: (r) => done.push(r.id) });
  await until(() => done.length > 1, { what: "a second job to complete" });
  assert.deepEqual(done, ["noclose-1", "noclose-2"]);
});

test("one record heard from the stream and read from a poll (in other whitespace) is one onUpdate, not two", async (t) => {
  const { sp } = await install().load();
  await sp.default();
  const pending = { id: "dup-1", type: "image", url: null, tasks: [{ status: "in_progress" }] };
  const complete = { ...pending, url: "https://cdn.example/dup-1.png", tasks: [{ status: "completed" }] };
  // the stream opens and says the pending record; the complete one comes
  // 100 ms after the poll has answered
  let answered = null;
  globalThis.EventSource = class {
    constructor() {
      setTimeout(() => {
        this.onopen?.({ type: "open" });
        this.onmessage?.({ type: "message", data: JSON.stringify({ type: "file", object: pending }) });
      }, 0);
      this.timer = setInterval(() => {
        if (answered === null || performance.now() - answered < 100) return;
        clearInterval(this.timer);
        this.onmessage?.({ type: "message", data: JSON.stringify({ type: "file", object: complete }) });
      }, 10);
    }
    close() {
      clearInterval(this.timer);
    }
  };
  t.after(() => delete globalThis.EventSource);
  // the poll answers the same pending record, pretty-printed
  const original = globalThis.fetch;
  let polls = 0;
  globalThis.fetch = async () => {
    polls += 1;
    answered ??= performance.now();
    return new Response(JSON.stringify(pending, null, 2), { status: 200, headers: { "content-type": "application/json" } });
  };
  t.after(() => (globalThis.fetch = original));
  const m = new sp.PollingManager({ fileUrl: "http://api.example/file/{id}", eventsUrl: "http://api.example/events/{id}", shareAcrossTabs: false, ...quick });
  t.after(() => m.free());
  const updates = [];
  let done = null;
  m.startPolling("dup-1", { onUpdate: (r) => updates.push(r.url), onComplete: (r) => (done = r) });
  await until(() => done !== null, { what: "the stream's complete record" });
  assert.ok(polls >= 1, "the job polled to catch up once the stream opened, and read the answer before the complete record came");
  assert.deepEqual(updates, [null, "https://cdn.example/dup-1.png"], "the pending record once, then the complete one");
});

test("without a stream route, two refused streams in a row pause the stream for the manager's new jobs; debug says so", async (t) => {
  const { sp } = await install().load();
  await sp.default();
  const streams = fakeEventSource(t); // every stream errors before it opens, as a 404 does
  const fetch = mockFetch({ doneAfter: 1 });
  t.after(fetch.restore);
  const logs = [];
  const realLog = console.log;
  console.log = (...a) => logs.push(a.join(" "));
  t.after(() => (console.log = realLog));
  const m = new sp.PollingManager({ fileUrl: "/api/file/{id}", eventsUrl: "/api/events/file.{id}", shareAcrossTabs: false, debug: true, ...quick });
  t.after(() => m.free());
  const channels = {};
  for (const id of ["route-1", "route-2", "route-3", "route-4"]) {
    let done = false;
    channels[id] = [];
    m.startPolling(id, { onProgress: (p) => channels[id].push(p.channel), onComplete: () => (done = true) });
    await until(() => done, { what: `${id} to complete` });
  }
  console.log = realLog;
  assert.deepEqual(streams, ["/api/events/file.route-1", "/api/events/file.route-2"], "two tries, then no stream");
  assert.ok(channels["route-3"].every((c) => c === "polling") && channels["route-4"].every((c) => c === "polling"));
  assert.deepEqual(fetch.calls, ["route-1", "route-2", "route-3", "route-4"].map((id) => `/api/file/${id}`));
  const said = logs.filter((l) => l.includes("stream"));
  assert.ok(said.some((l) => l.includes("route-1 stream failed before it opened (the route answered an error or there is none, or the connection broke before it answered): polling")), said.join("\n"));
  assert.ok(
    said.some((l) => l.includes("route-2 stream did not open, nor did the one before: new jobs poll without it for 5 minutes (check eventsUrl, or set it to null; over HTTP/1.1, other tabs' streams may hold the browser's 6 connections to the host)")),
    said.join("\n"),
  );
});

test("debug says when sharing across tabs is off (no Web Locks or BroadcastChannel here), and only with debug", async (t) => {
  const { sp } = await install().load();
  await sp.default();
  const logs = [];
  const realLog = console.log;
  console.log = (...a) => logs.push(a.join(" "));
  t.after(() => (console.log = realLog));
  const locks = globalThis.navigator?.locks;
  t.after(() => locks === undefined || Object.defineProperty(globalThis.navigator, "locks", { value: locks, configurable: true }));
  if (locks !== undefined) Object.defineProperty(globalThis.navigator, "locks", { value: undefined, configurable: true });
  new sp.PollingManager({ debug: true }).free();
  new sp.PollingManager({}).free();
  new sp.PollingManager({ debug: true, shareAcrossTabs: false }).free();
  console.log = realLog;
  const said = logs.filter((l) => l.includes("sharing across tabs is off"));
  assert.equal(said.length, 1, logs.join("\n"));
  assert.ok(said[0].includes("each tab polls on its own"), said[0]);
});

/** An EventSource stand-in that records its urls and fails at once (so polling takes over). */
function fakeEventSource(t) {
  const urls = [];
  globalThis.EventSource = class {
    constructor(url) {
      urls.push(String(url));
      setTimeout(() => this.onerror?.({ type: "error" }), 0);
    }
    close() {}
  };
  t.after(() => delete globalThis.EventSource);
  return urls;
}

test("the helpers poll only by default; configureDefaults before the load is applied before the first start", async (t) => {
  const { sp } = await install().load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const streams = fakeEventSource(t);
  const plain = await sp.pollFileCompletion("def-1", quick);
  assert.equal(plain.success, true, JSON.stringify(plain));
  assert.deepEqual(streams, [], "no stream by default, even with an EventSource");

  // a second install: configured before anything loads it
  const other = await install().load();
  other.sp.configureDefaults({ fileUrl: "/v2/files/{id}", eventsUrl: "/api/events/file.{id}", sseConnectTimeout: 100 });
  const configured = await other.sp.pollFileCompletion("def-2", quick);
  assert.equal(configured.success, true, JSON.stringify(configured));
  assert.deepEqual(streams, ["/api/events/file.def-2"], "opted into the stream");
  assert.deepEqual(fetch.calls.slice(-2), ["/v2/files/def-2", "/v2/files/def-2"]);

  // after the load: applied at once, and invalid options throw at once
  other.sp.configureDefaults({ fileUrl: "/v3/files/{id}", eventsUrl: null });
  assert.equal((await other.sp.pollFileCompletion("def-3", quick)).success, true);
  assert.deepEqual(fetch.calls.slice(-2), ["/v3/files/def-3", "/v3/files/def-3"]);
  assert.throws(() => other.sp.configureDefaults({ timeout: -1 }), RangeError);
  assert.equal((await other.sp.pollFileCompletion("def-4", quick)).success, true, "the valid defaults stay");
  assert.deepEqual(fetch.calls.slice(-2), ["/v3/files/def-4", "/v3/files/def-4"]);
});

test("configureDefaults again with the same options while polls run (a hot update ran the module again) changes nothing; other options still throw", async (t) => {
  const { sp } = await install().load();
  await sp.default();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const same = { eventsUrl: null, shareAcrossTabs: false };
  sp.configureDefaults(same);
  const running = sp.pollFileCompletion("pending-hot", quick);
  assert.doesNotThrow(() => sp.configureDefaults({ eventsUrl: null, shareAcrossTabs: false }));
  assert.throws(() => sp.configureDefaults({ eventsUrl: null, shareAcrossTabs: true }), /cannot change the shared manager while polls run/);
  assert.equal(sp.smartPollingManager.isPolling("file-pending-hot"), true, "the poll goes on");
  sp.smartPollingManager.stopAllPolling();
  assert.equal((await running).failure.kind, "stopped");
});

test("invalid defaults given before the load: the pending helpers resolve with the error, until configureDefaults succeeds", async (t) => {
  const { sp } = await install().load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  sp.configureDefaults({ fileUrl: "/api/file/" }); // no {id}: invalid, unknown until the module loads
  const results = await Promise.all([
    sp.pollFileCompletion("bad-1", quick),
    sp.smartPollingManager.startPolling("bad-2", () => ({ completed: true, data: 1 })),
  ]);
  for (const r of results) {
    assert.equal(r.success, false);
    assert.equal(r.method, "error");
    assert.match(r.error, /configureDefaults.*fileUrl/s);
    assert.equal(r.failure.retryable, false);
  }
  assert.deepEqual(fetch.calls, [], "nothing started");
  sp.configureDefaults({ fileUrl: "/api/file/{id}" });
  assert.equal((await sp.pollFileCompletion("bad-3", quick)).success, true);
});

test("a load that fails says what to look at: a request that failed names CORS and CSP connect-src, a CSP that forbids WebAssembly names 'wasm-unsafe-eval'", async (t) => {
  const { sp } = await install().load();
  // 1. the request fails (nothing listens on port 9): in Node no page hint;
  // where there is a location (a page, a worker), the causes to look at
  const failed = await sp.default("http://127.0.0.1:9/smart_polling_bg.wasm").then(() => null, (e) => e);
  assert.match(failed.message, /from http:\/\/127\.0\.0\.1:9\/smart_polling_bg\.wasm: the request failed: /);
  assert.ok(!failed.message.includes("CORS"), failed.message);
  assert.equal(failed.retryable, true, "the network: loading again may succeed");
  globalThis.location = new URL("http://127.0.0.1:9/app/");
  t.after(() => delete globalThis.location);
  const paged = await sp.default("http://127.0.0.1:9/smart_polling_bg.wasm").then(() => null, (e) => e);
  assert.ok(paged.message.endsWith("(offline, a url on another origin that sends no CORS headers, or a Content-Security-Policy connect-src that does not allow it)"), paged.message);
  delete globalThis.location;

  // 2. the page's CSP refuses to compile WebAssembly (Chromium's words)
  const { instantiate, instantiateStreaming } = WebAssembly;
  const refused = () => {
    throw new WebAssembly.CompileError(
      "WebAssembly.instantiate(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' is not an allowed source of script in the following Content Security Policy directive: \"script-src 'self'\".",
    );
  };
  WebAssembly.instantiate = async () => refused();
  WebAssembly.instantiateStreaming = async () => refused();
  t.after(() => Object.assign(WebAssembly, { instantiate, instantiateStreaming }));
  const bytes = readFileSync(new URL("../../pkg/smart_polling_bg.wasm", import.meta.url));
  const csp = await sp.default({ module_or_path: bytes }).then(() => null, (e) => e);
  assert.match(csp.message, /'unsafe-eval' is not an allowed source/);
  assert.ok(!csp.message.includes(".."), csp.message);
  assert.match(csp.message, /The page's Content-Security-Policy forbids compiling WebAssembly: add 'wasm-unsafe-eval' to its script-src \(not 'unsafe-eval'/);
  assert.ok(csp.cause instanceof WebAssembly.CompileError, "the original error is the cause");
  // Firefox's words
  const firefox = () => {
    throw new WebAssembly.CompileError("call to WebAssembly.instantiate() blocked by CSP");
  };
  WebAssembly.instantiate = async () => firefox();
  WebAssembly.instantiateStreaming = async () => firefox();
  const ff = await sp.default({ module_or_path: bytes }).then(() => null, (e) => e);
  assert.match(ff.message, /blocked by CSP\. The page's Content-Security-Policy forbids compiling WebAssembly: add 'wasm-unsafe-eval'/);
  assert.deepEqual([csp.retryable, ff.retryable], [false, false], "only a change to the page's CSP helps");
  // the helpers say so too
  const helped = await sp.pollFileCompletion("csp-1");
  assert.deepEqual([helped.failure.kind, helped.failure.retryable], ["load_failed", false]);
  // a compile error of another kind (a body cut off) may go better next time
  WebAssembly.instantiate = async () => {
    throw new WebAssembly.CompileError("WebAssembly.instantiate(): section (code 10, \"Code\") extends past end of the module");
  };
  WebAssembly.instantiateStreaming = WebAssembly.instantiate;
  const cut = await sp.default({ module_or_path: bytes }).then(() => null, (e) => e);
  assert.equal(cut.retryable, true, cut.message);
});

test("a load that fails resolves the helpers with load_failed, and is not kept: the next call loads", async (t) => {
  const pkg = install();
  const wasm = path.join(pkg.dir, "smart_polling_bg.wasm");
  const url = pathToFileURL(wasm).href;
  renameSync(wasm, `${wasm}.away`);
  const { sp } = await pkg.load();
  let checks = 0;
  const checker = () => {
    checks++;
    return { completed: true, data: 7 };
  };

  // 1. a missing file
  const error = await sp.default().then(() => null, (e) => e);
  assert.ok(error instanceof Error);
  assert.match(error.message, /^smart-polling: could not load its WebAssembly module \(smart_polling_bg\.wasm\) from /);
  assert.ok(error.message.includes(url), `names the url: ${error.message}`);
  assert.match(error.message, /ENOENT/);
  assert.equal(error.cause?.code, "ENOENT", "the original error is the cause");
  const results = await Promise.all([
    sp.pollFileCompletion("f-1"),
    sp.pollProjectCompletion("p-1"),
    sp.smartPollingManager.startPolling("c-1", checker),
  ]);
  for (const r of results) {
    assert.equal(r.error, error.message, "the load's error, as a string");
    assert.deepEqual(r, {
      success: false,
      method: "error",
      error: r.error,
      failure: { kind: "load_failed", message: r.error, attempt: 0, retryable: false }, // a missing file: a fix, not a retry
      attempts: 0,
      duration: 0,
      channel: "polling",
    });
    assert.ok(r.error.includes(url) && /ENOENT/.test(r.error), r.error);
  }
  assert.equal(checks, 0);
  assert.equal(sp.smartPollingManager.isPolling("c-1"), false);
  assert.throws(() => new sp.PollingManager(), /await init\(\)/);

  // 2. an HTML page where the .wasm should be (a dev server's fallback)
  writeFileSync(wasm, "<!doctype html><html><head><title>app</title></head><body></body></html>\n");
  const html = await sp.pollFileCompletion("f-2");
  assert.equal(html.failure.kind, "load_failed");
  assert.ok(html.error.includes(url), html.error);
  assert.match(html.error, /HTML page, not WebAssembly/);
  assert.match(html.error, /optimizeDeps: \{ exclude: \["smart-polling"\] \}/);
  const htmlError = await sp.default().then(() => null, (e) => e);
  assert.ok(htmlError.cause instanceof WebAssembly.CompileError, "the glue's error is the cause");
  assert.match(htmlError.cause.message, /expected magic word 00 61 73 6d, found 3c 21 64 6f/);

  // 3. the file is back: the next call loads and completes
  renameSync(`${wasm}.away`, wasm);
  const ok = await sp.smartPollingManager.startPolling("c-2", checker);
  assert.equal(ok.success, true, JSON.stringify(ok));
  assert.equal(ok.data, 7);
  assert.equal(checks, 1);
  assert.equal(await sp.default(), undefined);
  const m = new sp.PollingManager({ eventsUrl: null });
  m.free();
});

test("a bundle that is not an ES module (esbuild's IIFE: no import.meta) says so, and a url given to init() still loads", async () => {
  const { dir } = install();
  // what such a bundler leaves of the entry: `import.meta` is an empty object
  const entry = path.join(dir, "index-iife.js");
  writeFileSync(entry, readFileSync(path.join(dir, "index.js"), "utf8").replaceAll(", import.meta.url)", ", ({}).url)"));
  const sp = await import(pathToFileURL(entry).href);
  const r = await sp.pollFileCompletion("iife-1", quick);
  assert.equal(r.failure.kind, "load_failed");
  assert.equal(
    r.error,
    "smart-polling: could not load its WebAssembly module (smart_polling_bg.wasm): import.meta.url cannot locate it " +
      "(empty in a bundle that is not an ES module, as esbuild's without --format=esm; a blob: or data: url for a module " +
      "loaded from one). Pass the .wasm's url to init({ module_or_path }) (or <PollingProvider wasm={url}>), or build an ES module.",
  );
  await sp.default({ module_or_path: pathToFileURL(path.join(dir, "smart_polling_bg.wasm")) });
  assert.ok(new sp.PollingManager({ eventsUrl: null, shareAcrossTabs: false }));
});

test("a 404 for a relative url given to init(): the page's resolution of it, and what to do where the bundler does not emit the .wasm", async (t) => {
  const { sp } = await install().load();
  const realFetch = globalThis.fetch;
  globalThis.location = { href: "https://app.example/shop/" };
  globalThis.fetch = async () => new Response("Not Found", { status: 404, statusText: "Not Found" });
  t.after(() => {
    globalThis.fetch = realFetch;
    delete globalThis.location;
  });
  const error = await sp.default({ module_or_path: "static/smart_polling_bg.wasm" }).then(() => null, (e) => e);
  assert.equal(
    error.message,
    "smart-polling: could not load its WebAssembly module (smart_polling_bg.wasm) from static/smart_polling_bg.wasm " +
      "(https://app.example/shop/static/smart_polling_bg.wasm): the server answered 404 Not Found. Where the bundler does not emit " +
      "smart_polling_bg.wasm (esbuild, the Angular CLI's ng build), copy it from node_modules/smart-polling/ to that url, " +
      "or pass its url to init() (or <PollingProvider wasm={url}>).",
  );
  // most servers' error answers are HTML pages: a 404 is still a missing file, another status is itself
  globalThis.fetch = async () =>
    new Response("<!doctype html><h1>404</h1>", { status: 404, statusText: "Not Found", headers: { "content-type": "text/html" } });
  const page = await sp.default({ module_or_path: "https://app.example/x.wasm" }).then(() => null, (e) => e);
  assert.match(page.message, /from https:\/\/app\.example\/x\.wasm: the server answered 404 Not Found\. Where the bundler does not emit/);
  globalThis.fetch = async () =>
    new Response("<html>busy</html>", { status: 503, statusText: "Service Unavailable", headers: { "content-type": "text/html" } });
  const busy = await sp.default({ module_or_path: "https://app.example/x.wasm" }).then(() => null, (e) => e);
  assert.match(busy.message, /: the server answered 503 Service Unavailable \(an HTML error page\)$/);
  assert.deepEqual([error.retryable, page.retryable, busy.retryable], [false, false, true], "a 404 needs a fix; a 503 may pass");
  // a hand-written stand-in with no headers
  globalThis.fetch = async () => ({ ok: false, status: 404, statusText: "Not Found" });
  const bare = await sp.default({ module_or_path: "https://app.example/x.wasm" }).then(() => null, (e) => e);
  assert.match(bare.message, /: the server answered 404 Not Found\. Where the bundler does not emit/);
  // Vite 5-7's pre-bundled glue looks for the .wasm under /.vite/deps/: the setting, whatever the answer
  globalThis.fetch = async () => new Response("Not Found", { status: 404, statusText: "Not Found" });
  const deps = "http://localhost:5173/node_modules/.vite/deps/smart_polling_bg.wasm";
  const vite = await sp.default({ module_or_path: deps }).then(() => null, (e) => e);
  assert.equal(
    vite.message,
    `smart-polling: could not load its WebAssembly module (smart_polling_bg.wasm) from ${deps}: the server answered 404 Not Found. ` +
      "A dev server that pre-bundles dependencies moves the glue away from the .wasm: with Vite before 8, add " +
      '`optimizeDeps: { exclude: ["smart-polling"] }` to the Vite config.',
  );
});

test("a load that hangs: the job's timeout bounds the helper's wait, and a stop ends it at once", async (t) => {
  const { sp } = await install().load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  sp.default(new Promise(() => {})); // a .wasm that never arrives
  const t0 = Date.now();
  const timedOut = sp.pollFileCompletion("hang-1", { maxDuration: 300 });
  const checker = () => ({ completed: true });
  const stopped = sp.smartPollingManager.startPolling("hang-2", checker);
  assert.equal(sp.smartPollingManager.isPolling("hang-2"), true);
  assert.equal(sp.smartPollingManager.stopPolling("hang-2"), true);
  const s = await stopped;
  assert.ok(Date.now() - t0 < 250, `the stop ended the wait at once: ${Date.now() - t0} ms`);
  assert.equal(s.failure.kind, "stopped");
  assert.equal(s.error, "Polling was stopped");
  assert.equal(sp.smartPollingManager.isPolling("hang-2"), false);
  const r = await timedOut;
  const took = Date.now() - t0;
  assert.ok(took >= 290 && took < 2000, `resolved at its maxDuration: ${took} ms`);
  assert.deepEqual(
    { success: r.success, method: r.method, kind: r.failure.kind, attempts: r.attempts, retryable: r.failure.retryable },
    { success: false, method: "timeout", kind: "timeout", attempts: 0, retryable: false },
  );
  assert.equal(r.error, "Polling timed out (the WebAssembly module was still loading)");
  assert.deepEqual(sp.smartPollingManager.getPollingStatus(), [], "nothing left waiting");
  assert.deepEqual(fetch.calls, []);
});

test("the shared manager keeps a 429's cooldown past stopAllPolling; configureDefaults starts a fresh one", async (t) => {
  const { sp } = await install().load();
  const realFetch = globalThis.fetch;
  t.after(() => {
    globalThis.fetch = realFetch;
  });
  const seen = [];
  globalThis.fetch = async (url) => {
    const id = String(url).split("/").pop();
    seen.push(id);
    if (id === "busy-1") return new Response("", { status: 429, headers: { "retry-after": "3" } });
    return new Response(JSON.stringify({ id, url: `https://cdn.example/${id}.png` }));
  };
  const busy = sp.pollFileCompletion("busy-1", quick);
  await until(() => seen.includes("busy-1"), { what: "the 429" });
  await sleep(50); // the answer handled
  sp.smartPollingManager.stopAllPolling();
  assert.equal((await busy).failure.kind, "stopped");
  // the next job to that origin waits out the cooldown: 3 s
  const t0 = Date.now();
  const held = sp.pollFileCompletion("calm-1", quick);
  await sleep(300);
  assert.deepEqual(seen, ["busy-1"], "held by the origin's cooldown");
  sp.smartPollingManager.stopAllPolling();
  await held;
  // a job whose deadline comes first says why it never asked
  const late = await sp.pollFileCompletion("calm-0", { ...quick, maxDuration: 200 });
  assert.equal(late.failure.kind, "timeout");
  assert.equal(late.error, "Polling timed out while the server's rate limit (HTTP 429) held its requests");
  assert.equal(late.attempts, 0);
  assert.deepEqual(seen, ["busy-1"]);
  // a fresh shared manager forgets it
  sp.configureDefaults({ shareAcrossTabs: false });
  const r = await sp.pollFileCompletion("calm-2", quick);
  assert.equal(r.success, true, JSON.stringify(r));
  assert.ok(Date.now() - t0 < 2500, `not held: ${Date.now() - t0} ms`);
  assert.deepEqual(seen, ["busy-1", "calm-2"]);
});

test("after a failed load, a Promise helper loads and completes against the mocked fetch", async (t) => {
  const pkg = install();
  const wasm = path.join(pkg.dir, "smart_polling_bg.wasm");
  renameSync(wasm, `${wasm}.away`);
  const { sp } = await pkg.load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const failed = await sp.pollFileCompletion("again-1", quick);
  assert.equal(failed.failure.kind, "load_failed");
  assert.deepEqual(fetch.calls, []);
  renameSync(`${wasm}.away`, wasm);
  const result = await sp.pollFileCompletion("again-1", quick);
  assert.equal(result.success, true, JSON.stringify(result));
  assert.equal(result.data.url, "https://cdn.example/again-1.png");
  assert.deepEqual(fetch.calls, ["/api/file/again-1", "/api/file/again-1"]);
});

test("manager[Symbol.dispose]() stops its jobs: no request and no callback afterwards", async (t) => {
  const { sp } = await install().load();
  await sp.default();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const interval = 30;
  const m = new sp.PollingManager({ fileUrl: "http://api.example/file/{id}", eventsUrl: null, ...quick, intervals: [interval] });
  const heard = [];
  m.startPolling("pending-d1", {
    onUpdate: () => heard.push("update"),
    onProgress: () => heard.push("progress"),
    onComplete: () => heard.push("complete"),
    onError: () => heard.push("error"),
  });
  const promise = m.pollFileCompletion("pending-d2");
  await until(() => fetch.count("pending-d1") >= 2 && fetch.count("pending-d2") >= 2);
  assert.equal(typeof m[Symbol.dispose], "function");
  m[Symbol.dispose]();
  const stopped = await promise;
  assert.equal(stopped.failure.kind, "stopped", "the waiting promise resolves as stopped");
  const requests = fetch.calls.length;
  const callbacks = heard.length;
  await sleep(10 * interval);
  assert.equal(fetch.calls.length, requests, "no request after dispose");
  assert.equal(heard.length, callbacks, "no callback after dispose");
  assert.ok(!heard.includes("complete") && !heard.includes("error"));
  assert.equal(m.__wbg_ptr, 0, "freed");
  m[Symbol.dispose](); // a second dispose (or free) does nothing
  m.free();
});

test("the manual's figures for the .wasm's size are within 5 % of the packed file's", async () => {
  const { dir: pkg } = install();
  const wasm = readFileSync(path.join(pkg, "smart_polling_bg.wasm"));
  const gz = gzipSync(wasm, { level: 9 }).length;
  const readme = readFileSync(path.join(pkg, "README.md"), "utf8");
  const near = (stated, actual, what) =>
    assert.ok(Math.abs(stated - actual) / actual <= 0.05, `${what}: the README says ${stated}, the file is ${Math.round(actual)}`);
  const vite = readme.match(/It is about (\d+) kB \((\d+) kB gzipped\)/);
  assert.ok(vite, "the Vite section's figures");
  near(Number(vite[1]), wasm.length / 1000, "kB raw");
  near(Number(vite[2]), gz / 1000, "kB gzipped");
  const webpack = readme.match(/about (\d+) KiB raw \(about\s+(\d+) KiB gzipped/);
  assert.ok(webpack, "the webpack section's figures");
  near(Number(webpack[1]), wasm.length / 1024, "KiB raw");
  near(Number(webpack[2]), gz / 1024, "KiB gzipped");
});
