// What a real page passes where the types say otherwise, on the shipped entry
// (pkg/index.js): nothing it passes may throw through the WebAssembly module.
// A JS exception that crosses the module's frames skips its cleanup: the
// manager stays borrowed (free() fails), the shadow stack is not given back
// (a few hundred of them corrupt memory for every job on the page), or the
// async executor stops (no job's request or checker runs again).
// - option values that throw when read, at any depth (a revoked Proxy: an
//   Immer / Redux Toolkit draft after its reducer returned; a getter);
// - a fetch whose answer throws when its status is read (a Proxy of a
//   Response in a browser: "Illegal invocation");
// - ids that are numbers (a database id from JSON), or nothing at all.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, test } from "node:test";

import { initSync, PollingManager, pollFileCompletion, smartPollingManager } from "../../pkg/index.js";
import { mockFetch, until } from "./support.mjs";

before(() => {
  initSync({ module: readFileSync(new URL("../../pkg/smart_polling_bg.wasm", import.meta.url)) });
});

const quick = { intervals: [20], initialDelay: 10, maxDelay: 50, jitter: 0 };

function revoked(target) {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
}

const unreadable = (name) => (e) => e instanceof RangeError && e.message.startsWith(`options are unreadable: reading "${name}" threw (`);

test("option values that throw when read, at any depth, are a RangeError of the call, a thousand times over, and the module stays whole", (t) => {
  const fetch = mockFetch();
  t.after(fetch.restore);
  const throwing = { get x() { throw new Error("boom"); } };
  const itemThrows = Object.defineProperty([1000, 2000], 1, { get: () => { throw new Error("boom"); } });
  for (let i = 0; i < 1000; i++) {
    assert.throws(() => new PollingManager({ eventsUrl: null, intervals: revoked([2000, 5000]) }), unreadable("intervals"));
    // No option takes an object: one is refused unread, as any object is.
    assert.throws(() => new PollingManager({ eventsUrl: null, fileUrl: { get x() { throw new Error("boom"); } } }), /^RangeError: fileUrl must be a string/);
    assert.throws(() => new PollingManager({ eventsUrl: null, intervals: itemThrows }), unreadable("intervals"));
    assert.throws(() => new PollingManager({ eventsUrl: null, intervals: [1000, throwing] }), /^RangeError: intervals must be finite numbers/);
  }
  // A manager whose call refused such options is not left borrowed.
  const m = new PollingManager({ fileUrl: "http://api.example/file/{id}", eventsUrl: null });
  assert.throws(() => m.startPolling("a", {}, revoked({})), (e) => e instanceof RangeError && /revoked/.test(e.message));
  assert.throws(() => m.startPolling("a", {}, { intervals: revoked([1]) }), unreadable("intervals"));
  assert.throws(() => m.pollFileCompletion("a", { preset: { get kind() { throw new Error("boom"); } } }), (e) => e instanceof RangeError && e.message.includes("preset"));
  assert.equal(m.activeCount, 0);
  m.free();
  assert.equal(m.__wbg_ptr, 0, "freed, not left borrowed");
  // Nested values are read as plain data: a valid array behind a Proxy, or a
  // typed array, works; one longer than any schedule is refused, not cut.
  new PollingManager({ eventsUrl: null, intervals: new Proxy([1000, 2000], {}) }).free();
  new PollingManager({ eventsUrl: null, intervals: new Float64Array([500, 1000]) }).free();
  assert.throws(
    () => new PollingManager({ eventsUrl: null, intervals: Array(5000).fill(1000) }),
    (e) => e instanceof RangeError && e.message.includes("more than 4096 items"),
  );
});

test("a fetch answer whose status throws when read is a network error of that job; every other job's requests and checkers go on", async (t) => {
  const original = globalThis.fetch;
  t.after(() => (globalThis.fetch = original));
  const asked = [];
  globalThis.fetch = async (url) => {
    asked.push(url);
    if (url.includes("/bad")) return { get status() { throw new TypeError("Illegal invocation"); } };
    return new Response(JSON.stringify({ id: "good", url: "http://cdn.example/good.png" }));
  };
  const m = new PollingManager({ fileUrl: "http://api.example/file/{id}", eventsUrl: null, ...quick });
  t.after(() => m.free());
  const retries = [];
  for (const id of ["bad1", "bad2", "bad3"]) m.startPolling(id, { onRetry: (e) => retries.push([id, e.kind, e.message]) });
  await until(() => retries.length >= 3);
  for (const [, kind, message] of retries) {
    assert.equal(kind, "network");
    assert.match(message, /Illegal invocation/);
  }
  const other = new PollingManager({ fileUrl: "http://other.example/file/{id}", eventsUrl: null, ...quick });
  t.after(() => other.free());
  const done = [];
  other.startPolling("good", { onComplete: (r) => done.push(r.url) }, { timeout: 2000 });
  const checked = await smartPollingManager.startPolling("hostile-check", () => ({ completed: true, data: 1 }), { maxDuration: 2000 });
  assert.equal(checked.success, true, JSON.stringify(checked));
  await until(() => done.length === 1);
  assert.deepEqual(done, ["http://cdn.example/good.png"]);
  assert.ok(asked.includes("http://other.example/file/good"));
});

test("a numeric id is its digits, as the old module's url template made it; no id at all is an invalid id, never a trap", async (t) => {
  const fetch = mockFetch({ doneAfter: 1 });
  t.after(fetch.restore);
  const m = new PollingManager({ fileUrl: "http://api.example/file/{id}", eventsUrl: null, ...quick });
  t.after(() => m.free());
  const done = [];
  m.startPolling(123, { onComplete: (r) => done.push(r.id) });
  assert.equal(m.isPolling(123), true);
  assert.equal(m.isPolling("123"), true, "the same job");
  await until(() => done.length === 1);
  assert.ok(fetch.calls.includes("http://api.example/file/123"), String(fetch.calls));
  m.startPolling(7n, {});
  assert.equal(m.stopPolling(7n), true);
  m.startPolling(new String("boxed"), {});
  assert.equal(m.isPolling("boxed"), true);

  const result = await pollFileCompletion(456, { ...quick });
  assert.equal(result.success, true, JSON.stringify(result));
  assert.ok(fetch.calls.includes("/api/file/456"), String(fetch.calls));

  const errors = [];
  for (const id of [undefined, null, { id: 1 }, NaN, Symbol("x")]) m.startPolling(id, { onError: (e) => errors.push(e.kind) });
  await until(() => errors.length === 5);
  assert.deepEqual(errors, Array(5).fill("invalid_id"));
  const missing = await pollFileCompletion(undefined, { ...quick });
  assert.equal(missing.failure?.kind, "invalid_id", JSON.stringify(missing));
  // the words say what was given
  const rule = "Invalid id: expected 1-128 characters of A-Z, a-z, 0-9, _ or -";
  assert.equal(missing.error, `${rule} (got none: undefined, null, an object or "")`);
  const slash = await new Promise((resolve) => m.startPolling("a/b", { onError: (e) => resolve(e.message) }));
  assert.equal(slash, `${rule} (got "a/b")`);
  assert.equal(smartPollingManager.isPolling(99), false);
  assert.equal(smartPollingManager.stopPolling(99), false);
});

test("an answer nested deeper than any record is unreadable, not a stack overflow through the module", async (t) => {
  const original = globalThis.fetch;
  t.after(() => (globalThis.fetch = original));
  const deep = "[".repeat(200_000) + "]".repeat(200_000);
  globalThis.fetch = async (url) =>
    new Response(url.includes("/deep") ? `{"id":"x","url":${deep}}` : JSON.stringify({ id: "ok", url: "https://cdn.example/ok.png" }));
  const m = new PollingManager({ fileUrl: "http://api.example/file/{id}", eventsUrl: null, ...quick });
  t.after(() => m.free());
  const retries = [];
  m.startPolling("deep", { onRetry: (e) => retries.push(e.kind) }, { maxAttempts: 3 });
  await until(() => retries.length >= 2);
  assert.deepEqual(retries.slice(0, 2), ["invalid_response", "invalid_response"]);
  const done = [];
  m.startPolling("ok", { onComplete: (r) => done.push(r.url) });
  await until(() => done.length === 1);
});

test("a page promise whose then throws, and a console that throws, fail that call only; every other job goes on", async (t) => {
  const original = globalThis.fetch;
  const originalError = console.error;
  t.after(() => ((globalThis.fetch = original), (console.error = originalError)));
  globalThis.fetch = (url) => {
    if (url.includes("/odd")) {
      const p = Promise.resolve(new Response("{}"));
      p.then = () => { throw new TypeError("then is broken"); };
      return p;
    }
    return Promise.resolve(new Response(JSON.stringify({ id: "ok", url: "https://cdn.example/ok.png" })));
  };
  // Like vitest-fail-on-console: an error on the console throws.
  console.error = () => { throw new Error("console.error called"); };
  const m = new PollingManager({ fileUrl: "http://api.example/file/{id}", eventsUrl: null, ...quick });
  t.after(() => m.free());
  const odd = [];
  m.startPolling("odd", { onRetry: (e) => odd.push([e.kind, e.message]) });
  await until(() => odd.length >= 2);
  assert.equal(odd[0][0], "network");
  assert.match(odd[0][1], /then is broken/);
  const done = [];
  m.startPolling("ok", { onUpdate: () => { throw new Error("a callback throws"); }, onComplete: (r) => done.push(r.url) });
  await until(() => done.length === 1);
  const checked = await smartPollingManager.startPolling("after-odd", () => ({ completed: true }), { maxDuration: 2000 });
  assert.equal(checked.success, true);
});

test("an EventSource stand-in that refuses its handlers (frozen) is a refused stream: the job polls", async (t) => {
  const originalFetch = globalThis.fetch;
  const originalES = globalThis.EventSource;
  t.after(() => ((globalThis.fetch = originalFetch), (globalThis.EventSource = originalES)));
  globalThis.fetch = async () => new Response(JSON.stringify({ id: "s", url: "https://cdn.example/s.png" }));
  globalThis.EventSource = function () { return Object.freeze({ close() {} }); };
  const m = new PollingManager({ fileUrl: "http://api.example/file/{id}", eventsUrl: "http://api.example/events/{id}", ...quick });
  t.after(() => m.free());
  const done = [];
  m.startPolling("s", { onComplete: (r) => done.push(r.url) });
  await until(() => done.length === 1);
  assert.deepEqual(done, ["https://cdn.example/s.png"]);
});
