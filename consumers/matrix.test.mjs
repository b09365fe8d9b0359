// Consumer matrix (issue 17): what an npm user receives, in the apps users
// build. pkg/ is packed once (`npm pack`); each app of the matrix is copied
// from consumers/apps/ into a scratch folder of the OS temp dir, gets the
// tarball and the exact versions of VERSIONS below from `npm install`
// (npm's cache first: --prefer-offline), is type-checked under --strict
// against the shipped .d.ts files, built, served and opened in Chromium,
// where a component on `PollingProvider` + `usePolling` (apps/shared/
// Generation.tsx) completes a generation of the demo server and the entry's
// Promise helper checks it again.
//
//   vite5   Vite 5 + @vitejs/plugin-react 4 + React 18 (the oldest React the
//           package's peer dependency names): `optimizeDeps.exclude` (dev server)
//   vite8   Vite 8, the repository's own versions: no setting
//   next15  Next.js 15, app router: `PollingProvider` in app/layout.tsx (a
//           server component), `usePolling` in a client component of the page;
//           `next build` (webpack), `next start`, /api and /media rewritten to
//           the demo server
//   webpack5 webpack 5 + ts-loader + html-webpack-plugin, the Vite app's
//           source: no setting for smart-polling; production build, served
//           by the demo server
//   jest29  Jest 29 + React 18, and jest30 Jest 30 + React 19, as a React
//           code base has them (CommonJS, babel-jest, jsdom), no setting for
//           smart-polling: the README's Jest example runs (the package's
//           CommonJS build, through `require`), and a server render in
//           jsdom puts nothing on the console
//
// Nothing is skipped: if npm cannot install, the test fails with npm's
// output. Every child process runs in its own process group, killed at the
// end whatever happens. Each phase's wall time is printed, and a summary at
// the end. Needs pkg/ (npm run build), the npm registry (or a warm npm
// cache) and /usr/bin/chromium. Run: npm run test:consumers
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { callApi, launchChromium, until } from "../e2e/support.mjs";
import { directives, exportedNames, importSpecifiers } from "../tests/support/source.mjs";
import { createApiServer } from "../server/index.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..");
const PKG = path.join(REPO, "pkg");
const APPS = path.join(HERE, "apps");
const MINUTE = 60_000;

// Every version the matrix installs, exactly. Vite 8's row is the root
// package.json's devDependencies (checked below), so npm's cache has it.
const VERSIONS = {
  vite5: {
    vite: "5.4.21", "@vitejs/plugin-react": "4.7.0",
    react: "18.3.1", "react-dom": "18.3.1", typescript: "5.9.3", "@types/react": "18.3.32", "@types/react-dom": "18.3.7",
  },
  vite8: {
    vite: "8.3.8", "@vitejs/plugin-react": "6.3.0",
    react: "19.3.1", "react-dom": "19.3.1", typescript: "5.9.3", "@types/react": "19.3.3", "@types/react-dom": "19.3.0",
  },
  next15: {
    next: "15.5.29",
    react: "19.3.1", "react-dom": "19.3.1", typescript: "5.9.3", "@types/react": "19.3.3", "@types/react-dom": "19.3.0",
    "@types/node": "20.19.43",
  },
  jest29: {
    jest: "29.7.0", "jest-environment-jsdom": "29.7.0", "babel-jest": "29.7.0",
    "@babel/core": "7.29.17", "@babel/preset-env": "7.29.17", "@babel/preset-react": "7.29.17", "@babel/preset-typescript": "7.29.17",
    "@testing-library/react": "16.3.3", "@testing-library/dom": "10.4.2", react: "18.3.1", "react-dom": "18.3.1",
  },
  jest30: {
    jest: "30.5.2", "jest-environment-jsdom": "30.5.2", "babel-jest": "30.5.2",
    "@babel/core": "7.29.17", "@babel/preset-env": "7.29.17", "@babel/preset-react": "7.29.17", "@babel/preset-typescript": "7.29.17",
    "@testing-library/react": "16.3.3", "@testing-library/dom": "10.4.2", react: "19.3.1", "react-dom": "19.3.1",
  },
  webpack5: {
    webpack: "5.113.0", "webpack-cli": "6.0.1", "html-webpack-plugin": "5.6.8", "ts-loader": "9.6.2",
    react: "19.3.1", "react-dom": "19.3.1", typescript: "5.9.3", "@types/react": "19.3.3", "@types/react-dom": "19.3.0",
  },
};

let tmp; // the scratch root: the tarball and every app
let tarball;
let browser;
const children = new Set(); // process groups started here and still running
const servers = new Set(); // demo servers still open
const times = []; // [label, phase, ms]

// ---------- processes ----------

function childEnv(extra) {
  const env = { ...process.env, NO_COLOR: "1", NEXT_TELEMETRY_DISABLED: "1", ...extra };
  delete env.npm_config_local_prefix; // set by `npm run` to the repository: installs go to the app
  return env;
}

/** Output without the colours some tools print despite NO_COLOR. */
const plain = (text) => text.replace(/\x1b\[[0-9;]*m/g, "");

/** Kills a child's whole process group (SIGTERM, then SIGKILL); resolves when it has exited. */
function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const signal = (s) => {
    try {
      process.kill(-child.pid, s);
    } catch {
      // the group is gone
    }
  };
  signal("SIGTERM");
  const hard = setTimeout(() => signal("SIGKILL"), 5000);
  return exited.finally(() => {
    clearTimeout(hard);
    signal("SIGKILL"); // whatever the leader left behind in its group
  });
}

/** Starts a command in its own process group, its output collected. */
function launch(cmd, args, { cwd, env }) {
  const child = spawn(cmd, args, { cwd, env: childEnv(env), detached: true, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.out = "";
  child.stdoutText = "";
  child.stdout.on("data", (d) => {
    child.out += d;
    child.stdoutText += d;
  });
  child.stderr.on("data", (d) => (child.out += d));
  child.once("exit", () => children.delete(child));
  return child;
}

/** Runs a command to its end; on failure or timeout the error carries its whole output. */
function run(cmd, args, { cwd, env, timeout = 5 * MINUTE } = {}) {
  const child = launch(cmd, args, { cwd, env });
  const what = `${path.basename(cmd)} ${args.join(" ")} (in ${cwd})`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.out += `\n[timed out after ${timeout / 1000} s]`;
      stop(child);
    }, timeout);
    child.once("error", (e) => reject(new Error(`${what}: ${e.message}`)));
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid, "SIGKILL"); // anything the command left running in its group
      } catch {
        // the group is gone
      }
      if (code === 0) resolve({ stdout: child.stdoutText, output: plain(child.out) });
      else reject(new Error(`${what} failed (${code ?? signal}):\n${plain(child.out)}`));
    });
  });
}

/** Starts a server command; resolves with the child once `url` answers. */
async function serve(cmd, args, { cwd, env, url, timeout = MINUTE }) {
  const child = launch(cmd, args, { cwd, env });
  try {
    await until(async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode})`);
      return fetch(url).then(() => true, () => false);
    }, { timeout, what: `${url} to answer` });
  } catch (e) {
    await stop(child);
    throw new Error(`${path.basename(cmd)} ${args.join(" ")}: ${e.message}\n${plain(child.out)}`);
  }
  return child;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function timed(label, phase, fn) {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    const ms = performance.now() - t0;
    times.push([label, phase, ms]);
    console.log(`${label}: ${phase} took ${(ms / 1000).toFixed(1)} s`);
  }
}

async function demoServer(staticDir) {
  const api = await createApiServer({ port: 0, speed: 10, seed: 3, staticDir });
  servers.add(api);
  return api;
}

// ---------- the apps ----------

/** Copies the app's template folders and the shared component into a scratch folder. */
function scaffold(name, { templates, sourceDir, packageJson }) {
  const dir = path.join(tmp, name);
  for (const t of templates) cpSync(path.join(APPS, t), dir, { recursive: true });
  copyFileSync(path.join(APPS, "shared/Generation.tsx"), path.join(dir, sourceDir, "Generation.tsx"));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: `consumer-${name}`, private: true, ...packageJson }, null, 2));
  return dir;
}

/** `npm install` of the tarball and the app's row of VERSIONS; then checks what landed. */
async function install(name, dir) {
  const versions = VERSIONS[name];
  await timed(name, "npm install", () =>
    run("npm", [
      "install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", "--save-exact",
      tarball, ...Object.entries(versions).map(([p, v]) => `${p}@${v}`),
    ], { cwd: dir }),
  );
  for (const [p, v] of Object.entries(versions)) {
    const installed = JSON.parse(readFileSync(path.join(dir, "node_modules", p, "package.json"), "utf8")).version;
    assert.equal(installed, v, `${name}: ${p} installed at the pinned version`);
  }
  assert.ok(existsSync(path.join(dir, "node_modules/smart-polling/smart_polling_bg.wasm")), "the tarball is installed");
}

const bin = (dir, name) => path.join(dir, "node_modules/.bin", name);

/**
 * Opens the app at `url`, completes a generation with the hooks, then checks
 * it again with the Promise helper. The demo server `api` must have seen the
 * job's requests. Returns the url path the .wasm was fetched from.
 */
async function completeAGeneration(url, api) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  // every failed response but the browser's own favicon request (the apps have none)
  page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && errors.push(`${r.status()} ${r.url()}`));
  try {
    await callApi(api, "POST", "/api/stats/reset");
    await page.goto(url);
    await page.waitForSelector('[data-testid="generate"]:enabled', { timeout: 15000 });
    await page.click('[data-testid="generate"]');
    await page.waitForSelector('[data-testid="completed"]', { timeout: 20000 });
    const media = await page.textContent('[data-testid="completed"]');
    assert.match(media, /^\/media\/.+\.png$/);
    assert.equal(await page.getAttribute('[data-testid="status"]', "data-status"), "completed");
    assert.equal(await page.getAttribute('[data-testid="result"]', "src"), media);
    await page.waitForFunction(() => document.querySelector('[data-testid="result"]')?.complete);
    assert.ok(await page.evaluate(() => document.querySelector('[data-testid="result"]').naturalWidth > 0), "the image loaded");

    // the entry's Promise helper shares the hooks' load of the module
    await page.click('[data-testid="check"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="check-result"]')?.textContent !== "", null, { timeout: 15000 });
    assert.equal(await page.textContent('[data-testid="check-result"]'), `ok ${media}`);

    const fileId = await page.textContent('[data-testid="file-id"]');
    const stats = await callApi(api, "GET", "/api/stats");
    assert.deepEqual(Object.keys(stats.byJob), [fileId], "the demo server saw requests for this job only");
    assert.ok(stats.byJob[fileId].total >= 2, `the job was followed and checked again: ${JSON.stringify(stats.byJob[fileId])}`);
    const wasm = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name).filter((n) => /\.wasm(\?|$)/.test(n)));
    assert.equal(wasm.length, 1, `the .wasm was fetched once: ${wasm}`);
    assert.deepEqual(errors, []);
    const wasmUrl = new URL(wasm[0]);
    assert.equal(wasmUrl.origin, new URL(url).origin, "the .wasm comes from the app's origin");
    return wasmUrl.pathname;
  } catch (e) {
    if (errors.length > 0) e.message += `\nthe page reported: ${errors.join("\n")}`;
    throw e;
  } finally {
    await context.close();
  }
}

/** A browser build takes the ES module, without the CommonJS build or the Node-only env.js. */
function shipsTheEsModuleOnly(out) {
  const js = readdirSync(out).filter((f) => f.endsWith(".js"));
  assert.ok(js.length > 0, `JS in ${out}`);
  for (const f of js) {
    const code = readFileSync(path.join(out, f), "utf8");
    assert.doesNotMatch(code, /__import_meta_url/, `${f}: no CommonJS build in a browser bundle`);
    assert.doesNotMatch(code, /jsdom environment leaves them out/, `${f}: env.js is dropped (no side effects declared)`);
  }
}

// ---------- the matrix ----------

before(async () => {
  assert.ok(
    existsSync(path.join(PKG, "react.js")) && existsSync(path.join(PKG, "smart_polling_bg.wasm")),
    "pkg/ is built with smart-polling/react (npm run build)",
  );
  tmp = mkdtempSync(path.join(tmpdir(), "smart-polling-consumers-"));
  const { stdout } = await timed("all", "npm pack", () => run("npm", ["pack", PKG, "--pack-destination", tmp, "--json"], { cwd: REPO }));
  tarball = path.join(tmp, JSON.parse(stdout)[0].filename);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await Promise.all([...children].map(stop));
  await Promise.all([...servers].map((s) => s.close()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  const total = {};
  for (const [label, , ms] of times) total[label] = (total[label] ?? 0) + ms;
  console.log("wall time per app and phase (s):");
  for (const label of Object.keys(total)) {
    const phases = times.filter(([l]) => l === label).map(([, p, ms]) => `${p} ${(ms / 1000).toFixed(1)}`);
    console.log(`  ${label}: ${(total[label] / 1000).toFixed(1)} (${phases.join(", ")})`);
  }
});

test("the tarball holds the package as npm users receive it", async () => {
  const out = path.join(tmp, "unpacked");
  mkdirSync(out);
  await run("tar", ["-xzf", tarball, "-C", out], { cwd: tmp });
  const pkg = path.join(out, "package");
  for (const f of ["index.js", "index.d.ts", "react.js", "react.d.ts", "smart_polling.js", "smart_polling.d.ts", "smart_polling_bg.wasm", "package.json", "README.md"]) {
    assert.ok(existsSync(path.join(pkg, f)), `the tarball holds ${f}`);
  }
  for (const f of ["index.cjs", "react.cjs", "index.d.cts", "react.d.cts", "smart_polling.d.cts", "env.js"]) {
    assert.ok(existsSync(path.join(pkg, f)), `the tarball holds ${f}`);
  }
  const manifest = JSON.parse(readFileSync(path.join(pkg, "package.json"), "utf8"));
  const esm = { types: "./react.d.ts", default: "./react.js" };
  // the ES module for every condition but Node's require (Jest)
  assert.deepEqual(manifest.exports["./react"], {
    import: esm, module: esm, "module-sync": esm, require: { types: "./react.d.cts", default: "./react.cjs" }, default: esm,
  });
  assert.deepEqual(manifest.peerDependenciesMeta, { react: { optional: true } });
  // What the hooks' module says, as a bundler parses it (not how it is formatted).
  const react = readFileSync(path.join(pkg, "react.js"), "utf8");
  assert.ok(directives(react).includes("use client"), "the hooks are a client module (Next.js server components may render the provider)");
  const imported = importSpecifiers(react);
  assert.ok(imported.includes("smart-polling"), `the hooks import the package by name: ${imported}`);
  assert.deepEqual(imported.filter((s) => s.startsWith(".")), [], "and none of its files by path (one module instance, whatever the bundler)");
  for (const name of ["initSmartPolling", "PollingProvider", "usePolling", "usePollingGroup", "usePollingManager"]) {
    assert.ok(exportedNames(react).includes(name), `smart-polling/react exports ${name}`);
  }
  const readme = readFileSync(path.join(pkg, "README.md"), "utf8");
  assert.doesNotMatch(readme, /\]\((?![a-z][a-z0-9+.-]*:|#)[^)]+\)/i, "no link relative to the repository in the README npm shows");
});

test("the Vite 8 row is the root package.json's versions", () => {
  const root = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")).devDependencies;
  for (const [p, v] of Object.entries(VERSIONS.vite8)) assert.equal(v, root[p], `${p}: VERSIONS.vite8 and the root package.json`);
});

for (const [name, title] of [["vite5", "Vite 5 + React 18"], ["vite8", "Vite 8 + React 19"]]) {
  describe(`${title} + TypeScript`, () => {
    let dir;
    let api;
    before(async () => {
      dir = scaffold(name, { templates: ["vite", name], sourceDir: "src", packageJson: { type: "module" } });
      await install(name, dir);
      api = await demoServer(path.join(dir, "dist"));
    }, { timeout: 6 * MINUTE });

    test("tsc --strict type-checks the app against the shipped .d.ts", { timeout: 2 * MINUTE }, async () => {
      await timed(name, "tsc", () => run(bin(dir, "tsc"), ["-p", "."], { cwd: dir }));
    });

    test("vite build emits the page and the .wasm as an asset", { timeout: 5 * MINUTE }, async () => {
      const { output } = await timed(name, "vite build", () => run(bin(dir, "vite"), ["build", "--logLevel", "warn"], { cwd: dir }));
      assert.equal(output.trim(), "", "vite build warns about nothing");
      assert.match(readFileSync(path.join(dir, "dist/index.html"), "utf8"), /<script type="module"/);
      const wasm = readdirSync(path.join(dir, "dist/assets")).filter((f) => f.endsWith(".wasm"));
      assert.equal(wasm.length, 1, `one .wasm in dist/assets: ${wasm}`);
      shipsTheEsModuleOnly(path.join(dir, "dist/assets"));
    });

    test("the built app, served with its API, completes a generation in Chromium", { timeout: 2 * MINUTE }, async () => {
      const wasm = await timed(name, "built app in Chromium", () => completeAGeneration(api.url + "/", api));
      assert.match(wasm, /^\/assets\/smart_polling_bg-[\w-]+\.wasm$/);
    });

    test("the dev server (vite.config.js as is, /api proxied) completes a generation", { timeout: 2 * MINUTE }, async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/`;
      const server = await timed(name, "dev server start", () =>
        serve(bin(dir, "vite"), ["--host", "127.0.0.1", "--port", String(port), "--strictPort", "--logLevel", "warn"], {
          cwd: dir, env: { DEMO_API_URL: api.url }, url,
        }),
      );
      try {
        const wasm = await timed(name, "dev app in Chromium", () => completeAGeneration(url, api));
        console.log(`${name}: the dev server served the .wasm from ${wasm}`);
        assert.equal(plain(server.out).trim(), "", "the dev server warns about nothing");
      } finally {
        await stop(server);
      }
    });
  });
}

describe("Next.js 15 (app router) + TypeScript, PollingProvider in the root layout", () => {
  const name = "next15";
  let dir;
  let api;
  let env;
  before(async () => {
    dir = scaffold(name, { templates: [name], sourceDir: "app", packageJson: {} });
    await install(name, dir);
    // the rewrites to the demo API are written into the build: the server runs first
    api = await demoServer(path.join(dir, "no-static-files"));
    env = { DEMO_API_URL: api.url };
  }, { timeout: 6 * MINUTE });

  test("tsc --strict (before the build writes .next/) type-checks the app against the shipped .d.ts", { timeout: 2 * MINUTE }, async () => {
    await timed(name, "tsc", () => run(bin(dir, "tsc"), ["-p", "."], { cwd: dir }));
  });

  test("next build type-checks, compiles and emits the .wasm", { timeout: 5 * MINUTE }, async () => {
    await timed(name, "next build", () => run(bin(dir, "next"), ["build"], { cwd: dir, env }));
    assert.ok(existsSync(path.join(dir, ".next/BUILD_ID")), "the build is complete");
    const wasm = readdirSync(path.join(dir, ".next/static/media")).filter((f) => f.endsWith(".wasm"));
    assert.equal(wasm.length, 1, `one .wasm in .next/static/media: ${wasm}`);
  });

  test("next start renders the layout's provider on the server and completes a generation in Chromium", { timeout: 2 * MINUTE }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const server = await timed(name, "next start", () =>
      serve(bin(dir, "next"), ["start", "--hostname", "127.0.0.1", "--port", String(port)], { cwd: dir, env, url }),
    );
    try {
      const html = await (await fetch(url)).text();
      assert.match(html, /<button data-testid="generate" disabled="">Generate<\/button>/, "the page is rendered on the server, waiting for the wasm");
      const wasm = await timed(name, "app in Chromium", () => completeAGeneration(url, api));
      assert.match(wasm, /^\/_next\/static\/media\/smart_polling_bg\.[0-9a-f]+\.wasm$/, "webpack emitted the .wasm of the glue's new URL(…, import.meta.url)");
    } finally {
      await stop(server);
    }
  });
});

describe("webpack 5 + React + TypeScript, no setting for smart-polling", () => {
  const name = "webpack5";
  let dir;
  let api;
  before(async () => {
    dir = scaffold(name, { templates: ["vite", name], sourceDir: "src", packageJson: {} });
    await install(name, dir);
    api = await demoServer(path.join(dir, "dist"));
  }, { timeout: 6 * MINUTE });

  test("tsc --strict type-checks the app against the shipped .d.ts", { timeout: 2 * MINUTE }, async () => {
    await timed(name, "tsc", () => run(bin(dir, "tsc"), ["-p", "."], { cwd: dir }));
  });

  test("webpack emits the page and the .wasm as an asset; its only warnings are the .wasm's size, as the README says", { timeout: 5 * MINUTE }, async () => {
    const { output } = await timed(name, "webpack", () => run(bin(dir, "webpack"), ["--config", "webpack.config.mjs"], { cwd: dir }));
    assert.doesNotMatch(output, /ERROR/);
    const wasm = readdirSync(path.join(dir, "dist")).filter((f) => f.endsWith(".wasm"));
    assert.equal(wasm.length, 1, `one .wasm in dist: ${wasm}`);
    shipsTheEsModuleOnly(path.join(dir, "dist"));
    // webpack's performance hints count raw bytes (244 KiB): the .wasm is over, and nothing else of ours
    const warnings = output.split(/\n(?=WARNING in )/).filter((w) => w.startsWith("WARNING in "));
    const titles = warnings.map((w) => w.split("\n")[0].trim());
    assert.deepEqual(titles.filter((t) => !/^WARNING in (asset size limit|webpack performance recommendations)/.test(t)), [], output);
    const sizeWarning = warnings.find((w) => w.startsWith("WARNING in asset size limit"));
    if (sizeWarning) {
      const listed = [...sizeWarning.matchAll(/^\s+(\S+) \(/gm)].map((m) => m[1]);
      assert.deepEqual(listed, wasm, `only the .wasm is over the hint: ${sizeWarning}`);
    }
  });

  test("the built app, served with its API, completes a generation in Chromium", { timeout: 2 * MINUTE }, async () => {
    const wasm = await timed(name, "built app in Chromium", () => completeAGeneration(api.url + "/", api));
    assert.match(wasm, /^\/[0-9a-f]+\.wasm$/, "webpack emitted the .wasm of the glue's new URL(…, import.meta.url) at the output's root");
  });
});

for (const [name, title] of [["jest29", "Jest 29 + React 18"], ["jest30", "Jest 30 + React 19"]]) {
  describe(`${title}, a React code base's defaults (CommonJS, babel-jest, jsdom), no setting for smart-polling`, () => {
    let dir;
    before(async () => {
      dir = path.join(tmp, name);
      cpSync(path.join(APPS, "jest"), dir, { recursive: true });
      writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: `consumer-${name}`, private: true }, null, 2));
      await install(name, dir);
    }, { timeout: 6 * MINUTE });

    test("the README's Jest example passes as written; a server render in jsdom is silent", { timeout: 3 * MINUTE }, async () => {
      // the manual's own snippet, not a copy of it
      const readme = readFileSync(path.join(REPO, "npm/README.md"), "utf8");
      const example = /```tsx\n(\/\/ polling\.test\.tsx \(Jest[^\n]*\n[\s\S]*?)```/.exec(readme);
      assert.ok(example, "npm/README.md has the Jest example");
      mkdirSync(path.join(dir, "src"));
      writeFileSync(path.join(dir, "src/polling.test.tsx"), example[1]);
      const { output } = await timed(name, "jest", () => run(bin(dir, "jest"), ["--ci"], { cwd: dir }));
      // and server-render.test.tsx: the provider rendered on the server where a DOM exists
      assert.match(output, /Tests:\s+3 passed, 3 total/, output);
      assert.doesNotMatch(output, /console\.(error|warn)/, "nothing on the console");
    });
  });
}
