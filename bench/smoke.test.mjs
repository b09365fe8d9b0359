// The smoke run of the browser benchmark, so that it cannot rot: every phase
// and every workload runs, small, and produces numbers. Nothing here checks
// how fast anything is (benchmarks report numbers; they are never timed tests).
//   node --test --test-reporter=tap bench/
import { test } from "node:test";
import assert from "node:assert/strict";
import { runBench, SMOKE } from "./run.mjs";
import { herdViews } from "./report.mjs";

const finite = (v, what) => assert.ok(Number.isFinite(v), `${what}: ${v}`);

test("the browser benchmark runs every workload and phase and produces numbers (smoke run)", { timeout: 120000 }, async () => {
  const r = await runBench(SMOKE, { log: () => {} });
  assert.deepEqual(r.pageErrors, [], "no errors in the benchmark pages");

  assert.equal(r.matrix.length, 8, "image and video, each clean, 429 storm, 5xx bursts, stream drops");
  for (const w of r.matrix) {
    assert.equal(w.cells.length, 5, `${w.label}: every policy`);
    for (const c of w.cells) {
      const what = `${w.label} / ${c.label}`;
      assert.equal(c.jobs, SMOKE.jobs[w.kind], `${what}: every job ran`);
      assert.equal(c.completed + c.failed + c.unfinished, c.jobs, what);
      finite(c.requestsMean, `${what} requests/job`);
      assert.ok(c.requestsMean > 0, `${what}: the server saw its requests`);
      if (c.completed) finite(c.lagP50, `${what} lag p50`);
    }
  }
  for (const s of r.startStop) {
    for (const k of ["startSync", "start", "stopSync", "stop"]) finite(s[k], `start/stop ${s.label} ${k}`);
    assert.equal(s.active, SMOKE.startStop.n, `${s.label}: every job started`);
    assert.equal(s.after, 0, `${s.label}: every job stopped`);
  }
  for (const s of r.running) {
    finite(s.bytesPerJob, `memory ${s.label}`);
    finite(s.longestSteady, `long tasks ${s.label}`);
  }
  for (const h of r.herd) {
    finite(h.peakOverMean, `herd ${h.label} peak/mean`);
    finite(h.r429PerJob, `herd ${h.label} 429s/job`);
    assert.ok(h.requestsInWindow > 0, `herd ${h.label}: requests during the storm window`);
    const v = herdViews(h, r.meta.config.herd);
    assert.ok(Number.isInteger(v.silent) && v.silent < v.slots, `herd ${h.label}: silent slots ${v.silent} of ${v.slots}`);
    // (its other views need the full run's 5 s before the storm: here they may have no steady rate)
  }
  assert.equal(r.targets.length, 8, "every target of item 2 is evaluated");
  for (const t of r.targets) assert.equal(typeof t.met, "boolean", t.name);
});
