// The last step of `npm run build`, after wasm-pack: a size pass over pkg/.
//
// 1. wasm-opt renames the module's imports, exports and import module to one
//    or two letters. wasm-bindgen's names carry a 16-hex-digit hash each and
//    appear twice (in the .wasm and in the glue); random hex does not compress.
// 2. The glue and the .d.ts files are rewritten to the new names, and the glue
//    is minified (oxc, through rolldown), as every published client library is.
//
// The build fails if any old name is left behind, so a wasm-bindgen upgrade
// that changes the glue's shape cannot produce a module that does not link.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { minifySync } from "rolldown/utils";

const dir = process.argv[2] ?? "pkg";
const wasmFile = `${dir}/smart_polling_bg.wasm`;
const glueFile = `${dir}/smart_polling.js`;
const dtsFiles = [`${dir}/smart_polling.d.ts`, `${dir}/smart_polling_bg.wasm.d.ts`];
const MODULE = "./smart_polling_bg.js";

// The same features as the wasm-opt run of wasm-pack (Cargo.toml).
const features = [
  "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
  "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue",
];
const mapping = JSON.parse(
  execFileSync(
    "wasm-opt",
    [...features, "--minify-imports-and-exports-and-modules", "--strip-producers",
      "--strip-target-features", wasmFile, "-o", wasmFile],
    { encoding: "utf8" },
  ),
);

const escape = (s) => s.replace(/[$]/g, "\\$&");
let glue = readFileSync(glueFile, "utf8");
const replaceAll = (re, to, what) => {
  const before = glue;
  glue = glue.replace(re, to);
  if (glue === before) throw new Error(`shrink: ${what} not found in the glue`);
};

for (const [module, name, short] of mapping.imports) {
  if (module !== MODULE) throw new Error(`shrink: unexpected import module ${module}`);
  replaceAll(new RegExp(`\\b${escape(name)}(?=: function)`, "g"), short, `import ${name}`);
}
replaceAll(`"${MODULE}": import0`, `"a": import0`, "the import module");
for (const [name, short] of mapping.exports) {
  if (!glue.includes(`wasm.${name}`)) continue; // exported, unused by the glue
  replaceAll(new RegExp(`\\bwasm\\.${escape(name)}\\b`, "g"), `wasm.${short}`, `export ${name}`);
}
// Every hashed or wasm-bindgen name must be gone from the glue's wasm calls.
const left = glue.match(/wasm\.(__wbg|__wbindgen|pollingmanager|wasm_bindgen)\w*/g);
if (left) throw new Error(`shrink: names left in the glue: ${left.join(", ")}`);
const importLeft = glue.match(/^\s+__wbg\w*: function/m);
if (importLeft) throw new Error(`shrink: import left in the glue: ${importLeft[0]}`);

const min = minifySync("smart_polling.js", glue, { compress: true, mangle: true });
if (min.errors?.length) throw new Error(`shrink: minify failed: ${min.errors[0].message}`);
writeFileSync(glueFile, `/* @ts-self-types="./smart_polling.d.ts" */\n${min.code}`);

// The init functions return the raw exports, typed by name in the .d.ts files.
for (const file of dtsFiles) {
  let dts = readFileSync(file, "utf8");
  for (const [name, short] of mapping.exports) {
    dts = dts.replace(new RegExp(`(readonly |export const )${escape(name)}:`, "g"), `$1${short}:`);
  }
  writeFileSync(file, dts);
}
