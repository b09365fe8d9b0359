// The last step of `npm run build`, after wasm-pack: assembles the npm
// package in pkg/. wasm-bindgen's generated files are left exactly as they
// are; the package's entry (npm/index.js and its types) wraps them, and
// pkg/package.json (written by wasm-pack) is updated as JSON to point at it.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";

const dir = process.argv[2] ?? "pkg";
const added = ["index.js", "index.d.ts"];
for (const f of added) copyFileSync(`npm/${f}`, `${dir}/${f}`);

const file = `${dir}/package.json`;
const pkg = JSON.parse(readFileSync(file, "utf8"));
pkg.main = "index.js";
pkg.module = "index.js";
pkg.types = "index.d.ts";
pkg.files = [...new Set([...(pkg.files ?? []), ...added])];
pkg.exports = {
  ".": { types: "./index.d.ts", default: "./index.js" },
  "./smart_polling_bg.wasm": "./smart_polling_bg.wasm",
  "./package.json": "./package.json",
};
writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
console.log(`package: ${dir}/ entry index.js (${added.join(", ")} added)`);
