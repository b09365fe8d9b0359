// What the Node test files share (not a test file itself).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export { sleep, until } from "../support/wait.mjs";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
let tarball = null;

/**
 * Packs pkg/ (`npm pack`, once per process) and extracts the tarball into a
 * fresh `node_modules/smart-polling` of a temp folder, next to links to the
 * repository's react and react-dom. Each call is a separate install, so a
 * separate module instance. Returns:
 * - `dir`: the package's folder (to break or restore its .wasm);
 * - `load()`: imports `smart-polling` and `smart-polling/react` by name, the
 *   way an app does (through the package's exports), as `{ sp, react }`;
 * - `remove()`.
 */
export function installPacked() {
  const root = mkdtempSync(path.join(tmpdir(), "smart-polling-node-"));
  if (!tarball) {
    const packs = mkdtempSync(path.join(tmpdir(), "smart-polling-pack-"));
    const out = execFileSync("npm", ["pack", path.join(REPO, "pkg"), "--pack-destination", packs, "--json"], { encoding: "utf8" });
    tarball = path.join(packs, JSON.parse(out)[0].filename);
    process.on("exit", () => rmSync(packs, { recursive: true, force: true }));
  }
  const dir = path.join(root, "node_modules/smart-polling");
  mkdirSync(dir, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", dir, "--strip-components=1"]);
  for (const name of ["react", "react-dom"]) {
    symlinkSync(path.join(REPO, "node_modules", name), path.join(root, "node_modules", name), "dir");
  }
  const entry = path.join(root, "app.mjs");
  writeFileSync(entry, 'export * as sp from "smart-polling";\nexport * as react from "smart-polling/react";\n');
  return {
    dir,
    load: () => import(pathToFileURL(entry).href),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * Replaces `globalThis.fetch` with an in-process API until `restore()`:
 * `/file/{id}` (any prefix) answers the file record, completed from the
 * `doneAfter`th request of that id on (never for ids starting "pending";
 * ids starting "down" get a 503 every time).
 * `calls` holds every call's first argument as it came (a url string or a
 * Request).
 */
export function mockFetch({ doneAfter = 2 } = {}) {
  const original = globalThis.fetch;
  const calls = [];
  const perId = new Map();
  globalThis.fetch = async (input, init) => {
    calls.push(input);
    const url = typeof input === "string" ? input : String(input?.url ?? input);
    const id = url.split("?")[0].split("/").pop();
    const n = (perId.get(id) ?? 0) + 1;
    perId.set(id, n);
    if (id.startsWith("down")) return new Response("{}", { status: 503 });
    const done = !id.startsWith("pending") && n >= doneAfter;
    const record = { id, type: "image", url: done ? `https://cdn.example/${id}.png` : null };
    return new Response(JSON.stringify(record), { status: 200, headers: { "content-type": "application/json" } });
  };
  return {
    calls,
    urls: () => calls.map((c) => (typeof c === "string" ? c : c?.url)),
    count: (id) => perId.get(id) ?? 0,
    restore: () => {
      globalThis.fetch = original;
    },
  };
}
