// Fake timers, as unit tests of the users' code install them (issue: a
// front end's tests with a mocked fetch): node:test's `mock.timers` fakes
// `setTimeout` and leaves `performance` alone, as vitest before 3 and jest's
// legacy timers do. The jobs' clock must move with the timers that fire,
// or every wake finds nothing due and a job never polls again.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, test } from "node:test";

import { initSync, PollingManager } from "../../pkg/index.js";

before(() => {
  initSync({ module: readFileSync(new URL("../../pkg/smart_polling_bg.wasm", import.meta.url)) });
});

/** Lets the promise jobs of fetch, its body and the wasm tasks run. */
async function settle() {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

test("fake timers that leave performance alone drive the jobs: each advance of the wait sends the next request", async (t) => {
  const requests = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url) => {
    requests.push(Math.round(performance.now()));
    const done = requests.length >= 4;
    return new Response(JSON.stringify({ id: "ft-1", url: done ? "https://cdn.example/ft-1.png" : null }));
  };
  t.after(() => {
    globalThis.fetch = realFetch;
  });
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const m = new PollingManager({
    fileUrl: "http://api.example/file/{id}",
    eventsUrl: null,
    shareAcrossTabs: false,
    intervals: [2000],
    initialDelay: 2000,
    maxDelay: 2000,
    jitter: 0,
  });
  t.after(() => m.free());
  const seen = { complete: 0 };
  m.startPolling("ft-1", { onComplete: () => seen.complete++ });
  // The first request goes at once (a zero-delay timer).
  for (let i = 0; i < 3 && requests.length === 0; i++) {
    t.mock.timers.tick(0);
    await settle();
  }
  assert.equal(requests.length, 1, "the first request");
  // Each 2 s of fake time (performance.now() barely moves) is one request.
  // Real time passes too (a few ms; more beside the other test files), and
  // the wait is counted from when it was planned: 200 ms of slack.
  for (let n = 2; n <= 4; n++) {
    t.mock.timers.tick(1800);
    await settle();
    assert.equal(requests.length, n - 1, `not before its wait (request ${n})`);
    t.mock.timers.tick(200);
    await settle();
    assert.equal(requests.length, n, `request ${n} after 2 s of fake time`);
  }
  assert.equal(seen.complete, 1, "completed on the fourth answer");
  assert.equal(m.activeCount, 0);
  const realElapsed = requests.at(-1) - requests[0];
  assert.ok(realElapsed < 2000, `performance.now() moved ${realElapsed} ms: the fake timers moved the jobs`);
});
