// What every end-to-end test file shares: Chromium as this machine has it
// (never downloaded), and calls to the demo server's API.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--disable-quic",
];

export function launchChromium() {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/** A call to the demo server; fails the test on an error status. */
export async function callApi(server, method, path, body) {
  const res = await fetch(server.url + path, {
    method,
    // the demo server takes state changes only as JSON, even without a body
    headers: method === "GET" || method === "HEAD" ? {} : { "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status}`);
  return res.headers.get("content-type")?.includes("json") ? res.json() : res.text();
}

/** Polls `cond` (may be async) every 50 ms until it holds; throws after `timeout` ms. */
export async function waitFor(cond, timeout, what = "a condition") {
  const end = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
