// The browser benchmark (issue 10): smart-polling against the fixed 2-s loop,
// a plain-TypeScript manager from the seed, TanStack Query's refetchInterval
// and a minimal plain-JS poller, in headless Chromium, against the demo server;
// and the time to the first poll on a throttled phone (issue 20, phase firstPoll).
//
//   node bench/run.mjs            # full run (about 8 minutes): BENCHMARKS.md sections + docs/bench/*
//   node bench/run.mjs --smoke    # small and fast (< 1 minute), writes nothing; bench/smoke.test.mjs runs it
//   node bench/run.mjs --json out.json   # also the raw results
//   node bench/run.mjs --from out.json   # the report again from raw results, without running
//   node bench/run.mjs --only startStop,running,herd,matrix   # some phases, writes nothing
//   node bench/run.mjs --only firstPoll   # the time to the first poll (about 2 minutes): writes its section alone
//   BENCH_FIRSTPOLL=plain,vite node bench/run.mjs --only firstPoll   # some of its pages, writes nothing
//   BENCH_POLICY=smart BENCH_SMART='{"shareAcrossTabs":false}' node bench/run.mjs --only running
//       # the "running" phase for one policy, smart-polling with extra options
//
// Benchmarks report numbers; nothing here is a timed test.

import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { tmpdir, cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { createApiServer } from "../server/index.mjs";
import { CHROMIUM_ARGS as BASE_ARGS } from "../e2e/support.mjs";
import { renderMarkdown, renderFirstPoll, scatterSvg, herdSvg } from "./report.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const require = createRequire(import.meta.url);

/** The package entry the page imports: the ONE place that names it. */
const PKG_ENTRY = existsSync(path.join(ROOT, "pkg", "index.js")) ? "/pkg/index.js" : "/pkg/smart_polling.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  ...BASE_ARGS,
  // measurement: gc() in the page, unquantised performance.memory, no throttling of pages in the background
  "--js-flags=--expose-gc", "--enable-precise-memory-info",
  "--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
];

// Generation durations: the demo server's distributions (server/index.mjs KINDS),
// log-normal with sigma 0.4, drawn by quantile (stratified) so that a few jobs
// per cell cover the distribution evenly; the slowest 1/(2N) tail is left out.
const KINDS = {
  image: { median: 6, sigma: 0.4, min: 2, max: 30 },
  video: { median: 25, sigma: 0.4, min: 8, max: 90 },
};

const FAULTS = {
  clean: { label: "clean", faults: {} },
  storm429: {
    label: "429 storm",
    note: "half of all record requests answered 429 with Retry-After: 2",
    faults: { rateLimit: { probability: 0.5, retryAfter: "seconds", seconds: 2 } },
  },
  burst5xx: {
    label: "5xx bursts",
    note: "every record request a 503 for 3 s out of every 10 s",
    faults: { serverError: { probability: 1, status: 503, burstEvery: 10000, burstFor: 3000 } },
  },
  streamDrop: {
    label: "stream drops",
    note: "the event stream sends one progress message, then its socket dies (every time it is opened)",
    faults: { stream: "die" },
  },
};

/** Policies of the workload matrix (label, page policy, options for a kind). */
const MATRIX_POLICIES = [
  { key: "smart-stream", label: "smart-polling, stream on", policy: "smart", options: (kind) => ({ preset: kind }) },
  { key: "smart-poll", label: "smart-polling, stream off", policy: "smart", options: (kind) => ({ preset: kind, eventsUrl: null }) },
  { key: "fixed", label: "fixed 2 s loop (old hooks)", policy: "fixed", options: () => ({}) },
  { key: "seed", label: "seed manager (plain TS)", policy: "seed", options: () => ({}) },
  { key: "tanstack", label: "TanStack Query refetchInterval 2 s", policy: "tanstack", options: () => ({}) },
];

/** Policies of the stress phases (start/stop, 1000 running, herd): polling only. */
const STRESS_POLICIES = [
  { key: "plain", label: "plain JS minimal", policy: "plain", options: {} },
  { key: "smart", label: "smart-polling (defaults, stream off)", policy: "smart", options: { eventsUrl: null, ...JSON.parse(process.env.BENCH_SMART ?? "{}") } },
  { key: "fixed", label: "fixed 2 s loop", policy: "fixed", options: {} },
  { key: "seed", label: "seed manager (plain TS)", policy: "seed", options: {} },
  { key: "tanstack", label: "TanStack Query", policy: "tanstack", options: {} },
];

/** The first poll's profile, a throttled mid-range phone (DevTools protocol): CPU 4x slower, 1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip. */
export const PHONE = { cpuSlowdown: 4, latencyMs: 150, downKbps: 1600, upKbps: 750 };

export const FULL = {
  smoke: false,
  jobs: { image: 12, video: 8 },
  concurrency: 2,
  graceMs: 90000,
  startStop: { n: 10000, reps: 5, otherReps: 1, waitMs: 100, maxWaitMs: 15000 },
  running: { n: 1000, windowMs: 10000 },
  herd: { n: 1000, warmMs: 5000, stormMs: 3000, retryAfter: 2, observeMs: 10000 },
  firstPoll: { runs: 7, timeoutMs: 30000, profile: PHONE },
  parallel: false,
};

export const SMOKE = {
  smoke: true,
  jobs: { image: 2, video: 2 },
  fixedDurations: { image: [1.2, 1.8], video: [2.5, 3] },
  concurrency: 2,
  graceMs: 12000,
  startStop: { n: 500, reps: 1, otherReps: 1, waitMs: 50, maxWaitMs: 5000 },
  running: { n: 100, windowMs: 1500 },
  herd: { n: 100, warmMs: 1500, stormMs: 3000, retryAfter: 2, observeMs: 4500 },
  // every page once, through the same DevTools calls, with a light profile (the numbers mean nothing here)
  firstPoll: { runs: 1, timeoutMs: 30000, profile: { cpuSlowdown: 1, latencyMs: 20, downKbps: 20000, upKbps: 20000 } },
  parallel: true,
};

// ---------- numbers ----------

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
function probit(p) {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -probit(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** N durations (s) at the quantiles (i + 0.5) / N, ordered long/short alternately so two workers stay even. */
export function stratifiedDurations(kind, n) {
  const k = KINDS[kind];
  const sorted = Array.from({ length: n }, (_, i) => {
    const s = k.median * Math.exp(k.sigma * probit((i + 0.5) / n));
    return Math.round(Math.min(k.max, Math.max(k.min, s)) * 100) / 100;
  });
  const out = [];
  for (let i = 0, j = n - 1; i <= j; i++, j--) {
    out.push(sorted[j]);
    if (i !== j) out.push(sorted[i]);
  }
  return out;
}

export function quantile(values, q) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

const mean = (values) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);
const median = (values) => quantile(values, 0.5);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round2 = (v) => Math.round(v * 100) / 100;

// ---------- the page ----------

/** The build folder: the seed manager without its types, and the page with the import map. */
function prepareBuild() {
  const dir = mkdtempSync(path.join(tmpdir(), "smart-polling-bench-"));
  const ts = require("typescript");
  const source = readFileSync(path.join(HERE, "baselines", "seed-manager.ts"), "utf8");
  const out = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    fileName: "seed-manager.ts",
    reportDiagnostics: true,
  });
  if (out.diagnostics?.length) throw new Error(`seed-manager.ts: ${out.diagnostics.map((d) => d.messageText).join("; ")}`);
  writeFileSync(path.join(dir, "seed-manager.js"), out.outputText);
  const importMap = {
    imports: {
      "smart-polling": PKG_ENTRY,
      "@tanstack/query-core": "/vendor/tanstack-query-core/index.js",
    },
  };
  writeFileSync(
    path.join(dir, "page.html"),
    `<!doctype html><meta charset="utf-8"><title>smart-polling benchmark</title>\n` +
      // what a bundler's production build does for @tanstack/query-core's process.env.NODE_ENV checks
      `<script>globalThis.process = { env: { NODE_ENV: "production" } };</script>\n` +
      `<script type="importmap">${JSON.stringify(importMap)}</script>\n` +
      `<script type="module" src="/bench/page.js"></script>\n`,
  );
  return dir;
}

function mountsFor(buildDir) {
  return {
    "/pkg/": path.join(ROOT, "pkg"),
    "/bench/": HERE,
    "/bench-build/": buildDir,
    "/vendor/tanstack-query-core/": path.join(path.dirname(require.resolve("@tanstack/query-core/package.json")), "build", "modern"),
  };
}

class Bench {
  constructor(config, log) {
    this.config = config;
    this.log = log;
    this.buildDir = prepareBuild();
    this.servers = [];
    this.pageErrors = [];
  }

  async launch() {
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    this.chromiumVersion = this.browser.version();
  }

  async server(options = {}) {
    const api = await createApiServer({
      port: 0, speed: 1, seed: 10, staticDir: "/nonexistent-static-dir", mounts: mountsFor(this.buildDir), ...options,
    });
    this.servers.push(api);
    return api;
  }

  /** A page in its own browser context (its own connection pool: 6 per origin over HTTP/1.1). */
  async page(api) {
    const context = await this.browser.newContext();
    const page = await context.newPage();
    page.on("pageerror", (e) => this.pageErrors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource|ERR_|net::/.test(m.text())) this.pageErrors.push(m.text());
    });
    await page.goto(`${api.url}/bench-build/page.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });
    return page;
  }

  async close() {
    await this.browser?.close().catch(() => {});
    for (const s of this.servers) await s.close().catch(() => {});
    rmSync(this.buildDir, { recursive: true, force: true });
  }
}

async function api(server, method, p, body, tries = 3) {
  let res;
  try {
    res = await fetch(server.url + p, {
      method,
      headers: method === "GET" ? {} : { "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    // no answer at all (on a busy machine, a kept-alive connection the server
    // closed as it was reused): again, a few times; a job made twice is harmless here
    if (tries > 1) {
      await sleep(200);
      return api(server, method, p, body, tries - 1);
    }
    throw new Error(`${method} ${p}: ${e.message} (${e.cause?.code ?? e.cause?.message ?? e.cause ?? "no cause"})`, { cause: e });
  }
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Jobs made from Node (not the page): `n` of them, each lasting `seconds`. */
async function makeJobs(server, kind, n, seconds) {
  const ids = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, j) =>
        api(server, "POST", `/api/generate/${kind}`, { prompt: `stress ${i + j}`, duration: seconds, faults: {} }),
      ),
    );
    ids.push(...batch.map((b) => b.fileId));
  }
  return ids;
}

// ---------- phase 1: the workload matrix ----------

async function matrixPhase(b) {
  const { config, log } = b;
  const server = await b.server();
  const workloads = [];
  for (const kind of ["image", "video"]) {
    for (const [faultKey, f] of Object.entries(FAULTS)) {
      const durations = config.fixedDurations?.[kind] ?? stratifiedDurations(kind, config.jobs[kind]);
      workloads.push({ key: `${kind}-${faultKey}`, kind, fault: faultKey, label: `${kind}, ${f.label}`, faults: f.faults, durations });
    }
  }
  log(`matrix: ${workloads.length} workloads x ${MATRIX_POLICIES.length} policies, one page per workload, all at once`);
  const t0 = Date.now();
  const raw = await Promise.all(
    workloads.map(async (w) => {
      const page = await b.page(server);
      const cells = await Promise.all(
        MATRIX_POLICIES.map(async (pol) => {
          const results = await page.evaluate((args) => window.bench.runCell(args), {
            policy: pol.policy,
            options: pol.options(w.kind),
            kind: w.kind,
            faults: w.faults,
            durations: w.durations,
            concurrency: config.concurrency,
            graceMs: config.graceMs,
            label: `${w.key} ${pol.key}`,
          });
          return { policy: pol.key, label: pol.label, results };
        }),
      );
      await page.context().close();
      log(`  ${w.label}: done after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      return { ...w, cells };
    }),
  );
  await sleep(300); // requests already on the wire land
  const stats = await api(server, "GET", "/api/stats");
  const jobs = new Map((await api(server, "GET", "/api/jobs")).map((j) => [j.fileId, j]));
  return raw.map((w) => ({
    key: w.key,
    kind: w.kind,
    fault: w.fault,
    label: w.label,
    durations: w.durations,
    cells: w.cells.map((c) => summariseCell(c, stats, jobs)),
  }));
}

function summariseCell(cell, stats, jobs) {
  const per = cell.results.map((r) => {
    const job = jobs.get(r.fileId);
    const counts = stats.byJob[r.fileId] ?? { file: 0, project: 0, events: 0, total: 0 };
    const doneAt = job.createdAt + job.duration;
    return {
      fileId: r.fileId,
      status: r.status,
      errorKind: r.kind ?? null,
      lag: r.status === "completed" ? r.at - doneAt : null,
      requests: counts.total,
      polls: counts.file + counts.project,
      streams: counts.events,
    };
  });
  const lags = per.filter((p) => p.lag !== null).map((p) => p.lag);
  const errors = {};
  for (const p of per) if (p.status === "error") errors[p.errorKind] = (errors[p.errorKind] ?? 0) + 1;
  return {
    policy: cell.policy,
    label: cell.label,
    jobs: per.length,
    completed: per.filter((p) => p.status === "completed").length,
    failed: per.filter((p) => p.status === "error").length,
    unfinished: per.filter((p) => p.status === "unfinished").length,
    errors,
    requestsMean: mean(per.map((p) => p.requests)),
    requestsP95: quantile(per.map((p) => p.requests), 0.95),
    pollsMean: mean(per.map((p) => p.polls)),
    pollsMax: Math.max(...per.map((p) => p.polls)),
    streamsMean: mean(per.map((p) => p.streams)),
    lagP50: quantile(lags, 0.5),
    lagP95: quantile(lags, 0.95),
    perJob: per,
  };
}

// ---------- phase 2: start and stop 10 000 ----------

async function startStopPhase(b) {
  const { config, log } = b;
  const { n, waitMs, maxWaitMs } = config.startStop;
  // every record request hangs: requests stay in flight until stopped, and the server does no work meanwhile
  const server = await b.server({ faults: { hang: 1, stream: "never" } });
  log(`start/stop: ${n} jobs, requests hang (in flight at stop)`);
  const run = async (pol) => {
    // the target's pair (smart-polling and plain JS) gets the median of several runs; the others one
    const reps = pol.key === "plain" || pol.key.startsWith("smart") ? config.startStop.reps : config.startStop.otherReps;
    const page = await b.page(server);
    const runs = [];
    for (let r = 0; r < reps; r++) {
      runs.push(await page.evaluate((a) => window.bench.startStop(a), { policy: pol.policy, options: pol.options, n, prefix: `ss${r}_${pol.key}`, waitMs, maxWaitMs }));
      await page.waitForTimeout(300);
    }
    await page.context().close();
    const pick = (k) => median(runs.map((x) => x[k]));
    const sent = runs.every((x) => x.sent !== null) ? pick("sent") : null;
    const out = {
      policy: pol.key, label: pol.label, n, reps, runs,
      startSync: pick("startSync"), start: pick("start"), sent, requests: median(runs.map((x) => x.requests)),
      stopSync: pick("stopSync"), stop: pick("stop"), active: runs[0].active, after: runs.at(-1).after,
    };
    log(`  ${pol.label}: start ${out.start.toFixed(0)} ms, first requests out after ${sent === null ? "-" : sent.toFixed(0) + " ms"}, stop ${out.stop.toFixed(0)} ms`);
    return out;
  };
  // smart-polling keeps at most 6 requests out per origin by default: shown
  // also with 1024 out (the most the option allows), to stop with them in flight.
  const many = { key: "smart-1024", label: "smart-polling (stream off, maxConcurrentRequests: 1024)", policy: "smart", options: { eventsUrl: null, maxConcurrentRequests: 1024 } };
  const all = [...STRESS_POLICIES.slice(0, 2), many, ...STRESS_POLICIES.slice(2)];
  const pols = all.filter((p) => !process.env.BENCH_POLICY || p.key === process.env.BENCH_POLICY);
  return config.parallel ? Promise.all(pols.map(run)) : serially(pols, run);
}

async function serially(items, fn) {
  const out = [];
  for (const item of items) out.push(await fn(item));
  return out;
}

// ---------- phase 3: 1000 running jobs (long tasks, memory) ----------

async function runningPhase(b) {
  const { config, log } = b;
  const { n, windowMs } = config.running;
  log(`running: ${n} jobs for ${windowMs / 1000} s per policy (long tasks, memory per job)`);
  const run = async (pol) => {
    const server = await b.server();
    const ids = await makeJobs(server, "video", n, 600); // none finishes during the window
    const page = await b.page(server);
    const trace = process.env.BENCH_TRACE && pol.key === "smart";
    if (trace) await page.context().browser().startTracing(page, { path: process.env.BENCH_TRACE, categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "v8.execute", "blink", "toplevel"] });
    const start = await page.evaluate((a) => window.bench.runStart(a), { policy: pol.policy, options: pol.options, ids });
    await page.waitForTimeout(windowMs);
    if (trace) await page.context().browser().stopTracing();
    const end = await page.evaluate(() => window.bench.runEnd());
    await page.context().close();
    const heap = end.after.heap !== null && end.before.heap !== null ? end.after.heap - end.before.heap : null;
    const wasm = end.after.wasm !== null ? end.after.wasm - end.before.wasm : 0;
    const out = {
      policy: pol.key, label: pol.label, n, ...start, ...end,
      heapDelta: heap, wasmDelta: wasm,
      bytesPerJob: heap === null ? null : (heap + wasm) / n,
    };
    log(`  ${pol.label}: longest task ${out.longestSteady.toFixed(0)} ms, ${out.bytesPerJob?.toFixed(0)} B/job (JS heap ${(heap / n).toFixed(0)}, wasm ${(wasm / n).toFixed(0)})`);
    return out;
  };
  // Sharing jobs across tabs costs each job a Web Lock: shown apart.
  const alone = { key: "smart-alone", label: "smart-polling (stream off, shareAcrossTabs: false)", policy: "smart", options: { eventsUrl: null, shareAcrossTabs: false } };
  const all = [...STRESS_POLICIES.slice(0, 2), alone, ...STRESS_POLICIES.slice(2)];
  const pols = all.filter((p) => !process.env.BENCH_POLICY || p.key === process.env.BENCH_POLICY);
  return config.parallel ? Promise.all(pols.map(run)) : serially(pols, run);
}

// ---------- phase 4: the herd ----------

async function herdPhase(b) {
  const { config, log } = b;
  const h = config.herd;
  const policies = STRESS_POLICIES.filter((p) => p.key !== "plain");
  log(`herd: ${h.n} jobs, storm of 429 + Retry-After: ${h.retryAfter} for ${h.stormMs / 1000} s after ${h.warmMs / 1000} s`);
  const run = async (pol) => {
    const server = await b.server();
    const ids = await makeJobs(server, "video", h.n, 600);
    const page = await b.page(server);
    await api(server, "POST", "/api/stats/reset", {});
    const startedAt = Date.now();
    await page.evaluate((a) => window.bench.runStart(a), { policy: pol.policy, options: pol.options, ids });
    await sleep(Math.max(0, startedAt + h.warmMs - Date.now()));
    const stats0 = await api(server, "GET", "/api/stats");
    await api(server, "POST", "/api/storm", { ms: h.stormMs, retryAfter: h.retryAfter });
    const stormAt = Date.now() - stats0.startedAt;
    await sleep(h.observeMs);
    await page.evaluate(() => window.bench.runEnd({ measureMemory: false }));
    const stats = await api(server, "GET", "/api/stats?buckets=1");
    await page.context().close();
    const first = Math.floor(stormAt / stats.bucketMs);
    const last = first + Math.floor(h.observeMs / stats.bucketMs); // exclusive
    const window = Array.from({ length: last - first }, (_, i) => stats.buckets[first + i] ?? 0);
    const peak = Math.max(...window);
    const avg = mean(window);
    const per429 = ids.map((id) => stats.rateLimitedByJob[id] ?? 0);
    const warm = stats.buckets.slice(0, first);
    const out = {
      policy: pol.key, label: pol.label, n: h.n, stormAt, bucketMs: stats.bucketMs,
      buckets: stats.buckets.slice(0, last), buckets429: stats.buckets429.slice(0, last),
      peak, mean: avg, peakOverMean: avg ? peak / avg : null,
      requestsInWindow: window.reduce((a, x) => a + x, 0),
      r429PerJob: mean(per429), r429Max: Math.max(...per429), jobsOver1: per429.filter((x) => x > 1).length,
      startPeakOverMean: warm.length && mean(warm) ? Math.max(...warm) / mean(warm) : null,
    };
    log(`  ${pol.label}: peak/mean ${out.peakOverMean?.toFixed(2)}, 429s/job ${out.r429PerJob.toFixed(2)} (max ${out.r429Max})`);
    return out;
  };
  return config.parallel ? Promise.all(policies.map(run)) : serially(policies, run);
}

// ---------- phase 5: time to the first poll (issue 20, item 3) ----------

/**
 * The pages of the phase, each measured from its document's request to the
 * first request for /api/file/{id}:
 * - "plain": a module script that starts with a plain `fetch("/api/file/{id}")` (the reference);
 * - "unbundled": a module script that starts with `pollFileCompletion(id)`,
 *   the package's own files as they are (an import map names the entry);
 * - "vite": the same page built by `vite build` (defaults; the package
 *   installed in node_modules, as a link to pkg/);
 * - "react-plain" / "react": a React app built by Vite whose component calls
 *   `fetch` / `pollFileCompletion` in an effect, as the product's hooks do;
 * - "+ preload": the pages with the links the README recommends
 *   (`<link rel="preload" as="fetch" crossorigin>` of the .wasm; unbundled
 *   also `modulepreload` of the entry and the glue).
 * `ref` names the reference each is compared with.
 */
export const FIRST_POLL_PAGES = [
  { key: "plain", label: "plain fetch at module start (reference)", url: "/fp/plain.html" },
  { key: "unbundled", label: "unbundled", url: "/fp/unbundled.html", ref: "plain" },
  { key: "unbundled-wasm-preload", label: "unbundled + .wasm preload", url: "/fp/unbundled-wasm-preload.html", ref: "plain" },
  { key: "unbundled-preload", label: "unbundled + .wasm preload + modulepreload", url: "/fp/unbundled-preload.html", ref: "plain" },
  { key: "vite", label: "Vite build", url: "/vite/index.html", ref: "plain" },
  { key: "vite-preload", label: "Vite build + .wasm preload", url: "/vite-preload/index.html", ref: "plain" },
  { key: "react-plain", label: "React app (Vite), plain fetch in an effect (reference)", url: "/react-plain/index.html" },
  { key: "react", label: "React app (Vite), pollFileCompletion in an effect", url: "/react/index.html", ref: "react-plain" },
  { key: "react-preload", label: "React app (Vite), pollFileCompletion in an effect + .wasm preload", url: "/react-preload/index.html", ref: "react-plain" },
];

const FP_ID = `const id = new URLSearchParams(location.search).get("id");\n`;
const FP_SMART = `import { pollFileCompletion } from "smart-polling";\n${FP_ID}pollFileCompletion(id);\n`;
const FP_PLAIN = `${FP_ID}fetch("/api/file/" + id);\n`;
const fpReact = (imports, call) => `import { createElement as h, useEffect } from "react";
import { createRoot } from "react-dom/client";
${imports}${FP_ID}
function App() {
  useEffect(() => {
    ${call};
  }, []);
  return h("p", null, "a job is running");
}
createRoot(document.getElementById("root")).render(h(App));
`;
const fpHtml = (title, head) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,">\n${head}</head><body><div id="root"></div></body></html>\n`;
const wasmPreload = (href) => `<link rel="preload" href="${href}" as="fetch" type="application/wasm" crossorigin>\n`;

/** Writes the pages into dir/fp (served at /fp/) and the Vite builds into dir/<name> (served at /<name>/). */
async function prepareFirstPoll(dir) {
  const fp = path.join(dir, "fp");
  mkdirSync(fp, { recursive: true });
  writeFileSync(path.join(fp, "plain.js"), FP_PLAIN);
  writeFileSync(path.join(fp, "smart.js"), FP_SMART);
  writeFileSync(path.join(fp, "plain.html"), fpHtml("plain fetch", `<script type="module" src="/fp/plain.js"></script>\n`));
  const importMap = `<script type="importmap">${JSON.stringify({ imports: { "smart-polling": "/pkg/index.js" } })}</script>\n`;
  const modulePreload = `<link rel="modulepreload" href="/pkg/index.js">\n<link rel="modulepreload" href="/pkg/env.js">\n<link rel="modulepreload" href="/pkg/smart_polling.js">\n`;
  const entry = `<script type="module" src="/fp/smart.js"></script>\n`;
  writeFileSync(path.join(fp, "unbundled.html"), fpHtml("unbundled", importMap + entry));
  writeFileSync(path.join(fp, "unbundled-wasm-preload.html"), fpHtml("unbundled + wasm preload", importMap + wasmPreload("/pkg/smart_polling_bg.wasm") + entry));
  writeFileSync(path.join(fp, "unbundled-preload.html"), fpHtml("unbundled + preload", importMap + modulePreload + wasmPreload("/pkg/smart_polling_bg.wasm") + entry));

  // Vite builds, as apps have them: index.html + main.js, the package
  // installed in node_modules (a link to pkg/), production defaults
  const { build } = await import("vite");
  const modules = { "smart-polling": path.join(ROOT, "pkg"), react: null, "react-dom": null };
  const vite = async (name, main, head = "") => {
    const src = path.join(dir, `${name}-src`);
    mkdirSync(path.join(src, "node_modules"), { recursive: true });
    for (const [m, target] of Object.entries(modules)) {
      symlinkSync(target ?? path.dirname(require.resolve(`${m}/package.json`)), path.join(src, "node_modules", m), "dir");
    }
    writeFileSync(path.join(src, "main.js"), main);
    writeFileSync(path.join(src, "index.html"), fpHtml(name, head + `<script type="module" src="./main.js"></script>\n`));
    const out = path.join(dir, name);
    await build({
      root: src, configFile: false, logLevel: "warn", base: `/${name}/`,
      // no warning about slow plugins: this machine may be busy
      build: { outDir: out, emptyOutDir: true, reportCompressedSize: false, rolldownOptions: { checks: { bundlerTimings: false } } },
    });
    return readdirSync(path.join(out, "assets"));
  };
  const nodeModulesPreload = wasmPreload("./node_modules/smart-polling/smart_polling_bg.wasm");
  const reactSmart = fpReact(`import { pollFileCompletion } from "smart-polling";\n`, "pollFileCompletion(id)");
  const files = {
    vite: await vite("vite", FP_SMART),
    // the README's line: the link names the file in node_modules; Vite emits it and rewrites the href
    "vite-preload": await vite("vite-preload", FP_SMART, nodeModulesPreload),
    react: await vite("react", reactSmart),
    "react-preload": await vite("react-preload", reactSmart, nodeModulesPreload),
    "react-plain": await vite("react-plain", fpReact("", `fetch("/api/file/" + id)`)),
  };
  for (const [name, list] of Object.entries(files)) {
    const wasm = list.filter((f) => f.endsWith(".wasm"));
    if (wasm.length !== (name === "react-plain" ? 0 : 1)) throw new Error(`first poll: the Vite build ${name} emitted ${wasm.length} .wasm files`);
  }
  for (const name of ["vite-preload", "react-preload"]) {
    const html = readFileSync(path.join(dir, name, "index.html"), "utf8");
    if (!new RegExp(`<link rel="preload" href="/${name}/assets/smart_polling_bg-[\\w-]+\\.wasm"`).test(html)) {
      throw new Error(`first poll: Vite did not rewrite the .wasm preload link:\n${html}`);
    }
  }
  return { vite: files };
}

/**
 * A static server for the phase, 127.0.0.1 only: files gzipped (level 9, as
 * a server or CDN serves precompressed assets), everything under /api/
 * forwarded to the demo server, so the pages and the API share an origin.
 */
async function gzipServer(mounts, api) {
  const cache = new Map();
  const upstream = new URL(api.url);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname.startsWith("/api/")) {
      const headers = { ...req.headers, host: upstream.host };
      const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on("error", () => res.destroy());
      req.pipe(up);
      return;
    }
    const mount = Object.entries(mounts).find(([prefix]) => url.pathname.startsWith(prefix));
    const file = mount && path.join(mount[1], path.normalize("/" + url.pathname.slice(mount[0].length)));
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    let body = cache.get(file);
    if (!body) cache.set(file, (body = gzipSync(readFileSync(file), { level: 9 })));
    const type = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".wasm": "application/wasm" }[path.extname(file)] ?? "application/octet-stream";
    res.writeHead(200, { "Content-Type": type, "Content-Encoding": "gzip", "Content-Length": body.length, "Cache-Control": "no-cache", Vary: "Accept-Encoding" });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    gzipBytes: (file) => cache.get(file)?.length ?? null,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

/**
 * One load of a page in a fresh context (cold caches) under the phone
 * profile: the times, from the document's request, at which requests were
 * sent and finished (DevTools protocol, so every request counts, whoever
 * sent it), until the first request for /api/file/{id}.
 */
async function firstPollRun(b, origin, page0, id, { timeoutMs, profile }) {
  const key = page0.key;
  const context = await b.browser.newContext();
  try {
    const page = await context.newPage();
    page.on("pageerror", (e) => b.pageErrors.push(`first poll ${key}: ${e}`));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") b.pageErrors.push(`first poll ${key}: ${m.text()}`);
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: profile.latencyMs,
      downloadThroughput: (profile.downKbps * 1000) / 8,
      uploadThroughput: (profile.upKbps * 1000) / 8,
    });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: profile.cpuSlowdown });
    const requests = new Map(); // requestId -> { path, sent, done, bytes }
    let doc = null;
    let resolvePoll;
    const polled = new Promise((r) => (resolvePoll = r));
    cdp.on("Network.requestWillBeSent", (e) => {
      const p = new URL(e.request.url).pathname;
      if (!requests.has(e.requestId)) requests.set(e.requestId, { path: p, sent: e.timestamp * 1000, done: null, bytes: null });
      if (e.type === "Document" && doc === null) doc = e.timestamp * 1000;
      if (p === `/api/file/${id}`) resolvePoll(e.timestamp * 1000);
    });
    cdp.on("Network.loadingFinished", (e) => {
      const r = requests.get(e.requestId);
      if (r) [r.done, r.bytes] = [e.timestamp * 1000, e.encodedDataLength];
    });
    await page.goto(`${origin}${page0.url}?id=${id}`, { waitUntil: "commit" });
    let timer;
    const at = await Promise.race([polled, new Promise((r) => (timer = setTimeout(r, timeoutMs, null)))]);
    clearTimeout(timer);
    if (at === null || doc === null) {
      const seen = [...requests.values()].map((r) => `${r.path} sent ${Math.round(r.sent - (doc ?? r.sent))} ms${r.done === null ? ", not done" : `, done ${Math.round(r.done - (doc ?? r.done))} ms`}`);
      const state = await page.evaluate(() => document.readyState).catch((e) => `unknown (${e.message})`);
      throw new Error(`first poll ${key}: no request for /api/file/${id} within ${timeoutMs} ms (document ${state}; requests: ${seen.join("; ") || "none"}; page errors: ${b.pageErrors.filter((e) => e.startsWith(`first poll ${key}:`)).join("; ") || "none"})`);
    }
    const rel = (t) => (t === null ? null : Math.round((t - doc) * 10) / 10);
    const wasm = [...requests.values()].find((r) => r.path.endsWith(".wasm"));
    return {
      firstPoll: rel(at),
      wasmSent: wasm ? rel(wasm.sent) : null,
      wasmDone: wasm ? rel(wasm.done) : null,
      requests: [...requests.values()].filter((r) => r.sent <= at).map((r) => ({ path: r.path, sent: rel(r.sent), done: rel(r.done), bytes: r.bytes })),
    };
  } finally {
    await context.close();
  }
}

async function firstPollPhase(b) {
  const { config, log } = b;
  const { runs, profile } = config.firstPoll;
  const dir = mkdtempSync(path.join(tmpdir(), "smart-polling-firstpoll-"));
  const api = await b.server();
  let web = null;
  try {
    const built = await prepareFirstPoll(dir);
    const mounts = { "/fp/": path.join(dir, "fp"), "/pkg/": path.join(ROOT, "pkg") };
    for (const name of Object.keys(built.vite)) mounts[`/${name}/`] = path.join(dir, name);
    web = await gzipServer(mounts, api);
    const pages = FIRST_POLL_PAGES.filter((p) => !process.env.BENCH_FIRSTPOLL || process.env.BENCH_FIRSTPOLL.split(",").includes(p.key));
    log(`first poll: ${pages.length} pages x ${runs} runs (CPU ${profile.cpuSlowdown}x, ${profile.downKbps / 1000} Mbit/s down, ${profile.latencyMs} ms round trip, gzip)`);
    // two spare jobs: a load that stalls is loaded once more (below)
    const ids = await makeJobs(api, "image", pages.length * runs + 2, 600);
    let retries = 2;
    // A load where the machine stalled (seen once on a busy CI run: every
    // file of the page, its own script too, still loading after 30 s) is
    // logged and loaded once more; a page that fails twice fails the phase.
    const load = async (p) => {
      try {
        return await firstPollRun(b, web.url, p, ids.shift(), config.firstPoll);
      } catch (e) {
        if (retries-- <= 0) throw e;
        log(`${e.message}: loading it once more`);
        return firstPollRun(b, web.url, p, ids.shift(), config.firstPoll);
      }
    };
    const samples = Object.fromEntries(pages.map((p) => [p.key, []]));
    // one load at a time (in the smoke run too: beside the other phases, fewer pages fight for
    // the CPU), the pages interleaved (each round every page once), so that a busy moment of the
    // machine touches every page alike
    for (let r = 0; r < runs; r++) {
      for (const p of pages) samples[p.key].push(await load(p));
    }
    const out = pages.map((p) => {
      const s = samples[p.key];
      const t = s.map((x) => x.firstPoll);
      const m = median(t);
      const row = {
        page: p.key, label: p.label, runs: t,
        median: m, min: Math.min(...t), max: Math.max(...t),
        p25: quantile(t, 0.25), p75: quantile(t, 0.75),
        ref: p.ref ?? null,
        delta: p.ref && samples[p.ref] ? m - median(samples[p.ref].map((x) => x.firstPoll)) : null,
        wasmSent: median(s.map((x) => x.wasmSent)), wasmDone: median(s.map((x) => x.wasmDone)),
        // after the .wasm's last byte: compile, instantiate, the job's start
        afterWasm: s[0].wasmDone === null ? null : median(s.map((x) => x.firstPoll - x.wasmDone)),
        lastRequests: s.at(-1).requests,
      };
      log(`  ${p.label}: first request ${fmtMs(m)} after the document's (${fmtMs(row.min)}-${fmtMs(row.max)})${row.delta === null ? "" : `, ${row.delta >= 0 ? "+" : "-"}${fmtMs(Math.abs(row.delta))} over ${p.ref}`}`);
      return row;
    });
    const gz = (f) => web.gzipBytes(f);
    return {
      profile,
      pages: out,
      bytes: {
        wasm: statSync(path.join(ROOT, "pkg", "smart_polling_bg.wasm")).size,
        wasmGzip: gz(path.join(ROOT, "pkg", "smart_polling_bg.wasm")),
        glueGzip: gz(path.join(ROOT, "pkg", "smart_polling.js")),
        entryGzip: gz(path.join(ROOT, "pkg", "index.js")),
        viteFiles: built.vite,
      },
    };
  } finally {
    await web?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------- targets ----------

export function targets(results) {
  const ss = Object.fromEntries(results.startStop.map((r) => [r.policy, r]));
  const rn = Object.fromEntries(results.running.map((r) => [r.policy, r]));
  const hd = Object.fromEntries(results.herd.map((r) => [r.policy, r]));
  const smartStream = results.matrix.flatMap((w) => w.cells.filter((c) => c.policy === "smart-stream" && w.fault === "clean").map((c) => ({ w, c })));
  const out = [];
  const add = (name, measured, met) => out.push({ name, measured, met });
  const ratio = (a, b) => (a && b ? a / b : null);
  const startRatio = ratio(ss.smart?.start, ss.plain?.start);
  const stopRatio = ratio(ss.smart?.stop, ss.plain?.stop);
  const n = ss.smart?.n;
  add(`start ${n} jobs within 2x of plain JS`, `${fmtMs(ss.smart?.start)} vs ${fmtMs(ss.plain?.start)}: ${fmtX(startRatio)}`, startRatio !== null && startRatio <= 2);
  const many = ss["smart-1024"];
  const manyStop = many ? `; with 1,024 in flight (\`maxConcurrentRequests: 1024\`): ${fmtMs(many.stop)}, ${fmtX(ratio(many.stop, ss.plain?.stop))}` : "";
  add(`stop ${n} jobs (requests in flight) within 2x of plain JS`, `${fmtMs(ss.smart?.stop)} vs ${fmtMs(ss.plain?.stop)}: ${fmtX(stopRatio)} (6 in flight)${manyStop}`, stopRatio !== null && stopRatio <= 2);
  const lt = rn.smart;
  add(`no main-thread task over 50 ms while ${lt?.n} jobs run`, lt ? `longest ${lt.steadyCount ? fmtMs(lt.longestSteady) : "none over 50 ms"} (${lt.steadyCount} long tasks; the start itself: ${lt.startTask ? fmtMs(lt.startTask) : "< 50 ms"})` : "-", lt ? lt.longTaskSupport && lt.steadyCount === 0 : false);
  const alone = rn["smart-alone"]?.bytesPerJob != null ? `; with \`shareAcrossTabs: false\`: ${fmtBytes(rn["smart-alone"].bytesPerJob)}` : "";
  add("memory per running job <= 2 KB", lt?.bytesPerJob != null ? `${fmtBytes(lt.bytesPerJob)} (JS heap ${fmtBytes(lt.heapDelta / lt.n)} + wasm ${fmtBytes(lt.wasmDelta / lt.n)})${alone}` : "-", lt?.bytesPerJob != null && lt.bytesPerJob <= 2048);
  const herd = hd.smart;
  add("herd: peak/mean requests per 100 ms <= 2", herd ? `${herd.peakOverMean.toFixed(2)} (peak ${herd.peak}, mean ${herd.mean.toFixed(1)})` : "-", herd ? herd.peakOverMean <= 2 : false);
  add("herd: at most one 429 per job", herd ? `${herd.r429PerJob.toFixed(2)} per job, max ${herd.r429Max}, ${herd.jobsOver1} jobs with more than one` : "-", herd ? herd.r429Max <= 1 : false);
  const lags = smartStream.map(({ w, c }) => `${w.kind} ${fmtMs(c.lagP50)}`).join(", ");
  add("over the stream: detection lag p50 <= 100 ms", lags || "-", smartStream.length > 0 && smartStream.every(({ c }) => c.lagP50 !== null && c.lagP50 <= 100));
  const polls = smartStream.map(({ w, c }) => `${w.kind} mean ${c.pollsMean.toFixed(1)}, max ${c.pollsMax}`).join("; ");
  add("over the stream: at most 2 HTTP requests per job besides the stream", polls || "-", smartStream.length > 0 && smartStream.every(({ c }) => c.pollsMax <= 2));
  return out;
}

export const fmtMs = (v) => (v === null || v === undefined ? "-" : v >= 10000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);
export const fmtX = (v) => (v === null || v === undefined ? "-" : `${v.toFixed(1)}x`);
export const fmtBytes = (v) => (v === null || v === undefined || !Number.isFinite(v) ? "-" : Math.abs(v) >= 1024 ? `${(v / 1024).toFixed(2)} KB` : `${v.toFixed(0)} B`);

// ---------- main ----------

export async function runBench(config = FULL, { log = console.log } = {}) {
  const b = new Bench(config, log);
  const t0 = Date.now();
  const loadAtStart = loadavg();
  try {
    await b.launch();
    log(`Chromium ${b.chromiumVersion}; package ${PKG_ENTRY}; ${config.smoke ? "smoke run" : "full run"}`);
    const only = config.only ?? ["firstPoll", "startStop", "running", "herd", "matrix"];
    const phase = (name, fn, none = []) => (only.includes(name) ? fn(b) : Promise.resolve(none));
    let matrix, startStop, running, herd, firstPoll;
    if (config.parallel) {
      [firstPoll, matrix, startStop, running, herd] = await Promise.all([
        phase("firstPoll", firstPollPhase, null), phase("matrix", matrixPhase), phase("startStop", startStopPhase), phase("running", runningPhase), phase("herd", herdPhase),
      ]);
    } else {
      // the CPU-bound measurements first, alone on the machine; the matrix (mostly waiting) last
      firstPoll = await phase("firstPoll", firstPollPhase, null);
      startStop = await phase("startStop", startStopPhase);
      running = await phase("running", runningPhase);
      herd = await phase("herd", herdPhase);
      matrix = await phase("matrix", matrixPhase);
    }
    const results = {
      meta: {
        date: new Date().toISOString().slice(0, 10),
        chromium: b.chromiumVersion,
        node: process.version,
        cpus: cpus().length,
        // the machine's load average (1, 5, 15 min) when the run started and ended
        load: { start: loadAtStart.map(round2), end: loadavg().map(round2) },
        pkgEntry: PKG_ENTRY,
        pkg: pkgIdentity(),
        seconds: Math.round((Date.now() - t0) / 1000),
        config,
      },
      matrix, startStop, running, herd, firstPoll,
      pageErrors: b.pageErrors,
    };
    results.targets = config.only ? [] : targets(results);
    return results;
  } finally {
    await b.close();
  }
}

/** Which build was measured: HEAD, and the .wasm's size, date and hash (pkg/ is not in git). */
function pkgIdentity() {
  let head = null;
  try {
    head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    // not a checkout
  }
  const wasm = path.join(ROOT, "pkg", "smart_polling_bg.wasm");
  if (!existsSync(wasm)) return { head };
  const bytes = readFileSync(wasm);
  return {
    head,
    wasmBytes: bytes.length,
    wasmSha256: createHash("sha256").update(bytes).digest("hex").slice(0, 12),
    wasmBuilt: statSync(wasm).mtime.toISOString().slice(0, 16).replace("T", " "),
  };
}

const BEGIN = "<!-- bench:browser:begin (generated by node bench/run.mjs; edits here are replaced) -->";
const END = "<!-- bench:browser:end -->";
const FP_BEGIN = "<!-- bench:firstpoll:begin (generated by node bench/run.mjs --only firstPoll; edits here are replaced) -->";
const FP_END = "<!-- bench:firstpoll:end -->";

/** BENCHMARKS.md with the section between `begin` and `end` replaced (appended the first time). */
function replaceSection(md, begin, end, body) {
  const section = `${begin}\n${body}\n${end}`;
  const a = md.indexOf(begin.slice(0, 30));
  const z = md.indexOf(end);
  return a >= 0 && z > a ? md.slice(0, a) + section + md.slice(z + end.length) : md.replace(/\s*$/, "\n\n") + section + "\n";
}

/**
 * Replaces the generated sections of BENCHMARKS.md and writes the charts: the
 * browser section from a full run, the first-poll section from any run with
 * the firstPoll phase.
 */
export function writeReport(results) {
  const chartDir = path.join(ROOT, "docs", "bench");
  mkdirSync(chartDir, { recursive: true });
  const file = path.join(ROOT, "BENCHMARKS.md");
  let md = readFileSync(file, "utf8");
  if (results.matrix?.length) {
    for (const w of results.matrix) writeFileSync(path.join(chartDir, `${w.key}.svg`), scatterSvg(w));
    writeFileSync(path.join(chartDir, "herd.svg"), herdSvg(results.herd));
    writeFileSync(path.join(chartDir, "results.json"), JSON.stringify(stripPerJob({ ...results, firstPoll: undefined }), null, 1) + "\n");
    md = replaceSection(md, BEGIN, END, renderMarkdown(results, { FAULTS, fmtMs, fmtX, fmtBytes }));
  }
  if (results.firstPoll) {
    const { meta } = results;
    writeFileSync(path.join(chartDir, "first-poll.json"), JSON.stringify({ meta, firstPoll: results.firstPoll }, null, 1) + "\n");
    md = replaceSection(md, FP_BEGIN, FP_END, renderFirstPoll(results, { fmtMs }));
  }
  writeFileSync(file, md);
}

function stripPerJob(results) {
  return {
    ...results,
    matrix: results.matrix.map((w) => ({ ...w, cells: w.cells.map(({ perJob, ...c }) => c) })),
  };
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const args = process.argv.slice(2);
  const smoke = args.includes("--smoke");
  const jsonAt = args.indexOf("--json");
  const onlyAt = args.indexOf("--only"); // e.g. --only startStop,herd (for working on one phase; writes nothing)
  const only = onlyAt >= 0 ? args[onlyAt + 1].split(",") : undefined;
  const fromAt = args.indexOf("--from"); // --from results.json (of --json): write the report again without running
  if (fromAt >= 0) {
    writeReport(JSON.parse(readFileSync(args[fromAt + 1], "utf8")));
    console.log("Wrote the generated sections of BENCHMARKS.md and docs/bench/* from", args[fromAt + 1]);
    process.exit(0);
  }
  const results = await runBench({ ...(smoke ? SMOKE : FULL), only });
  if (jsonAt >= 0 && args[jsonAt + 1]) writeFileSync(args[jsonAt + 1], JSON.stringify(results, null, 1));
  if (!only) console.log("\nTargets (issue 10, item 2):");
  if (!only) for (const t of results.targets) console.log(`  ${t.met ? "MET   " : "MISSED"} ${t.name}: ${t.measured}`);
  if (results.pageErrors.length) console.log(`page errors:\n  ${results.pageErrors.slice(0, 10).join("\n  ")}`);
  if (!smoke && !only) {
    writeReport(results);
    console.log(`\nWrote the browser and first-poll sections of BENCHMARKS.md and docs/bench/* (${results.meta.seconds} s).`);
  } else if (!smoke && only.length === 1 && only[0] === "firstPoll" && !process.env.BENCH_FIRSTPOLL) {
    writeReport(results);
    console.log(`\nWrote the first-poll section of BENCHMARKS.md and docs/bench/first-poll.json (${results.meta.seconds} s).`);
  } else {
    console.log(`\n${smoke ? "smoke run" : "partial run"}: ${results.meta.seconds} s, nothing written`);
  }
}
