// The manual's promise for front ends' unit tests (npm/README.md, "Node,
// tests and server rendering"): vitest's fake timers drive the jobs whether
// or not they fake `performance` (vitest 3 and later fake it by default;
// vitest 1 and 2, and a `toFake` list without it, do not). Run by
// scripts/test.sh: npx vitest run tests/vitest.
import { readFileSync } from "node:fs";
import { afterEach, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import { configureDefaults, initSync, PollingManager, pollFileCompletion } from "../../pkg/index.js";

beforeAll(() => {
  initSync({ module: readFileSync(new URL("../../pkg/smart_polling_bg.wasm", import.meta.url)) });
  configureDefaults({ shareAcrossTabs: false });
});

// Answers "pending" twice, then the file.
let calls = 0;
beforeEach(() => {
  calls = 0;
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      calls++;
      const id = url.split("/").pop();
      return new Response(JSON.stringify({ id, url: calls >= 3 ? `https://cdn.example/${id}.png` : null }));
    }),
  );
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const fakes: Array<[string, Parameters<typeof vi.useFakeTimers>[0]]> = [
  ["vitest's default (performance faked)", undefined],
  ["a toFake list without performance", { toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] }],
  ["setTimeout alone", { toFake: ["setTimeout", "clearTimeout"] }],
];

describe.each(fakes)("fake timers: %s", (_, config) => {
  test("the Promise helper polls once per wait of fake time and resolves", async () => {
    vi.useFakeTimers(config);
    const result = pollFileCompletion("vt-1", { initialInterval: 1000, maxInterval: 1000, maxDuration: 60_000 });
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(3);
    const r = await result;
    expect(r.success).toBe(true);
    expect(r.attempts).toBe(3);
    expect(r.data?.url).toBe("https://cdn.example/vt-1.png");
  });

  test("a manager's job completes as fake time passes, and nothing polls after it", async () => {
    vi.useFakeTimers(config);
    const m = new PollingManager({ eventsUrl: null, shareAcrossTabs: false, intervals: [500], initialDelay: 500, maxDelay: 500, jitter: 0 });
    try {
      const onComplete = vi.fn();
      m.startPolling("vt-2", { onComplete });
      await vi.advanceTimersByTimeAsync(2000);
      expect(calls).toBe(3);
      expect(onComplete).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(5000);
      expect(calls).toBe(3);
    } finally {
      m.free();
    }
  });
});

