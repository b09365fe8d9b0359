// What the Node test files share (not a test file itself).

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms until it holds; throws after `limit` ms. */
export async function until(cond, limit = 10000) {
  const end = performance.now() + limit;
  while (!cond()) {
    if (performance.now() > end) throw new Error("until: timed out");
    await sleep(5);
  }
}
