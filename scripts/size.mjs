// The download as users receive it: a one-line consumer of the package,
// bundled by Vite in production mode (minified, the .wasm emitted as an
// asset), and what that build emits gzipped (level 9). Budget 48 KiB, goal
// 40 KiB. Run after `npm run build`: `node scripts/size.mjs`.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "vite";

const pkg = resolve("pkg/index.js");
const root = mkdtempSync(join(tmpdir(), "smart-polling-size-"));
try {
  writeFileSync(join(root, "index.html"), `<script type="module" src="./main.js"></script>`);
  writeFileSync(
    join(root, "main.js"),
    `import init, { PollingManager } from "smart-polling";\n` +
      `init().then(() => new PollingManager().startPolling("id", { onComplete: console.log }));\n`,
  );
  await build({
    root,
    logLevel: "silent",
    configFile: false,
    resolve: { alias: { "smart-polling": pkg } },
    build: { outDir: join(root, "dist"), assetsInlineLimit: 0, target: "es2022" },
  });
  const files = [];
  const walk = (dir) => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(js|wasm)$/.test(f)) files.push(p);
    }
  };
  walk(join(root, "dist"));
  let total = 0;
  for (const f of files.sort()) {
    const raw = readFileSync(f);
    const gz = gzipSync(raw, { level: 9 }).length;
    total += gz;
    const name = f.endsWith(".wasm") ? "the .wasm" : "the JS (package glue + entry + 2-line consumer)";
    console.log(`${name}: ${raw.length} B raw, ${gz} B gzipped`);
  }
  const kib = (total / 1024).toFixed(1);
  const verdict = total <= 40 * 1024 ? "within the 40 KiB goal" : total <= 48 * 1024 ? "within the 48 KiB budget" : "OVER the 48 KiB budget";
  console.log(`total gzipped: ${total} B (${kib} KiB): ${verdict}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
