// What the manual (npm/README.md) promises at the JS level, on the shipped
// entry (pkg/index.js) against an in-process fetch:
// - configuration mistakes are a RangeError at the call: the manager's
//   methods and configureDefaults throw it, the module's helpers (which may
//   load the module first) reject with it;
// - the Promise form: `maxAttempts` ends a job as method "timeout"; by
//   default it gives up after 5 errors in a row (a manager's job does not);
// - callbacks: none runs inside startPolling, each is looked up on its
//   object when it is due, and one that throws is reported with
//   console.error("smart-polling: the onUpdate callback threw", error) and changes
//   nothing else.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { before, test } from "node:test";

import {
  configureDefaults,
  initSync,
  PollingManager,
  pollFileCompletion,
  pollProjectCompletion,
  smartPollingManager,
} from "../../pkg/index.js";
import { mockFetch, sleep, until } from "./support.mjs";

before(() => {
  initSync({ module: readFileSync(new URL("../../pkg/smart_polling_bg.wasm", import.meta.url)) });
});

/** Fast, exact waits. */
const quick = { intervals: [20], initialDelay: 10, maxDelay: 50, jitter: 0 };

function manager(t, extra = {}) {
  const m = new PollingManager({ fileUrl: "http://api.example/file/{id}", eventsUrl: null, ...quick, ...extra });
  t.after(() => m.free());
  return m;
}

function fetchFor(t, options) {
  const fetch = mockFetch(options);
  t.after(fetch.restore);
  return fetch;
}

const rangeError = (name) => (e) => e instanceof RangeError && e.message.includes(name);

test("an invalid or unknown option is a RangeError at the call: thrown by the manager's methods, a rejection of the helpers", async (t) => {
  const fetch = fetchFor(t);
  assert.throws(() => new PollingManager({ timeout: -1 }), rangeError("timeout"));
  assert.throws(() => new PollingManager({ timeOut: 1 }), rangeError('did you mean "timeout"'));
  const m = manager(t);
  assert.throws(() => m.startPolling("ok-1", {}, { maxAttempts: 0 }), rangeError("maxAttempts"));
  assert.throws(() => m.startProjectPolling("ok-1", {}, { intervall: [5] }), rangeError('did you mean "intervals"'));
  assert.throws(() => m.pollFileCompletion("ok-1", { timeout: -1 }), rangeError("timeout"));
  assert.throws(() => m.pollProjectCompletion("ok-1", { timeOut: 1 }), rangeError('did you mean "timeout"'));
  assert.throws(() => configureDefaults({ maxStreams: 99 }), rangeError("maxStreams"));
  await assert.rejects(pollFileCompletion("ok-2", { timeout: -1 }), rangeError("timeout"));
  await assert.rejects(pollProjectCompletion("ok-2", { maxDurration: 5 }), rangeError('did you mean "maxDuration"'));
  await assert.rejects(
    smartPollingManager.startPolling("ok-3", () => ({ completed: true }), { jitter: 2 }),
    rangeError("jitter"),
  );
  // a manager option or a callback among a job's options: where it goes
  const exact = (message) => (e) => e instanceof RangeError && e.message === message;
  assert.throws(
    () => m.startPolling("ok-4", {}, { fileUrl: "/api/v2/file/{id}" }),
    exact('"fileUrl" is a manager option: pass it to new PollingManager({ ... }), or to configureDefaults() for the Promise helpers'),
  );
  assert.throws(
    () => m.startPolling("ok-4", {}, { onComplete() {} }),
    exact("\"onComplete\" is a callback: pass it in startPolling's callbacks (its second argument), not its options"),
  );
  await assert.rejects(
    pollFileCompletion("ok-5", { onComplete() {} }),
    exact("\"onComplete\" is not taken here: a Promise helper's outcome is its promise (its options take onUpdate, onProgress and onError)"),
  );
  await assert.rejects(pollFileCompletion("ok-5", { debug: true }), exact('"debug" is a manager option: pass it to new PollingManager({ ... }), or to configureDefaults() for the Promise helpers'));
  assert.equal(m.activeCount, 0, "nothing started");
  assert.equal(smartPollingManager.isPolling("file-ok-2"), false);
  assert.deepEqual(fetch.calls, [], "nothing requested");
});

test("the Promise form: maxAttempts ends the job as method timeout (failure max_attempts)", async (t) => {
  const fetch = fetchFor(t);
  const result = await pollFileCompletion("pending-ma", { ...quick, maxAttempts: 3 });
  assert.equal(result.success, false);
  assert.equal(result.method, "timeout");
  assert.equal(result.failure.kind, "max_attempts");
  assert.equal(result.attempts, 3);
  assert.equal(fetch.count("pending-ma"), 3);
});

test("the Promise form gives up after 5 errors in a row by default; a manager's job has no such limit", async (t) => {
  const fetch = fetchFor(t);
  const result = await pollFileCompletion("down-1", quick);
  assert.equal(result.success, false);
  assert.equal(result.method, "error");
  assert.equal(result.failure.kind, "server");
  assert.equal(result.failure.retryable, true, "the last of the errors in a row, transient");
  assert.equal(result.attempts, 5);
  assert.equal(fetch.count("down-1"), 5);

  const m = manager(t);
  const ended = [];
  m.startPolling("down-2", { onComplete: () => ended.push("complete"), onError: (e) => ended.push(e.kind) });
  await until(() => fetch.count("down-2") >= 8, { what: "eight failed requests" });
  assert.deepEqual(ended, [], "still polling after 8 errors in a row");
  assert.equal(m.stopPolling("down-2"), true);
});

test("a checker that answers no object (it forgot to return) is an error of each attempt, not a silent wait", async () => {
  const said = [];
  let checks = 0;
  const forgot = async () => {
    checks++;
  };
  const result = await smartPollingManager.startPolling("forgot-1", forgot, {
    ...quick,
    maxConsecutiveErrors: 3,
    onError: (e, attempt) => said.push([e.message, attempt]),
  });
  const message = "The check failed: the checker resolved with undefined, not { completed, data?, error?, shouldContinue? }";
  assert.equal(result.success, false);
  assert.equal(result.method, "error", "given up after maxConsecutiveErrors, as the old module did");
  assert.equal(result.error, message);
  assert.equal(result.failure.kind, "check_failed");
  assert.equal(result.attempts, 3);
  assert.equal(checks, 3);
  assert.deepEqual(
    said.map(([m]) => m),
    [message, message],
    "onError hears the attempts before the last",
  );
  // what it did answer is named: a boolean, a string
  const yes = await smartPollingManager.startPolling("forgot-2", () => true, { ...quick, maxConsecutiveErrors: 1 });
  assert.equal(yes.error, "The check failed: the checker resolved with true, not { completed, data?, error?, shouldContinue? }");
  const text = await smartPollingManager.startPolling("forgot-3", () => "done", { ...quick, maxConsecutiveErrors: 1 });
  assert.match(text.error, /resolved with "done", not \{ completed/);
  // an array has no `completed` either; a page's text is cut for the UI
  const list = await smartPollingManager.startPolling("forgot-4", () => [1, 2], { ...quick, maxConsecutiveErrors: 1 });
  assert.match(list.error, /resolved with \[1,2\], not \{ completed/);
  const page = "<!doctype html>" + "x".repeat(5000);
  const html = await smartPollingManager.startPolling("forgot-5", () => page, { ...quick, maxConsecutiveErrors: 1 });
  assert.equal(
    html.error,
    `The check failed: the checker resolved with ${JSON.stringify(page).slice(0, 60)}…, not { completed, data?, error?, shouldContinue? }`,
  );
});

test("a checker that answers shouldContinue: false fails the job with its own message, as generation_failed", async () => {
  let checks = 0;
  const result = await smartPollingManager.startPolling(
    "stop-1",
    async () => (++checks < 2 ? { completed: false } : { completed: false, error: "quota", shouldContinue: false }),
    quick,
  );
  assert.equal(checks, 2, "no check after it");
  assert.equal(result.success, false);
  assert.equal(result.method, "error");
  assert.equal(result.error, "quota");
  assert.equal(result.failure.kind, "generation_failed");
  assert.equal(result.failure.retryable, false);
});

test("a 503's Retry-After is waited out beyond the backoff, for the manager and the Promise form", async (t) => {
  const realFetch = globalThis.fetch;
  t.after(() => (globalThis.fetch = realFetch));
  const sent = new Map(); // id -> request times
  globalThis.fetch = (input) => {
    const id = String(input).split("/").pop();
    const times = sent.get(id) ?? [];
    times.push(Date.now());
    sent.set(id, times);
    return times.length === 1
      ? new Response("", { status: 503, headers: { "retry-after": "1" } })
      : new Response(JSON.stringify({ id, url: `https://cdn/${id}.png` }), { status: 200 });
  };
  const m = manager(t, { shareAcrossTabs: false });
  const retries = [];
  let done = null;
  m.startPolling("maint-1", { onRetry: (e, delay) => retries.push([e.kind, e.status, e.message, delay]), onComplete: (r) => (done = r) }, quick);
  const helper = m.pollFileCompletion("maint-2", quick);
  await until(() => done);
  assert.equal((await helper).success, true);
  assert.deepEqual(retries, [["server", 503, "Server error (HTTP 503)", 1000]], "the server's second, not the 10 ms backoff");
  for (const id of ["maint-1", "maint-2"]) {
    const [first, second] = sent.get(id);
    assert.ok(second - first >= 950, `${id}: the second request ${second - first} ms after the first`);
  }
});

test("an unreadable answer's and a 408's error carry the status; a request timeout of our own has none; debug shows the body", async (t) => {
  const answers = [
    () => new Response("<!doctype html><p>Sign in</p>", { status: 200 }),
    () => new Response("", { status: 408 }),
    () => Promise.reject(new TypeError("Failed to fetch")),
    () => new Promise(() => {}), // never answers: requestTimeout
    () => new Response("{\"url\":\"https://cdn/x.png\"}", { status: 200 }),
  ];
  let n = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = () => answers[Math.min(n++, answers.length - 1)]();
  const logs = [];
  const realLog = console.log;
  console.log = (...a) => logs.push(a.join(" "));
  t.after(() => {
    globalThis.fetch = realFetch;
    console.log = realLog;
  });
  const m = manager(t, { debug: true, requestTimeout: 50, shareAcrossTabs: false });
  const retries = [];
  let done = null;
  m.startPolling("status-1", { onRetry: (e) => retries.push([e.kind, e.status, e.message]), onComplete: (r) => (done = r) });
  await until(() => done);
  console.log = realLog;
  assert.deepEqual(retries, [
    [
      "invalid_response",
      200,
      "The server sent an unreadable response: an HTML page, not JSON (a sign-in page, or a url that names a page rather than the API?)",
    ],
    ["request_timeout", 408, "The request timed out"],
    ["network", undefined, "Could not reach the server: Failed to fetch"],
    // nothing said of an earlier request sticks to this one's error
    ["request_timeout", undefined, "The request timed out"],
  ]);
  assert.ok(
    logs.some((l) => l.includes("status-1 response not understood: HTTP 200, body: <!doctype html><p>Sign in</p>")),
    logs.join("\n"),
  );
  // the Promise form's failure says the same
  globalThis.fetch = () => new Response("not json", { status: 200 });
  const r = await pollFileCompletion("status-2", { ...quick, maxConsecutiveErrors: 1 });
  assert.equal(r.failure.kind, "invalid_response");
  assert.equal(r.failure.status, 200);
});

test("a timeout says what kept the job from its result: its requests failing (the last error's kind and status)", async (t) => {
  const realFetch = globalThis.fetch;
  t.after(() => (globalThis.fetch = realFetch));
  const ended = (m, id) =>
    new Promise((resolve) => m.startPolling(id, { onError: (e) => resolve([e.kind, e.status, e.message]) }));
  globalThis.fetch = () => new Response("", { status: 503 });
  assert.deepEqual(await ended(manager(t, { timeout: 200, shareAcrossTabs: false }), "erring-1"), [
    "timeout",
    503,
    "Polling timed out while its requests were failing; the last: Server error (HTTP 503)",
  ]);
  globalThis.fetch = () =>
    Promise.reject(new TypeError("request to http://api.example/file/erring-2?token=SECRET failed, reason: ECONNREFUSED"));
  assert.deepEqual(await ended(manager(t, { timeout: 200, shareAcrossTabs: false }), "erring-2"), [
    "timeout",
    undefined,
    // what fetch said, its query cut off (a token may be in it)
    "Polling timed out while its requests were failing; the last: Could not reach the server: request to http://api.example/file/erring-2?… failed, reason: ECONNREFUSED",
  ]);
  // the last request still out at the deadline: the error before it, in its words
  let k = 0;
  globalThis.fetch = () => (k++ === 0 ? Promise.reject(new TypeError("Failed to fetch")) : new Promise(() => {}));
  assert.deepEqual(await ended(manager(t, { timeout: 200, requestTimeout: 10000, shareAcrossTabs: false }), "erring-out"), [
    "timeout",
    undefined,
    "Polling timed out while its requests were failing; the last: Could not reach the server: Failed to fetch",
  ]);
  // an answer after the errors: a plain timeout
  let n = 0;
  globalThis.fetch = () => (n++ === 0 ? new Response("", { status: 503 }) : new Response("{}", { status: 200 }));
  assert.deepEqual(await ended(manager(t, { timeout: 200, shareAcrossTabs: false }), "erring-3"), ["timeout", undefined, "Polling timed out"]);
  // the Promise form says the same
  globalThis.fetch = () => new Response("", { status: 502 });
  const r = await pollFileCompletion("erring-4", { ...quick, maxDuration: 200, maxConsecutiveErrors: 1000 });
  assert.equal(r.method, "timeout");
  assert.equal(r.error, "Polling timed out while its requests were failing; the last: Server error (HTTP 502)");
  assert.equal(r.failure.status, 502);
});

test("a 404 that is an HTML page says no API route may answer the url (a basePath left out of fileUrl); a JSON 404 is 'not ready yet'", async (t) => {
  const realFetch = globalThis.fetch;
  t.after(() => (globalThis.fetch = realFetch));
  globalThis.fetch = () =>
    new Response("<!DOCTYPE html><h1>404: This page could not be found.</h1>", { status: 404, headers: { "Content-Type": "text/html; charset=utf-8" } });
  const m = manager(t, { maxNotFound: 2, shareAcrossTabs: false, fileUrl: "http://app.example/api/file/{id}?key=SECRET" });
  const retries = [];
  const end = await new Promise((resolve) =>
    m.startPolling("html-404", { onRetry: (e) => retries.push(e.message), onError: (e) => resolve([e.kind, e.status, e.message]) }),
  );
  const words =
    "Not found (HTTP 404), and the answer was an HTML page: no API route may answer http://app.example/api/file/html-404?… " +
    "(check fileUrl and projectUrl: a basePath or base the app is served under is not in the defaults)";
  assert.deepEqual(retries, [words]);
  assert.deepEqual(end, ["not_found", 404, words]);
  globalThis.fetch = () => new Response("{}", { status: 404, headers: { "Content-Type": "application/json" } });
  const plain = await new Promise((resolve) =>
    manager(t, { maxNotFound: 1, shareAcrossTabs: false }).startPolling("json-404", { onError: (e) => resolve(e.message) }),
  );
  assert.equal(plain, "Not found (HTTP 404): the server has no record with this id (yet)");
});

test("a record whose url is not a web address (a number, javascript:) fails the job as invalid_url, in words that cover both", async (t) => {
  const realFetch = globalThis.fetch;
  t.after(() => (globalThis.fetch = realFetch));
  const m = manager(t, { shareAcrossTabs: false });
  for (const url of [42, "javascript:alert(1)"]) {
    globalThis.fetch = () => Response.json({ id: "u", url, tasks: [{ status: "completed" }] });
    const heard = await new Promise((resolve) =>
      m.startPolling(`bad-url-${typeof url}`, { onUpdate: () => resolve("the record reached the page"), onError: (e) => resolve([e.kind, e.message]) }),
    );
    assert.deepEqual(heard, ["invalid_url", "A url in the record is neither an http(s) nor a relative url"], String(url));
  }
});

test("a Promise helper (any number of 404s) that meets HTML 404 pages until its deadline says so when it times out; JSON 404s leave the timeout plain", async (t) => {
  const realFetch = globalThis.fetch;
  t.after(() => (globalThis.fetch = realFetch));
  globalThis.fetch = () => new Response("<!DOCTYPE html><h1>404</h1>", { status: 404, headers: { "Content-Type": "text/html" } });
  const page = await pollFileCompletion("html-late", { ...quick, maxDuration: 200 });
  assert.equal(page.method, "timeout");
  assert.equal(
    page.error,
    "Polling timed out; the last answer: Not found (HTTP 404), and the answer was an HTML page: no API route may answer /api/file/html-late " +
      "(check fileUrl and projectUrl: a basePath or base the app is served under is not in the defaults)",
  );
  assert.deepEqual([page.failure.kind, page.failure.status], ["timeout", 404]);
  assert.ok(page.attempts > 1, "it polled on: a 404 is 'not yet' to the helpers");
  globalThis.fetch = () => new Response("{}", { status: 404, headers: { "Content-Type": "application/json" } });
  const json = await pollFileCompletion("json-late", { ...quick, maxDuration: 200 });
  assert.deepEqual([json.method, json.error, json.failure.status], ["timeout", "Polling timed out", undefined]);
});

test("a joiner that leaves on its own maxConsecutiveErrors hears the status and words of the error it leaves on", async (t) => {
  const realFetch = globalThis.fetch;
  globalThis.fetch = () => new Response("<!doctype html><p>Sign in</p>", { status: 200 });
  t.after(() => (globalThis.fetch = realFetch));
  const m = manager(t, { shareAcrossTabs: false });
  const first = [];
  const joiner = [];
  m.startPolling("join-1", { onRetry: (e) => first.push([e.kind, e.status]) });
  m.startPolling("join-1", { onError: (e) => joiner.push([e.kind, e.status, e.message]) }, { maxConsecutiveErrors: 1 });
  await until(() => joiner.length > 0);
  assert.deepEqual(joiner, [["invalid_response", 200, "The server sent an unreadable response: an HTML page, not JSON (a sign-in page, or a url that names a page rather than the API?)"]]);
  assert.equal(m.isPolling("join-1"), true, "the job goes on for the first caller");
  assert.deepEqual(first[0], ["invalid_response", 200]);
});

test("getPollingStatus's lastError is what the checker threw, as its failure's, while the next call is out too", async () => {
  let calls = 0;
  let release;
  const pending = smartPollingManager.startPolling(
    "words-1",
    async () => {
      if (++calls === 1) throw new Error("db down");
      await new Promise((resolve) => (release = resolve)); // the second call hangs
      return { completed: true, data: 1 };
    },
    { ...quick, maxConsecutiveErrors: 50 },
  );
  await until(() => calls === 2);
  const status = smartPollingManager.getPollingStatus().find((s) => s.pollId === "words-1");
  assert.equal(status.lastError, "db down");
  release();
  assert.equal((await pending).success, true);
});

test("getPollingStatus's lastError is cleared by the next answer, as in the old module", async () => {
  let calls = 0;
  let status;
  const result = await smartPollingManager.startPolling(
    "words-2",
    async () => {
      calls += 1;
      if (calls === 1) throw new Error("db down");
      if (calls === 3) status = smartPollingManager.getPollingStatus().find((s) => s.pollId === "words-2");
      return calls < 4 ? { completed: false } : { completed: true, data: 1 };
    },
    { ...quick, maxConsecutiveErrors: 50 },
  );
  assert.equal(result.success, true);
  assert.equal(status.attempts, 3);
  assert.equal(status.lastError, undefined, JSON.stringify(status));
});

test("a checker's { completed: false, error } is told to onError and polling goes on, counting no error (the old module's rule)", async () => {
  let calls = 0;
  const told = [];
  const result = await smartPollingManager.startPolling(
    "told-1",
    async () => (++calls <= 4 ? { completed: false, error: `stalled ${calls}` } : { completed: true }),
    { ...quick, maxConsecutiveErrors: 2, onError: (e, attempt) => told.push([e instanceof Error, e.message, e.kind, attempt]) },
  );
  assert.equal(result.success, true, JSON.stringify(result));
  assert.equal(result.attempts, 5);
  assert.equal("data" in result, false, "completed without data: none, as the old module");
  assert.deepEqual(told, [1, 2, 3, 4].map((n) => [true, `stalled ${n}`, "check_failed", n]));
});

test("a thrown error without a status whose message says 429 or rate limit is a rate limit, not an error", async () => {
  let calls = 0;
  const told = [];
  const result = await smartPollingManager.startPolling(
    "limited-1",
    async () => {
      if (++calls <= 3) throw new Error(calls === 2 ? "rate limit exceeded" : "HTTP 429: Too Many Requests");
      return { completed: true, data: "ok" };
    },
    { ...quick, maxConsecutiveErrors: 2, onError: (e) => told.push(e.kind) },
  );
  assert.equal(result.success, true, JSON.stringify(result));
  assert.deepEqual(told, ["rate_limited", "rate_limited", "rate_limited"]);
});

test("in the Promise form a 429 that names no wait backs off as the old module's did, not for rateLimitDelay's 60 s", async () => {
  // A short check (the hooks' 10 s one) must outlive a 429: 1 s, then 2 s.
  let calls = 0;
  const waits = [];
  const result = await smartPollingManager.startPolling(
    "limited-2",
    async () => {
      if (++calls <= 2) throw { status: 429, message: "Rate limited" };
      return { completed: true, data: "ok" };
    },
    { maxDuration: 10_000, jitter: 0, onError: (e) => waits.push(e.kind) },
  );
  assert.equal(result.success, true, JSON.stringify(result));
  assert.equal(result.attempts, 3);
  assert.ok(result.duration >= 3000 && result.duration < 4500, `1 s, then 2 s: ${result.duration} ms`);
  assert.deepEqual(waits, ["rate_limited", "rate_limited"]);
});

test("a thrown object with an HTTP status is that answer's error, in the thrown error's words", async () => {
  let calls = 0;
  const told = [];
  const result = await smartPollingManager.startPolling(
    "thrown-500",
    async () => {
      if (++calls <= 2) throw Object.assign(new Error("HTTP 500 from the API"), { status: 500 });
      return { completed: true, data: 1 };
    },
    { ...quick, onError: (e) => told.push([e.message, e.kind, e.status]) },
  );
  assert.equal(result.success, true, JSON.stringify(result));
  assert.deepEqual(told, [["HTTP 500 from the API", "server", 500], ["HTTP 500 from the API", "server", 500]]);
});

test("a thrown error whose response has the status (axios before 1.7, ky) is that answer's error: a 401 ends the check at once", async () => {
  let calls = 0;
  const result = await smartPollingManager.startPolling(
    "response-401",
    async () => {
      calls++;
      throw Object.assign(new Error("Request failed with status code 401"), { response: { status: 401, headers: {} } });
    },
    quick,
  );
  assert.equal(calls, 1, "not retried as a failed check");
  assert.equal(result.failure.kind, "unauthorized");
  assert.equal(result.failure.status, 401);
  assert.equal(result.error, "Request failed with status code 401");
});

test("the Promise form's onError carries what the checker threw as its cause (an axios-style error's response stays readable)", async () => {
  let calls = 0;
  const thrown = Object.assign(new Error("Request failed with status code 503"), { status: 503, response: { status: 503, data: { detail: "busy" } } });
  const told = [];
  const result = await smartPollingManager.startPolling(
    "cause-1",
    async () => {
      calls++;
      if (calls === 1) throw thrown;
      if (calls === 2) return { completed: false, error: "stalled" };
      return { completed: true, data: 1 };
    },
    { ...quick, onError: (e) => told.push(e) },
  );
  assert.equal(result.success, true, JSON.stringify(result));
  assert.equal(told.length, 2);
  assert.equal(told[0].cause, thrown, "the very object thrown");
  assert.equal(told[0].cause.response.data.detail, "busy");
  assert.deepEqual([told[0].message, told[0].kind, told[0].status], ["Request failed with status code 503", "server", 503]);
  assert.equal("cause" in told[1], false, "a told error was not thrown: no cause");
});

test("a short check joining a slow poll of the same file polls at once and sees the result (the old module's new call did)", async (t) => {
  const fetch = fetchFor(t, { doneAfter: 2 }); // ready at the second request
  const slow = pollFileCompletion("check-join", { intervals: [5000], maxDuration: 20_000 });
  await until(() => fetch.count("check-join") === 1);
  const started = Date.now();
  const check = await pollFileCompletion("check-join", { maxDuration: 2000, initialInterval: 1000 });
  assert.equal(check.success, true, JSON.stringify(check));
  assert.ok(Date.now() - started < 1500, `within a turn, not at the slow schedule's 5 s: ${Date.now() - started} ms`);
  assert.equal(fetch.count("check-join"), 2, "one request more, not a second schedule");
  assert.equal((await slow).success, true);
});

test("with the module loaded, a Promise helper's job starts in the call: getPollingStatus lists it at once, a stop at once wins", async (t) => {
  const fetch = fetchFor(t);
  const file = pollFileCompletion("pending-now", quick);
  const check = smartPollingManager.startPolling("check-now", () => ({ completed: false }), quick);
  const listed = smartPollingManager.getPollingStatus().map((s) => [s.pollId, s.attempts]);
  assert.deepEqual(listed.sort(), [["check-now", 0], ["file-pending-now", 0]]);
  assert.equal(smartPollingManager.isPolling("file-pending-now"), true);
  assert.equal(smartPollingManager.stopPolling("file-pending-now"), true);
  assert.equal(smartPollingManager.stopPolling("check-now"), true);
  assert.equal((await file).failure.kind, "stopped");
  assert.equal((await check).failure.kind, "stopped");
  assert.deepEqual(smartPollingManager.getPollingStatus(), []);
  assert.equal(fetch.count("pending-now"), 0, "stopped before its first request");
});

test("no callback runs inside startPolling, not even for an invalid id or a joined job", async (t) => {
  fetchFor(t);
  const m = manager(t);
  let inside = false;
  const heard = [];
  const callbacks = Object.fromEntries(
    ["onUpdate", "onProgress", "onRetry", "onComplete", "onError"].map((name) => [name, () => heard.push([name, inside])]),
  );
  inside = true;
  m.startPolling("done-in", callbacks);
  m.startPolling("done-in", callbacks); // joins the job just started
  m.startPolling("../bad", callbacks); // reported to onError: later
  inside = false;
  // refused, so not polling, though its error is told at the next turn
  assert.equal(m.isPolling("../bad"), false);
  assert.equal(m.activeCount, 1);
  assert.deepEqual(m.getPollingStatus().map((p) => p.fileId), ["done-in"]);
  await until(() => heard.filter(([n]) => n === "onComplete" || n === "onError").length === 3, { what: "three outcomes" });
  assert.deepEqual(heard.filter(([, during]) => during), [], "called inside startPolling");
  assert.deepEqual(
    heard.filter(([n]) => n === "onComplete" || n === "onError").map(([n]) => n).sort(),
    ["onComplete", "onComplete", "onError"],
  );
});

test("callbacks are looked up on their object when due: one added or replaced after the start is heard", async (t) => {
  fetchFor(t, { doneAfter: 3 });
  const m = manager(t);
  const heard = [];
  const card = { onProgress: () => heard.push("old progress") };
  m.startPolling("done-late", card);
  // No callback ran yet (none runs inside startPolling): these are the ones
  // the job finds when its callbacks are due.
  card.onProgress = function () {
    heard.push(this === card ? "progress" : "progress, not as a method of its object");
  };
  card.onComplete = (record) => heard.push(`complete ${record.url}`);
  await until(() => heard.some((h) => h.startsWith("complete")), { what: "the completion" });
  assert.ok(heard.includes("progress"));
  assert.ok(!heard.includes("old progress"), "the replaced method is never called");
  assert.deepEqual(heard.filter((h) => h.startsWith("complete")), ["complete https://cdn.example/done-late.png"]);
});

test("a callback that throws is reported on the console by its name and changes nothing else", async (t) => {
  fetchFor(t, { doneAfter: 3 });
  const m = manager(t);
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args);
  t.after(() => {
    console.error = original;
  });
  const boom = new Error("a bug in the page (expected by the test)");
  const seen = { updates: 0, complete: [], errors: [] };
  m.startPolling("done-throw", {
    onUpdate: () => {
      seen.updates++;
      throw boom;
    },
    onComplete: (r) => {
      seen.complete.push(r.url);
      throw boom;
    },
    onError: (e) => seen.errors.push(e.kind),
  });
  await until(() => seen.complete.length === 1, { what: "the completion" });
  await sleep(10 * quick.intervals[0]); // proving an absence: a second outcome
  console.error = original;
  assert.equal(seen.updates, 2, "pending, then done");
  assert.deepEqual(seen.complete, ["https://cdn.example/done-throw.png"]);
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(
    logged.map(([first]) => first),
    ["smart-polling: the onUpdate callback threw", "smart-polling: the onUpdate callback threw", "smart-polling: the onComplete callback threw"],
    "one report per throw, naming the callback",
  );
  for (const args of logged) assert.equal(args[1], boom, "with the error thrown");
});

test("an async callback that rejects is reported like one that throws, not left an unhandled rejection (which ends a Node process)", async (t) => {
  fetchFor(t, { doneAfter: 3 });
  const m = manager(t);
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args);
  const unhandled = [];
  const onUnhandled = (reason) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  t.after(() => {
    console.error = original;
    process.off("unhandledRejection", onUnhandled);
  });
  const boom = new Error("an async bug in the page (expected by the test)");
  const seen = { updates: 0, complete: [] };
  m.startPolling("done-async", {
    onUpdate: async () => {
      seen.updates++;
      throw boom;
    },
    onComplete: async (r) => {
      seen.complete.push(r.url);
      await sleep(1);
      throw boom;
    },
  });
  // The Promise form's old-module callbacks too: onProgress before each attempt.
  const helper = m.pollFileCompletion("done-async-2", { ...quick, onProgress: async () => Promise.reject(boom) });
  assert.equal((await helper).success, true);
  await until(() => seen.complete.length === 1, { what: "the completion" });
  await sleep(10 * quick.intervals[0]);
  console.error = original;
  assert.equal(seen.updates, 2, "pending, then done: the job went on");
  assert.deepEqual(unhandled, []);
  const names = logged.map(([first]) => first);
  assert.deepEqual(
    names.filter((n) => !n.includes("onProgress")),
    ["smart-polling: the onUpdate callback threw", "smart-polling: the onUpdate callback threw", "smart-polling: the onComplete callback threw"],
  );
  assert.equal(names.filter((n) => n === "smart-polling: the onProgress callback threw").length, 3, "one per attempt");
  for (const args of logged) assert.equal(args[1], boom, "with the rejection's reason");
  // A promise whose `then` throws (a Proxy of one) is reported as a throw,
  // and async callbacks after it are still heard.
  logged.length = 0;
  console.error = (...args) => logged.push(args);
  const done = [];
  m.startPolling("done-proxy", {
    onUpdate: () => new Proxy(Promise.resolve(), {}),
    onComplete: async () => {
      done.push(1);
      throw boom;
    },
  });
  await until(() => done.length === 1 && logged.length === 3, { what: "the completion's report" });
  console.error = original;
  assert.deepEqual(
    logged.map(([first, e]) => [first, e === boom ? "boom" : e?.constructor?.name]),
    [
      ["smart-polling: the onUpdate callback threw", "TypeError"],
      ["smart-polling: the onUpdate callback threw", "TypeError"],
      ["smart-polling: the onComplete callback threw", "boom"],
    ],
  );
  assert.deepEqual(unhandled, []);
});

test("stopPolling(pollId) stops every job under that poll id: the helper's project job and a checker started under the same name", async (t) => {
  configureDefaults({ projectUrl: "http://api.example/project/{id}", eventsUrl: null, shareAcrossTabs: false });
  t.after(() => configureDefaults({}));
  fetchFor(t, { doneAfter: 1000 }); // pending for the whole test
  const helper = pollProjectCompletion("same-1", quick);
  const checker = smartPollingManager.startPolling("project-same-1", () => ({ completed: false }), quick);
  await until(() => smartPollingManager.getPollingStatus().filter((s) => s.pollId === "project-same-1").length === 2, { what: "both jobs" });
  assert.equal(smartPollingManager.stopPolling("project-same-1"), true);
  assert.equal(smartPollingManager.isPolling("project-same-1"), false, "neither runs on");
  assert.deepEqual(smartPollingManager.getPollingStatus().filter((s) => s.pollId === "project-same-1"), []);
  const [a, b] = await Promise.all([helper, checker]);
  assert.equal(a.failure?.kind, "stopped", JSON.stringify(a));
  assert.equal(b.failure?.kind, "stopped", JSON.stringify(b));
  assert.equal(smartPollingManager.stopPolling("project-same-1"), false, "nothing left to stop");
});

test("pollProjectCompletion resolves with { url, projectId, ...value }: the value's own fields after, and over, the two", async (t) => {
  configureDefaults({ projectUrl: "http://api.example/project/{id}", eventsUrl: null, shareAcrossTabs: false });
  t.after(() => configureDefaults({}));
  const original = globalThis.fetch;
  t.after(() => (globalThis.fetch = original));
  const record = {
    id: "p1",
    data: [
      null,
      { type: "image", value: { url: "https://cdn.example/p1.png", contentType: "image/png", projectId: "from-value", __proto__x: 1 } },
    ],
    tasks: [{ status: "COMPLETED" }],
  };
  globalThis.fetch = async () => new Response(JSON.stringify(record), { status: 200, headers: { "content-type": "application/json" } });
  const result = await pollProjectCompletion("p1", quick);
  assert.equal(result.success, true, JSON.stringify(result));
  assert.deepEqual(Object.keys(result.data), ["url", "projectId", "contentType", "__proto__x"]);
  assert.equal(result.data.projectId, "from-value", "the value's own projectId wins, as in the old module's spread");
  assert.equal(result.data.url, "https://cdn.example/p1.png");
});

test("the fetch mocks of a test suite written for the old module work as they did: { ok, json } with no status or headers, plain-object headers", async (t) => {
  const realFetch = globalThis.fetch;
  t.after(() => (globalThis.fetch = realFetch));
  const record = (id, done) => ({ id, url: done ? `https://cdn.example/${id}.png` : null, type: "image" });
  const calls = new Map();
  // What the old module read: `status` (404, 429), `ok`, `headers.get`, `json()`.
  const shapes = {
    "json-ok": (id, n) => ({ ok: true, json: async () => record(id, n > 1) }),
    "json-status": (id, n) => ({ ok: true, status: 200, json: async () => record(id, n > 1) }),
    "plain-headers": (id, n) =>
      n === 1
        ? { ok: false, status: 429, headers: { "retry-after": "1" }, json: async () => ({}) }
        : { ok: true, status: 200, headers: { "content-type": "application/json" }, json: async () => record(id, true) },
  };
  globalThis.fetch = async (url) => {
    const id = String(url).split("/").pop();
    const n = (calls.get(id)?.length ?? 0) + 1;
    calls.set(id, [...(calls.get(id) ?? []), performance.now()]);
    return shapes[id](id, n);
  };
  const m = manager(t);
  const run = (id) =>
    new Promise((resolve) => m.startPolling(id, { onComplete: (r) => resolve(r.url), onError: (e) => resolve(`${e.kind}: ${e.message}`) }));
  assert.equal(await run("json-ok"), "https://cdn.example/json-ok.png");
  assert.equal(await run("json-status"), "https://cdn.example/json-status.png");
  assert.equal(calls.get("json-ok").length, 2, "a pending record, then the result");
  assert.equal(await run("plain-headers"), "https://cdn.example/plain-headers.png");
  const [first, second] = calls.get("plain-headers");
  assert.ok(second - first >= 990, `the 429's retry-after in a plain object was honoured: ${Math.round(second - first)} ms`);
  // A mock with neither text() nor json() says so.
  globalThis.fetch = async () => ({ ok: true, status: 200 });
  const retries = [];
  m.startPolling("bare", { onRetry: (e) => retries.push(e.message) });
  await until(() => retries.length > 0);
  m.stopPolling("bare");
  assert.match(retries[0], /fetch resolved with an object that has neither text\(\) nor json\(\)/);
});

test("an unreadable answer says what it was, and a failed fetch what its cause said (Node's 'fetch failed' alone names no reason)", async (t) => {
  const realFetch = globalThis.fetch;
  t.after(() => (globalThis.fetch = realFetch));
  const m = manager(t, { shareAcrossTabs: false });
  const first = (id) =>
    new Promise((resolve) => {
      m.startPolling(id, { onRetry: (e) => (m.stopPolling(id), resolve(`${e.kind}: ${e.message}`)) });
    });
  const unreadable = "invalid_response: The server sent an unreadable response";
  globalThis.fetch = async () => new Response("", { status: 200 });
  assert.equal(await first("u-empty"), `${unreadable}: its body was empty`);
  globalThis.fetch = async () => new Response("null", { status: 200 });
  assert.equal(await first("u-null"), `${unreadable}: JSON, but no record object`);
  globalThis.fetch = async () => new Response("OK", { status: 200 });
  assert.equal(await first("u-text"), `${unreadable}: not JSON`);
  // a mock whose json() rejects as a bad body would: unreadable, not the network
  globalThis.fetch = async () => ({ ok: true, json: () => Promise.reject(new SyntaxError("Unexpected token < in JSON")) });
  assert.equal(await first("u-mock"), `${unreadable}: not JSON`);
  globalThis.fetch = async () => null;
  assert.equal(await first("u-nullfetch"), "network: Could not reach the server: fetch resolved with null, not a Response");
  // Node's own fetch to a port nobody listens on
  globalThis.fetch = realFetch;
  const closed = await new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
  const refused = manager(t, { fileUrl: `http://127.0.0.1:${closed}/file/{id}`, shareAcrossTabs: false, eventsUrl: null });
  const said = await new Promise((resolve) => {
    refused.startPolling("u-refused", { onRetry: (e) => (refused.stopPolling("u-refused"), resolve(`${e.kind}: ${e.message}`)) });
  });
  assert.equal(said, `network: Could not reach the server: fetch failed (connect ECONNREFUSED 127.0.0.1:${closed})`);
  // a session gone: the API redirects to its sign-in page, which answers 200
  const server = createServer((req, res) => {
    if (req.url.startsWith("/file/")) return res.writeHead(302, { location: "/login?next=%2Ffile" }).end();
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><form>Sign in</form>");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}`;
  const signedOut = manager(t, { fileUrl: `${base}/file/{id}`, shareAcrossTabs: false, eventsUrl: null });
  const redirected = await new Promise((resolve) => {
    signedOut.startPolling("u-login", { onRetry: (e) => (signedOut.stopPolling("u-login"), resolve(`${e.kind}: ${e.message}`)) });
  });
  assert.equal(
    redirected,
    `${unreadable}: an HTML page, not JSON (a sign-in page, or a url that names a page rather than the API?), after a redirect to ${base}/login…`,
  );
});

test("debug says when a 429 has no Retry-After the page can read (a cross-origin API that does not expose it)", async (t) => {
  const realFetch = globalThis.fetch;
  const realLog = console.log;
  const logs = [];
  console.log = (...a) => logs.push(a.join(" "));
  t.after(() => {
    globalThis.fetch = realFetch;
    console.log = realLog;
  });
  globalThis.fetch = async () => new Response("", { status: 429 });
  const m = manager(t, { debug: true, shareAcrossTabs: false, rateLimitDelay: 50 });
  await new Promise((resolve) => m.startPolling("limited-1", { onRetry: () => (m.stopPolling("limited-1"), resolve()) }));
  console.log = realLog;
  assert.ok(
    logs.some((l) => l.includes("limited-1 HTTP 429 with no Retry-After the page can read (a cross-origin API must send Access-Control-Expose-Headers: Retry-After)")),
    logs.join("\n"),
  );
});
