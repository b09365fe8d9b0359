// The last step of `npm run build`, after wasm-pack: a size pass over pkg/.
//
// 1. wasm-opt renames the module's imports, exports and import module to one
//    or two letters. wasm-bindgen's names carry a 16-hex-digit hash each and
//    appear twice (in the .wasm and in the glue); random hex does not compress.
// 2. The glue and the .d.ts files are rewritten to the new names, and the glue
//    is minified (oxc, through rolldown), as every published client library is.
//
// Nothing in pkg/ is written until the new glue is checked against the new
// module: every import the module declares is provided under its new name,
// and every export the glue uses exists. So a wasm-bindgen upgrade that
// changes the glue's shape fails the build instead of shipping a module that
// does not link, and a failed or repeated run leaves pkg/ as it was.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { minifySync } from "rolldown/utils";

const dir = process.argv[2] ?? "pkg";
const wasmFile = `${dir}/smart_polling_bg.wasm`;
const glueFile = `${dir}/smart_polling.js`;
const dtsFiles = [`${dir}/smart_polling.d.ts`, `${dir}/smart_polling_bg.wasm.d.ts`];
const MODULE = "./smart_polling_bg.js";
const fail = (why) => {
  throw new Error(`shrink: ${why}`);
};

// binaryen from devDependencies, never a system one (Debian's v108 breaks
// the module); the same features as the wasm-opt run of wasm-pack (Cargo.toml).
const local = new URL("../node_modules/.bin/wasm-opt", import.meta.url).pathname;
const wasmOpt = existsSync(local) ? local : "wasm-opt";
const features = [
  "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
  "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue",
];
const tmp = mkdtempSync(join(tmpdir(), "shrink-"));
let bytes, mapping;
try {
  const out = join(tmp, "out.wasm");
  mapping = JSON.parse(
    execFileSync(
      wasmOpt,
      [...features, "--minify-imports-and-exports-and-modules", "--strip-producers",
        "--strip-target-features", wasmFile, "-o", out],
      { encoding: "utf8" },
    ),
  );
  bytes = readFileSync(out);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const module = new WebAssembly.Module(bytes);
const modules = new Set(WebAssembly.Module.imports(module).map((i) => i.module));
if (modules.size !== 1) fail(`expected one import module, found ${[...modules].join(", ")}`);
const [shortModule] = modules;

let glue = readFileSync(glueFile, "utf8");
const rewrite = (re, to, what) => {
  const before = glue;
  glue = glue.replace(re, () => to);
  if (glue === before) fail(`${what} not found in the glue`);
};
const word = (s) => s.replace(/[$]/g, "\\$&");

for (const [from, name, short] of mapping.imports) {
  if (from !== MODULE) fail(`unexpected import module ${from}`);
  rewrite(new RegExp(`\\b${word(name)}(?=: function)`, "g"), short, `import ${name}`);
}
rewrite(`"${MODULE}": import0`, `${JSON.stringify(shortModule)}: import0`, "the import module");
for (const [name, short] of mapping.exports) {
  if (!new RegExp(`\\bwasm\\.${word(name)}\\b`).test(glue)) continue; // unused by the glue
  rewrite(new RegExp(`\\bwasm\\.${word(name)}\\b`, "g"), `wasm.${short}`, `export ${name}`);
}

// The link check, on the rewritten (not yet minified) glue.
const provided = new Set([...glue.matchAll(/^ {8}([\w$]+): function/gm)].map((m) => m[1]));
for (const { name } of WebAssembly.Module.imports(module)) {
  if (!provided.has(name)) fail(`the module imports ${name}, which the glue does not provide`);
}
const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
for (const [, name] of glue.matchAll(/\bwasm\.([\w$]+)/g)) {
  if (!exported.has(name)) fail(`the glue uses wasm.${name}, which the module does not export`);
}

const min = minifySync("smart_polling.js", glue, { compress: true, mangle: true });
if (min.errors?.length) fail(`minify failed: ${min.errors[0].message}`);

// The init functions return the raw exports, typed by name in the .d.ts files.
const dts = dtsFiles.map((file) => {
  let text = readFileSync(file, "utf8");
  for (const [name, short] of mapping.exports) {
    const re = new RegExp(`(readonly |export const )${word(name)}:`, "g");
    text = text.replace(re, (_, prefix) => `${prefix}${short}:`);
  }
  const left = text.match(/(?:readonly |export const )(__wbg|__wbindgen|pollingmanager|wasm_bindgen)\w*:/);
  if (left) fail(`${left[0]} left in ${file}`);
  return [file, text];
});

writeFileSync(wasmFile, bytes);
writeFileSync(glueFile, `/* @ts-self-types="./smart_polling.d.ts" */\n${min.code}`);
for (const [file, text] of dts) writeFileSync(file, text);
