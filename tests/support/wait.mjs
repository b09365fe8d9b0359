// Waiting in every Node-side test tier (tests/node, e2e, server/test,
// consumers): wait for the event, not for a duration. Poll for the
// condition with a generous deadline, then assert order and counts; where
// an interval itself is the behaviour, assert a tight lower bound and a
// loose upper bound (at least twice the nominal). `sleep` is for proving an
// absence only, over a window long next to the interval it watches.

/** Resolves after `ms` ms. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `cond` (sync or async) until it returns a truthy value, and returns
 * that value. Throws "timed out after N ms waiting for <what>" once
 * `timeout` ms have passed. `options`: the timeout in ms, or
 * `{ timeout = 10000, every = 10, what = "a condition" }`.
 */
export async function until(cond, options = {}) {
  const { timeout = 10000, every = 10, what = "a condition" } = typeof options === "number" ? { timeout: options } : options;
  const end = performance.now() + timeout;
  for (;;) {
    const value = await cond();
    if (value) return value;
    if (performance.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(every);
  }
}
