// End-to-end: what an npm user receives (issue 9, item 8). The package is
// packed from pkg/ (`npm pack`), installed from the tarball into a scratch
// Vite + React + TypeScript app the way the README ("In a React application",
// "Bundlers") says, together with react, react-dom, vite and
// @vitejs/plugin-react at the versions of the root package.json (npm's cache
// serves them: --prefer-offline), type-checked with `tsc --strict` against
// the shipped .d.ts files, built with `vite build`, served by the demo server
// from the same origin as its API, and driven in Chromium: one component on
// the shipped hooks (`smart-polling/react`) completes a generation, then the
// Promise helper of the entry checks it again.
//
// Nothing is skipped: if npm cannot install, the test fails with npm's output.
// Needs pkg/ (npm run build).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { callApi, launchChromium } from "./support.mjs";
import { createApiServer } from "../server/index.mjs";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const PKG = path.join(REPO, "pkg");
const root = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")).devDependencies;
const exactly = (name) => {
  assert.ok(root[name], `${name} is in the root package.json`);
  return `${name}@${root[name]}`;
};

let tmp;
let app;
let api;
let browser;

/** Runs a command; on failure, the error carries its whole output. */
async function sh(cmd, args, cwd, timeout = 90000) {
  try {
    return await promisify(execFile)(cmd, args, { cwd, timeout, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: "1" } });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${e.stdout ?? ""}\n${e.stderr ?? ""}\n${e.message}`);
  }
}

const FILES = {
  "package.json": JSON.stringify({ name: "scratch-app", private: true, type: "module" }, null, 2),
  // The README's "Bundlers" settings: Vite 5 and 6 need both lines; Vite 8 takes them.
  "vite.config.js": `import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  optimizeDeps: { exclude: ["smart-polling"] },
  build: { target: "es2022" },
});
`,
  "tsconfig.json": JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        // as the README says for skipLibCheck: false (wasm-bindgen's
        // declarations name Symbol.dispose)
        lib: ["ES2022", "ESNext.Disposable", "DOM", "DOM.Iterable"],
        module: "ESNext",
        moduleResolution: "Bundler",
        jsx: "react-jsx",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        isolatedModules: true,
        types: [],
      },
      include: ["src"],
    },
    null,
    2,
  ),
  "index.html": `<!doctype html>
<html><head><meta charset="utf-8"><title>scratch app</title></head>
<body><div id="root"></div><script type="module" src="/src/main.tsx"></script></body></html>
`,
  "src/main.tsx": `import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { PollingProvider } from "smart-polling/react";
import { App } from "./App";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <PollingProvider options={{ maxStreams: 2 }}>
      <App />
    </PollingProvider>
  </StrictMode>,
);
`,
  "src/App.tsx": `import { useState } from "react";
import { pollFileCompletion } from "smart-polling";
import type { PollingResult } from "smart-polling";
import { usePolling, usePollingContext } from "smart-polling/react";

export function App() {
  const manager = usePollingContext(); // null until the wasm has loaded
  const [fileId, setFileId] = useState<string | null>(null);
  const [completed, setCompleted] = useState<string | null>(null);
  const [check, setCheck] = useState<string>("");
  const { status, record, progress, error } = usePolling(manager, fileId, {
    onComplete: (file) => {
      const url: string = file.url; // a completed record always has its url
      setCompleted(url);
    },
  });

  async function generate() {
    const res = await fetch("/api/generate/image", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: "a scratch app", duration: 20 }),
    });
    const body: { fileId: string } = await res.json();
    setFileId(body.fileId);
  }

  async function checkAgain(id: string) {
    const result: PollingResult = await pollFileCompletion(id, { maxDuration: 10000 });
    setCheck(result.success ? \`ok \${result.data.url}\` : \`\${result.method}: \${result.error}\`);
  }

  return (
    <main>
      <button data-testid="generate" disabled={!manager} onClick={generate}>Generate</button>
      <p data-testid="status" data-status={status} data-channel={progress?.channel ?? ""}>
        {status} {progress?.progress ?? ""} {error?.message ?? ""}
      </p>
      {record?.url && <img data-testid="result" src={record.url} alt="result" />}
      {completed && <p data-testid="completed">{completed}</p>}
      {fileId && completed && <button data-testid="check" onClick={() => checkAgain(fileId)}>Check again</button>}
      <p data-testid="check-result">{check}</p>
    </main>
  );
}
`,
};

before(async () => {
  assert.ok(
    existsSync(path.join(PKG, "react.js")) && existsSync(path.join(PKG, "smart_polling_bg.wasm")),
    "pkg/ is built with smart-polling/react (npm run build)",
  );
  tmp = mkdtempSync(path.join(tmpdir(), "smart-polling-tarball-"));
  const { stdout } = await sh("npm", ["pack", PKG, "--pack-destination", tmp, "--json"], REPO);
  const [packed] = JSON.parse(stdout);
  const files = packed.files.map((f) => f.path).sort();
  for (const f of ["index.js", "index.d.ts", "react.js", "react.d.ts", "smart_polling.js", "smart_polling.d.ts", "smart_polling_bg.wasm", "package.json", "README.md"]) {
    assert.ok(files.includes(f), `the tarball holds ${f}: ${files}`);
  }
  const tarball = path.join(tmp, packed.filename);

  app = path.join(tmp, "app");
  for (const [name, text] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(app, name)), { recursive: true });
    writeFileSync(path.join(app, name), text);
  }
  await sh(
    "npm",
    [
      "install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error",
      tarball,
      exactly("react"), exactly("react-dom"), exactly("vite"), exactly("@vitejs/plugin-react"),
      exactly("typescript"), exactly("@types/react"), exactly("@types/react-dom"),
    ],
    app,
    120000,
  );
  api = await createApiServer({ port: 0, speed: 10, seed: 3, staticDir: path.join(app, "dist") });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await api?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("the installed package declares the subpath export and the optional react peer", () => {
  const installed = JSON.parse(readFileSync(path.join(app, "node_modules/smart-polling/package.json"), "utf8"));
  assert.deepEqual(installed.exports["./react"], { types: "./react.d.ts", default: "./react.js" });
  assert.deepEqual(installed.peerDependenciesMeta, { react: { optional: true } });
  const react = readFileSync(path.join(app, "node_modules/smart-polling/react.js"), "utf8");
  assert.match(react, /^import init, \{ PollingManager \} from "smart-polling";$/m, "the hooks import the package by name");
  assert.match(react, /^export function initSmartPolling\(/m);
  const readme = readFileSync(path.join(app, "node_modules/smart-polling/README.md"), "utf8");
  assert.doesNotMatch(readme, /\]\((?![a-z][a-z0-9+.-]*:|#)[^)]+\)/i, "no link relative to the repository in the README npm shows");
});

test("the app type-checks against the shipped .d.ts under --strict", async () => {
  await sh(path.join(app, "node_modules/.bin/tsc"), ["-p", "."], app);
});

/** Opens the app, completes a generation with the hooks, then checks it again with the helper. */
async function completeAGeneration(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  // every failed response but the browser's own favicon request (the dev server has none)
  page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && errors.push(`${r.status()} ${r.url()}`));
  try {
    await call("POST", "/api/stats/reset");
    await page.goto(url);
    await page.waitForSelector('[data-testid="generate"]:enabled', { timeout: 15000 });
    await page.click('[data-testid="generate"]');
    await page.waitForSelector('[data-testid="completed"]', { timeout: 20000 });
    const media = await page.textContent('[data-testid="completed"]');
    assert.match(media, /^\/media\/.+\.png$/);
    assert.equal(await page.getAttribute('[data-testid="status"]', "data-status"), "completed");
    assert.equal(await page.getAttribute('[data-testid="result"]', "src"), media);
    await page.waitForFunction(() => document.querySelector('[data-testid="result"]')?.complete);

    // the entry's Promise helper shares the hooks' load of the module
    await page.click('[data-testid="check"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="check-result"]')?.textContent !== "", null, { timeout: 15000 });
    assert.equal(await page.textContent('[data-testid="check-result"]'), `ok ${media}`);

    const stats = await call("GET", "/api/stats");
    assert.equal(Object.keys(stats.byJob).length, 1, `one job: ${Object.keys(stats.byJob)}`);
    const wasm = await page.evaluate(() => performance.getEntriesByType("resource").filter((e) => /\.wasm(\?|$)/.test(e.name)).length);
    assert.equal(wasm, 1, "the .wasm was fetched once");
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

const call = (method, path, body) => callApi(api, method, path, body);

test("vite build, then a generation completes in Chromium with the shipped hooks", async () => {
  await sh(path.join(app, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], app);
  assert.match(readFileSync(path.join(app, "dist/index.html"), "utf8"), /<script type="module"/);
  await completeAGeneration(api.url + "/");
});

test("the Vite dev server with the README's settings (optimizeDeps.exclude) serves the same app", async () => {
  // the app's own Vite, with its vite.config.js, proxying the API as a dev setup does
  const { createServer } = await import(path.join(app, "node_modules/vite/dist/node/index.js"));
  const server = await createServer({
    root: app,
    logLevel: "warn",
    server: { host: "127.0.0.1", port: 0, strictPort: false, proxy: { "/api": api.url, "/media": api.url } },
  });
  try {
    await server.listen();
    await completeAGeneration(server.resolvedUrls.local[0]);
  } finally {
    await server.close();
  }
});
