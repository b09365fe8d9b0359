// Each test that installs vitest's default fake timers (which fake
// `performance` too, starting again at each install) gets exact waits and
// an exact timeout, whatever fake time the tests before it used. A file of
// its own: vitest gives each file a fresh module, so the jobs' clock here
// has seen only these tests.
import { readFileSync } from "node:fs";
import { afterEach, beforeAll, expect, test, vi } from "vitest";
import { configureDefaults, initSync, pollFileCompletion, smartPollingManager } from "../../pkg/index.js";

beforeAll(() => {
  initSync({ module: readFileSync(new URL("../../pkg/smart_polling_bg.wasm", import.meta.url)) });
  configureDefaults({ shareAcrossTabs: false });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const pending = (id: string) => new Response(JSON.stringify({ id, url: null }));

test("a first test polls through 5 s of fake time", async () => {
  vi.useFakeTimers();
  vi.stubGlobal("fetch", vi.fn(async () => pending("seq-1")));
  const result = pollFileCompletion("seq-1", { intervals: [1000], jitter: 0, maxDuration: 60_000 });
  await vi.advanceTimersByTimeAsync(5000);
  smartPollingManager.stopAllPolling();
  expect((await result).failure?.kind).toBe("stopped");
});

test("the next one's waits and timeout are exact", async () => {
  vi.useFakeTimers();
  const start = Date.now();
  const at: number[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => {
      at.push(Date.now() - start);
      return pending("seq-2");
    }),
  );
  let result: Awaited<ReturnType<typeof pollFileCompletion>> | null = null;
  pollFileCompletion("seq-2", { intervals: [10_000], jitter: 0, maxDuration: 30_000 }).then((r) => (result = r));
  await vi.advanceTimersByTimeAsync(30_000);
  expect(at).toEqual([0, 10_000, 20_000]);
  expect(result?.method).toBe("timeout");
  expect(result?.duration).toBe(30_000);
});
