// Start/stop speed of builds of the package, compared in Node (the check
// BENCHMARKS.md's "Size (issue 20)" runs before keeping a size change that
// could cost speed, e.g. an allocator):
//
//   node --expose-gc scripts/startstop.mjs [--runs 6] [--rounds 15] PKG_DIR...
//
// Each PKG_DIR is a copy of pkg/ after `npm run build`. Each run is a fresh
// Node process per build, the builds alternating (so that other load on the
// machine falls on all of them alike); in a run, each round is a new
// PollingManager (`initSync`, `shareAcrossTabs: false`, no stream) that starts
// 10 000 jobs whose fetch never answers (it rejects when aborted), waits
// 300 ms, then stops them all. The first round of a run (JIT and memory
// growth) is left out; the others are pooled: p25, median and p75 of
// "start" (the 10 000 startPolling calls and the microtasks after them) and
// "stop" (stopAllPolling and the first task after it).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const N = 10_000;
const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  return i < 0 ? fallback : Number(argv.splice(i, 2)[1]);
};
const runs = flag("--runs", 6);
const rounds = flag("--rounds", 15);
const child = flag("--child", 0);

if (child) {
  // One run of one build: prints its rounds as JSON.
  const dir = resolve(argv[0]);
  const { initSync, PollingManager } = await import(pathToFileURL(join(dir, "index.js")));
  initSync({ module: readFileSync(join(dir, "smart_polling_bg.wasm")) });
  globalThis.fetch = (_input, init) =>
    new Promise((_, reject) => {
      init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const rows = { start: [], stop: [] };
  for (let r = 0; r < rounds; r++) {
    const m = new PollingManager({ fileUrl: "http://api.example/file/{id}", eventsUrl: null, shareAcrossTabs: false });
    const callbacks = { onComplete() {}, onError() {} };
    const ids = Array.from({ length: N }, (_, i) => `r${r}_${i}`);
    await sleep(20);
    globalThis.gc?.();
    const t0 = performance.now();
    for (const id of ids) m.startPolling(id, callbacks);
    await Promise.resolve();
    const t1 = performance.now();
    await sleep(300);
    const t2 = performance.now();
    m.stopAllPolling();
    await sleep(0);
    const t3 = performance.now();
    globalThis.gc?.();
    rows.start.push(t1 - t0);
    rows.stop.push(t3 - t2);
    m.free?.();
  }
  console.log(JSON.stringify(rows));
  process.exit(0);
}

if (argv.length === 0) {
  console.error("usage: node --expose-gc scripts/startstop.mjs [--runs 6] [--rounds 15] PKG_DIR...");
  process.exit(2);
}
const pooled = new Map(argv.map((d) => [d, { start: [], stop: [] }]));
for (let run = 0; run < runs; run++) {
  for (const dir of argv) {
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", fileURLToPath(import.meta.url), "--child", "1", "--rounds", String(rounds), dir],
      { encoding: "utf8" },
    );
    const rows = JSON.parse(out);
    for (const k of ["start", "stop"]) pooled.get(dir)[k].push(...rows[k].slice(1));
  }
}
const q = (a, p) => [...a].sort((x, y) => x - y)[Math.floor(p * (a.length - 1))].toFixed(1);
for (const [dir, rows] of pooled) {
  const cols = Object.entries(rows).map(([k, v]) => `${k} p25 ${q(v, 0.25)} / median ${q(v, 0.5)} / p75 ${q(v, 0.75)} ms`);
  console.log(`${dir} (${rows.start.length} rounds): ${cols.join("; ")}`);
}
