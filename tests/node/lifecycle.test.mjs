// The package's lifecycle in Node, on the shipped build (pkg/index.js):
// a clear error before init(), a manager the page drops that still finishes
// its jobs after garbage collections, and memory that stops growing under
// churn. Run with --expose-gc (scripts/test.sh does).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { initSync, PollingManager } from "../../pkg/index.js";
import { initSync as rawInitSync } from "../../pkg/smart_polling.js";
import { sleep, until } from "./support.mjs";

// An in-process fetch: ids starting with "done" complete, "fail" get a 403,
// "undef" get `undefined` twice and "reject" a rejection once, and then
// complete; anything else stays pending. Counts requests per id.
const requests = new Map();
globalThis.fetch = async (input) => {
  const id = new URL(typeof input === "string" ? input : input.url).pathname.split("/").pop();
  requests.set(id, (requests.get(id) ?? 0) + 1);
  if (id.startsWith("fail")) return new Response("", { status: 403 });
  // a mock that forgot to return, twice, then answers
  if (id.startsWith("undef") && requests.get(id) <= 2) return undefined;
  // a fetch that rejects once (as Node's does for a relative url), then answers
  if (id.startsWith("reject") && requests.get(id) === 1) throw new TypeError(`Failed to parse URL from /api/file/${id}`);
  const url = (id.startsWith("done") && requests.get(id) >= 2) || id.startsWith("undef") || id.startsWith("reject") ? `https://cdn.example/${id}.png` : null;
  return new Response(JSON.stringify({ id, url, type: "image" }), { status: 200 });
};

const options = {
  fileUrl: "http://api.example/file/{id}",
  eventsUrl: null,
  intervals: [25],
  initialDelay: 5,
  maxDelay: 20,
  jitter: 0,
};

test("new PollingManager() before init() says what to do", () => {
  assert.throws(
    () => new PollingManager(options),
    (e) => e instanceof Error && /await init\(\)/.test(e.message),
  );
});

let exports;
test("init", () => {
  const wasm = readFileSync(new URL("../../pkg/smart_polling_bg.wasm", import.meta.url));
  assert.equal(initSync({ module: wasm }), undefined, "the entry's initSync returns nothing");
  // the glue's own exports (for the memory size below): already loaded, returned as they are
  exports = rawInitSync({ module: wasm });
  assert.ok(exports.memory instanceof WebAssembly.Memory);
});

test("a manager the page dropped finishes its jobs after garbage collections", async () => {
  assert.equal(typeof globalThis.gc, "function", "run with --expose-gc");
  const seen = { complete: 0, error: 0 };
  (() => {
    const m = new PollingManager({ ...options, intervals: [60] });
    m.startPolling("done-gc", { onComplete: () => seen.complete++, onError: () => seen.error++ });
  })();
  for (let i = 0; i < 5; i++) {
    globalThis.gc();
    await sleep(10);
  }
  await until(() => seen.complete === 1);
  assert.equal(seen.error, 0);
  assert.equal(requests.get("done-gc"), 2);
});

test("free() stops every job first", async () => {
  const m = new PollingManager(options);
  let heard = 0;
  const result = m.pollFileCompletion("pending-free");
  m.startPolling("pending-free-2", { onProgress: () => heard++ });
  await until(() => requests.get("pending-free-2") >= 1);
  m.free();
  assert.equal((await result).failure.kind, "stopped");
  const n = requests.get("pending-free-2");
  const h = heard;
  await sleep(10 * options.intervals[0]); // proving an absence: ten intervals
  assert.equal(requests.get("pending-free-2"), n, "no request after free()");
  assert.equal(heard, h, "no callback after free()");
});

test("a mocked fetch that resolves with nothing is a network error, and polling goes on", async () => {
  const uncaught = [];
  const onUncaught = (e) => uncaught.push(e);
  process.on("uncaughtException", onUncaught);
  const m = new PollingManager(options);
  try {
    const seen = { errors: [], retries: [] };
    await new Promise((resolve, reject) => {
      m.startPolling("undef-1", {
        onError: (e) => seen.errors.push(e.kind),
        onRetry: (e) => seen.retries.push(`${e.kind}: ${e.message}`),
        onComplete: resolve,
      });
      setTimeout(() => reject(new Error(`no completion: ${JSON.stringify(seen)}, uncaught: ${uncaught}`)), 10000);
    });
    assert.equal(requests.get("undef-1"), 3);
    const retry = "network: Could not reach the server: fetch resolved with undefined, not a Response";
    assert.deepEqual(seen, { errors: [], retries: [retry, retry] }, "each failed request is a retry of kind network, saying why");
    assert.deepEqual(uncaught, []);
  } finally {
    process.off("uncaughtException", onUncaught);
    m.free();
  }
});

test("a network error says what fetch rejected with, in retries and in a Promise's failure", async () => {
  const m = new PollingManager(options);
  try {
    const retried = new Promise((resolve) =>
      m.startPolling("reject-1", { onRetry: (e) => resolve(e), onComplete: () => {} }),
    );
    const e = await retried;
    assert.equal(e.kind, "network");
    assert.equal(e.message, "Could not reach the server: Failed to parse URL from /api/file/reject-1");
    assert.equal(e.retryable, true);
    // the Promise form, with no retry allowed: its failure and error keep the words
    const r = await m.pollFileCompletion("reject-2", { maxConsecutiveErrors: 1 });
    assert.equal(r.failure?.kind, "network");
    assert.equal(r.failure?.message, "Could not reach the server: Failed to parse URL from /api/file/reject-2");
    assert.equal(r.error, "Could not reach the server: Failed to parse URL from /api/file/reject-2");
  } finally {
    m.free();
  }
});

test("a freed manager's methods and getters say it was freed and what to do; a second free() does nothing", () => {
  const m = new PollingManager(options);
  m.startPolling("freed-1", { onComplete: () => {} });
  assert.equal(m.activeCount, 1);
  m.free();
  const freed = (name) => (e) =>
    e instanceof Error &&
    e.message.startsWith(`smart-polling: ${name} on a PollingManager that was freed`) &&
    e.message.includes("Create a new one");
  assert.throws(() => m.startPolling("freed-2", { onComplete: () => {} }), freed("startPolling"));
  assert.throws(() => m.isPolling("freed-1"), freed("isPolling"));
  assert.throws(() => m.activeCount, freed("activeCount"));
  assert.throws(() => m.metrics(), freed("metrics"));
  assert.doesNotThrow(() => m.free());
  assert.equal(requests.get("freed-2"), undefined, "no request for the refused job");
  // a live manager's methods are unchanged
  const live = new PollingManager(options);
  try {
    assert.equal(live.isPolling("freed-1"), false);
    assert.equal(live.activeCount, 0);
  } finally {
    live.free();
  }
});

test("a callback spelt in another case, or with an underscore, is refused with the right name", () => {
  const m = new PollingManager(options);
  try {
    assert.throws(() => m.startPolling("named-1", { onerror: () => {} }), /unknown callback "onerror"; did you mean "onError"\?/);
    assert.throws(() => m.startPolling("named-2", { on_complete: () => {} }), /did you mean "onComplete"\?/);
    assert.throws(() => m.startPolling("named-3", { OnProgress: () => {} }), /did you mean "onProgress"\?/);
    assert.equal(requests.get("named-1"), undefined, "no request for a refused job");
    m.startPolling("named-4", { complete: true }); // not a callback's name: left alone, as documented
    // a job option among the callbacks would be ignored: refused, saying where it goes
    assert.throws(
      () => m.startPolling("named-5", { onComplete: () => {}, timeout: 5000 }),
      (e) => e instanceof RangeError && e.message === '"timeout" is a job option, not a callback: pass it in the third argument, (id, callbacks, { timeout })',
    );
    assert.throws(() => m.startProjectPolling("named-6", { intervals: [5] }), /"intervals" is a job option/);
    assert.equal(m.isPolling("named-5") || m.isPolling("named-6"), false, "neither started");
    // an option name with no value (a forwarded optional prop), or a class
    // instance's own field, is left alone
    m.startPolling("named-7", { onComplete: () => {}, timeout: undefined });
    class Card {
      constructor() {
        this.timeout = 30000;
        this.media = "video";
        this.onClose = () => {}; // a field that looks like a callback: the card's own
        this.onerror = null;
      }
      onComplete() {}
    }
    m.startPolling("named-8", new Card());
    assert.equal(m.stopPolling("named-7") && m.stopPolling("named-8"), true, "both started");
    // a class instance's callbacks are still checked
    class Broken {
      onComplete = 5;
    }
    assert.throws(() => m.startPolling("named-9", new Broken()), /^TypeError: onComplete must be a function \(got number\)$/);
    assert.equal(m.stopPolling("named-4"), true);
  } finally {
    m.free();
  }
});

test("options whose getter throws are refused, and the manager stays usable and can be freed", () => {
  const m = new PollingManager(options);
  const boom = { get timeout() { throw new Error("boom"); } };
  const unreadable = (e) =>
    e instanceof RangeError && e.message === 'options are unreadable: reading "timeout" threw (boom); pass a plain object';
  assert.throws(() => m.startPolling("getter-1", {}, boom), unreadable);
  assert.throws(() => new PollingManager({ ...options, get maxStreams() { throw new Error("boom"); } }), /reading "maxStreams" threw \(boom\)/);
  // a Proxy whose key listing throws
  const trap = new Proxy({}, { ownKeys() { throw new Error("no keys"); } });
  assert.throws(() => m.startPolling("getter-2", {}, trap), /options are unreadable: reading "its keys" threw \(no keys\)/);
  // a Proxy whose prototype cannot be read, as callbacks
  const noProto = new Proxy({}, { getPrototypeOf() { throw new Error("no proto"); } });
  assert.throws(() => m.startPolling("getter-4", noProto), /reading "its prototype" threw \(no proto\)/);
  assert.equal(m.isPolling("getter-1") || m.isPolling("getter-2") || m.isPolling("getter-4"), false, "none started");
  // a getter that reads fine counts like a plain value, read once per call
  let reads = 0;
  const counted = {
    get maxAttempts() {
      reads++;
      return 3;
    },
  };
  new PollingManager({ ...options, get timeout() { reads++; return 9000; } }).free();
  assert.equal(reads, 1, "the constructor reads each option once");
  reads = 0;
  m.startPolling("getter-3", {}, counted);
  assert.equal(reads, 1, "startPolling reads each option once");
  assert.equal(m.getPollingStatus()[0].maxAttempts, 3);
  assert.equal(m.stopPolling("getter-3"), true);
  assert.doesNotThrow(() => m.free(), "free() after a refused call");
});

/** The JS heap after garbage collections, once two in a row agree within 256 KiB. */
async function settledHeap() {
  let last = null;
  return until(
    async () => {
      await sleep(10);
      globalThis.gc();
      const now = process.memoryUsage().heapUsed;
      const settled = last !== null && Math.abs(now - last) < 262144;
      last = now;
      return settled && now;
    },
    { timeout: 30000, what: "the heap to settle" },
  );
}

test("churn: wasm memory and the JS heap stop growing", async () => {
  const rounds = Number(process.env.CHURN_ROUNDS ?? 10);
  const perKind = 700;
  const wasm = [];
  const heap = [];
  for (let round = 0; round < rounds; round++) {
    const m = new PollingManager(options);
    let done = 0;
    const cb = { onComplete: () => done++, onError: () => done++ };
    for (let i = 0; i < perKind; i++) {
      m.startPolling(`done-${round}-${i}`, cb);
      m.startPolling(`fail-${round}-${i}`, cb);
      m.startPolling(`pending-${round}-${i}`, cb);
    }
    await until(() => done === 2 * perKind, { timeout: 120000, what: `round ${round}'s jobs to end` });
    for (let i = 0; i < perKind; i += 2) assert.equal(m.stopPolling(`pending-${round}-${i}`), true);
    m.free(); // stops the other half
    assert.equal(m.__wbg_ptr, 0);
    requests.clear();
    // Measured once settled (collections no longer free anything), not
    // after a fixed pause that a slow machine may not have finished in.
    heap.push(await settledHeap());
    wasm.push(exports.memory.buffer.byteLength);
  }
  const settled = 2; // rounds to warm up allocator and JIT
  const mb = (n) => (n / 1048576).toFixed(1);
  console.log(`wasm memory per round (MiB): ${wasm.map(mb).join(" ")}`);
  console.log(`JS heap after GC per round (MiB): ${heap.map(mb).join(" ")}`);
  // Linear memory never shrinks, and a slow machine can raise the peak of live
  // jobs once (CI saw one 0.6 MiB step). A leak grows with every round
  // instead: allow 128 bytes per job run after warm-up, far less than the
  // ~1.2 KB of wasm memory a job holds, so a leaked job still fails.
  const jobs = (rounds - 1 - settled) * 3 * perKind;
  const grown = wasm.at(-1) - wasm[settled];
  assert.ok(grown <= jobs * 128, `wasm memory grew ${grown} B over ${jobs} jobs: ${wasm.map(mb).join(" ")}`);
  const base = Math.max(...heap.slice(settled, settled + 2));
  assert.ok(heap.at(-1) <= base * 1.25 + 4 * 1048576, `JS heap grew: ${heap.map(mb).join(" ")}`);
});

test("an idle manager sharing across tabs lets Node exit (its BroadcastChannel is unref'd)", async () => {
  // Node 20 has BroadcastChannel but no Web Locks: the child process gets a
  // minimal `navigator.locks`, as newer Node versions and polyfills provide,
  // so the manager really shares (it asks for a lock). Its job completes and
  // the manager is never freed: the process must still exit by itself.
  const { spawn } = await import("node:child_process");
  const child = `
    import { readFileSync } from "node:fs";
    const locks = [];
    // request(name, callback) or request(name, options, callback), as specified
    const request = (name, options, callback) => { locks.push(name); return Promise.resolve({ name }).then(callback ?? options); };
    Object.defineProperty(globalThis, "navigator", { value: { locks: { request } }, configurable: true });
    globalThis.fetch = async () => new Response(JSON.stringify({ id: "a", url: "https://cdn.example/a.png", type: "image" }));
    const { initSync, PollingManager } = await import(${JSON.stringify(new URL("../../pkg/index.js", import.meta.url).href)});
    initSync({ module: readFileSync(new URL(${JSON.stringify(new URL("../../pkg/smart_polling_bg.wasm", import.meta.url).href)})) });
    const m = new PollingManager(${JSON.stringify({ ...options, shareAcrossTabs: true })});
    const ended = await new Promise((resolve) => m.startPolling("a", { onComplete: () => resolve("complete"), onError: (e) => resolve(e.kind) }));
    console.log(JSON.stringify({ ended, locks }));
  `;
  const proc = spawn(process.execPath, ["--input-type=module", "-e", child], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  const limit = 30000; // a bound for a hang, not a timing: the process exits within a second here
  const timer = setTimeout(() => proc.kill(), limit);
  const [code, signal] = await new Promise((resolve) => proc.on("exit", (c, s) => resolve([c, s])));
  clearTimeout(timer);
  assert.equal(signal, null, `the process did not exit within ${limit} ms: something keeps Node alive (output: ${out})`);
  assert.equal(code, 0);
  const { ended, locks } = JSON.parse(out);
  assert.equal(ended, "complete");
  assert.ok(locks.some((name) => name.endsWith("/a")), `the job asked for its lock: ${locks}`);
});

test("a lock manager that refuses every request (a sandboxed iframe's SecurityError) leaves each job to poll alone", async () => {
  // In an iframe with `sandbox="allow-scripts"` (an opaque origin) Chromium
  // has `navigator.locks` and `BroadcastChannel`, but every lock request
  // rejects later with a SecurityError. The jobs must not wait for a lock
  // that never comes: they poll, and `debug` says sharing is off.
  const { spawn } = await import("node:child_process");
  const child = `
    import { readFileSync } from "node:fs";
    let asked = 0;
    const request = () => { asked += 1; return Promise.reject(new DOMException("The request is not allowed", "SecurityError")); };
    Object.defineProperty(globalThis, "navigator", { value: { locks: { request } }, configurable: true });
    let fetched = 0;
    globalThis.fetch = async (url) => {
      fetched += 1;
      const id = url.split("/").pop();
      return new Response(JSON.stringify({ id, url: fetched > 2 ? "https://cdn.example/" + id + ".png" : null, type: "image" }));
    };
    const logs = [];
    console.log = (...args) => logs.push(args.join(" "));
    const { initSync, PollingManager } = await import(${JSON.stringify(new URL("../../pkg/index.js", import.meta.url).href)});
    initSync({ module: readFileSync(new URL(${JSON.stringify(new URL("../../pkg/smart_polling_bg.wasm", import.meta.url).href)})) });
    const m = new PollingManager(${JSON.stringify({ ...options, shareAcrossTabs: true, debug: true })});
    const run = (id) => new Promise((resolve) => m.startPolling(id, { onComplete: () => resolve("complete"), onError: (e) => resolve(e.kind) }));
    // One job before the refusal is heard, one after it.
    const first = run("a");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = run("b");
    const ended = await Promise.all([first, second]);
    process.stdout.write(JSON.stringify({ ended, asked, fetched, logs }));
    process.exit(0);
  `;
  const proc = spawn(process.execPath, ["--input-type=module", "-e", child], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  const limit = 30000; // a bound for a hang: the jobs end within a second or two here
  const timer = setTimeout(() => proc.kill(), limit);
  const [code, signal] = await new Promise((resolve) => proc.on("exit", (c, s) => resolve([c, s])));
  clearTimeout(timer);
  assert.equal(signal, null, `the jobs did not end within ${limit} ms (output: ${out})`);
  assert.equal(code, 0);
  const { ended, asked, fetched, logs } = JSON.parse(out);
  assert.deepEqual(ended, ["complete", "complete"]);
  assert.equal(asked, 1, "no lock asked for once one was refused");
  assert.ok(fetched >= 3, `the jobs polled: ${fetched} requests`);
  assert.ok(logs.some((l) => l.includes("sharing across tabs is off here")), `debug says so: ${logs.join(" | ")}`);
});
