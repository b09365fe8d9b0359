// The browser side of the benchmark (bench/run.mjs drives it with playwright-core).
// Loaded by the page the runner writes, whose import map says where
// "smart-polling" (the package entry, one constant in run.mjs) and
// "@tanstack/query-core" are. Every policy is wrapped in one shape:
// { start(id, callbacks), stop(id), stopAll(), activeCount }.

import init, { PollingManager } from "smart-polling";
import { FixedLoop } from "/bench/baselines/fixed-loop.js";
import { PlainMinimal } from "/bench/baselines/plain-minimal.js";
import { TanStackPoller } from "/bench/baselines/tanstack.js";
import { SeedPollingManager } from "/bench-build/seed-manager.js";

await init(); // the entry's init() resolves with nothing: the wasm exports come from the
// glue beside it (its init returns them once loaded)
const glue = await import(new URL("smart_polling.js", import.meta.resolve("smart-polling")).href);
const exportsOfWasm = await glue.default();
// the export names are minified: find the memory by type
const wasmMemory = Object.values(exportsOfWasm).find((v) => v instanceof WebAssembly.Memory) ?? null;

class Smart {
  constructor(options) {
    this.m = new PollingManager(options);
  }
  start(id, callbacks) {
    this.m.startPolling(id, callbacks);
  }
  stop(id) {
    return this.m.stopPolling(id);
  }
  stopAll() {
    this.m.stopAllPolling();
  }
  get activeCount() {
    return this.m.activeCount;
  }
}

class Seed {
  constructor(options) {
    this.m = new SeedPollingManager(options);
  }
  start(id, callbacks) {
    this.m.startPolling(id, callbacks);
  }
  stop(id) {
    this.m.stopPolling(id);
  }
  stopAll() {
    this.m.stopAllPolling();
  }
  get activeCount() {
    return this.m.activeCount;
  }
}

/** policy name -> constructor of the wrapper (options: what the policy takes) */
const POLICIES = {
  smart: (o) => new Smart(o),
  fixed: (o) => new FixedLoop(o),
  seed: (o) => new Seed(o),
  tanstack: (o) => new TanStackPoller(o),
  plain: (o) => new PlainMinimal(o),
};

const make = (policy, options) => {
  const ctor = POLICIES[policy];
  if (!ctor) throw new Error(`unknown policy ${policy}`);
  return ctor(options ?? {});
};

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Resolves in a new task: after the current one and every microtask it queued. */
const settle = () => new Promise((r) => setTimeout(r, 0));

const longTasks = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: "longtask", buffered: true });
} catch {
  // no longtask support: reported as null
}
const longTaskSupport = PerformanceObserver.supportedEntryTypes?.includes("longtask") ?? false;

function memory() {
  if (typeof gc === "function") {
    gc();
    gc();
  }
  return {
    heap: performance.memory ? performance.memory.usedJSHeapSize : null,
    wasm: wasmMemory ? wasmMemory.buffer.byteLength : null,
  };
}

/**
 * One cell of the matrix: `durations.length` jobs of `kind` with `faults`,
 * `concurrency` at a time, each watched by a fresh job of the policy; a job
 * not over `graceMs` after its server end is stopped and counted unfinished.
 */
async function runCell({ policy, options, kind, faults, durations, concurrency, graceMs, label }) {
  const p = make(policy, options);
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < durations.length) {
      const i = next++;
      const res = await fetch(`/api/generate/${kind}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ prompt: `${label} #${i}`, faults, duration: durations[i] }),
      });
      if (!res.ok) throw new Error(`generate: ${res.status} ${await res.text()}`);
      const { fileId } = await res.json();
      const startedAt = now();
      const outcome = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ status: "unfinished" }), durations[i] * 1000 + graceMs);
        p.start(fileId, {
          onComplete() {
            clearTimeout(timer);
            resolve({ status: "completed", at: now() });
          },
          onError(e) {
            clearTimeout(timer);
            resolve({ status: "error", kind: e?.kind ?? String(e), at: now() });
          },
        });
      });
      if (outcome.status === "unfinished") p.stop(fileId);
      results.push({ fileId, startedAt, ...outcome });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  p.stopAll();
  return results;
}

// fetch calls made by the page, counted by startStop (installed on first use;
// the glue of every policy looks `fetch` up on the window when it calls it)
let fetchCalls = 0;
function countFetches() {
  if (window.fetch.counting) return;
  const real = window.fetch;
  const counting = function (...args) {
    fetchCalls++;
    return real.apply(this, args);
  };
  counting.counting = true;
  window.fetch = counting;
}

/**
 * Main-thread time to start and to stop `n` jobs. Start: the loop of start
 * calls (what freezes the page), and the same until the first task after it
 * (work deferred to microtasks counts); then the wall time until `n` requests
 * (every job's first) have been sent, at most `maxWaitMs`. Stop: `waitMs`
 * after that, with the requests in flight: the stopAll call, and until the
 * first task after it (the aborted fetches' rejections count).
 */
async function startStop({ policy, options, n, prefix, waitMs, maxWaitMs }) {
  countFetches();
  const p = make(policy, options);
  const callbacks = { onComplete() {}, onError() {} };
  const ids = Array.from({ length: n }, (_, i) => `${prefix}_${i}`);
  memory();
  await settle();
  const base = fetchCalls;
  const t0 = performance.now();
  for (const id of ids) p.start(id, callbacks);
  const t1 = performance.now();
  await Promise.resolve();
  const t2 = performance.now();
  const active = p.activeCount;
  let sent = null;
  // Until every job has sent, or sending has stopped for a second (a policy
  // that holds requests back while others are out).
  let seen = fetchCalls;
  let still = performance.now();
  while (performance.now() - t0 < maxWaitMs) {
    if (fetchCalls - base >= n) {
      sent = performance.now() - t0;
      break;
    }
    if (fetchCalls !== seen) [seen, still] = [fetchCalls, performance.now()];
    else if (fetchCalls > base && performance.now() - still > 1000) break;
    await sleep(10);
  }
  const requests = fetchCalls - base;
  await sleep(waitMs);
  const t3 = performance.now();
  p.stopAll();
  const t4 = performance.now();
  await settle();
  const t5 = performance.now();
  const after = p.activeCount;
  return { startSync: t1 - t0, start: t2 - t0, sent, requests, stopSync: t4 - t3, stop: t5 - t3, active, after };
}

let running = null;

/** Starts watching `ids` (jobs on the server); memory and long tasks are measured from here. */
async function runStart({ policy, options, ids }) {
  const p = make(policy, options);
  const state = { p, done: 0, errors: 0, before: null, t0: 0, t1: 0 };
  const callbacks = { onComplete: () => state.done++, onError: () => state.errors++ };
  state.before = memory();
  await settle();
  longTasks.length = 0;
  state.t0 = performance.now();
  for (const id of ids) p.start(id, callbacks);
  state.t1 = performance.now();
  await settle();
  state.t2 = performance.now();
  running = state;
  return { startSync: state.t1 - state.t0, start: state.t2 - state.t0, active: p.activeCount };
}

/** Ends what runStart started: long tasks since, memory with the jobs running, then stop. */
async function runEnd({ measureMemory = true } = {}) {
  const s = running;
  running = null;
  await settle();
  const tEnd = performance.now();
  const tasks = longTasks.filter((t) => t.start >= s.t0 - 1 && t.start <= tEnd);
  const isStart = (t) => t.start <= s.t2 && t.start + t.duration >= s.t0;
  const steady = tasks.filter((t) => !isStart(t));
  const active = s.p.activeCount;
  const after = measureMemory ? memory() : null;
  s.p.stopAll();
  return {
    longTaskSupport,
    windowMs: tEnd - s.t2,
    active,
    completed: s.done,
    errors: s.errors,
    longestSteady: steady.reduce((m, t) => Math.max(m, t.duration), 0),
    steadyCount: steady.length,
    startTask: tasks.filter(isStart).reduce((m, t) => Math.max(m, t.duration), 0),
    before: s.before,
    after,
  };
}

window.bench = { runCell, startStop, runStart, runEnd, memory, wasm: Boolean(wasmMemory) };
window.benchReady = true;
