// The last step of `npm run build`, after wasm-pack: assembles the npm
// package in pkg/. wasm-bindgen's generated files are left exactly as they
// are; the package's entry (npm/index.js and its types) wraps them, the React
// hooks (react/, entry react/hooks.ts) are bundled into the subpath export
// `smart-polling/react` (react.js + react.d.ts, importing the package by its
// own name), README links relative to the repository are turned into text
// (they would break on npm), and pkg/package.json (written by wasm-pack) is
// updated as JSON to point at all of it.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { rolldown } from "rolldown";
import { dts } from "rolldown-plugin-dts";
import ts from "typescript";
import { packageCjs } from "./package-cjs.mjs";

const dir = process.argv[2] ?? "pkg";
const added = ["index.js", "index.d.ts", "env.js", "README.md"]; // npm/README.md: the users' manual
for (const f of added) copyFileSync(`npm/${f}`, `${dir}/${f}`);

// --- smart-polling/react: the hooks in react/ (entry react/hooks.ts),
// type-checked against this package's own index.d.ts, then bundled by
// rolldown into one ES2022 module and one declaration file (rolldown-plugin-dts).
const hooks = "react/hooks.ts";
const compilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2022.d.ts", "lib.esnext.disposable.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  isolatedModules: true,
  skipLibCheck: true,
  noEmit: true,
  types: [],
  baseUrl: ".",
  paths: { "smart-polling": [path.resolve(dir, "index.d.ts")] },
};
const problems = ts.getPreEmitDiagnostics(ts.createProgram([hooks], compilerOptions));
if (problems.length > 0) {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => "\n" };
  console.error(ts.formatDiagnostics(problems, host));
  throw new Error(`package: ${hooks} does not compile`);
}
const emitted = { "react.js": null, "react.d.ts": null };
{
  const build = await rolldown({
    input: { react: hooks },
    external: ["react", "smart-polling"],
    platform: "neutral",
    logLevel: "warn",
    plugins: [
      dts({
        tsconfig: false,
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2022", "ESNext.Disposable", "DOM", "DOM.Iterable"],
          module: "ESNext",
          moduleResolution: "Bundler",
          strict: true,
          skipLibCheck: true,
          types: [],
          baseUrl: ".",
          paths: compilerOptions.paths,
        },
      }),
    ],
  });
  // the hooks are client code: a React Server Component may render the provider
  const { output } = await build.generate({ format: "es", entryFileNames: "[name].js", banner: (chunk) => (chunk.fileName === "react.js" ? '"use client";' : "") });
  await build.close();
  for (const chunk of output) {
    if (!(chunk.fileName in emitted)) throw new Error(`package: unexpected output ${chunk.fileName}`);
    emitted[chunk.fileName] = chunk.type === "chunk" ? chunk.code : String(chunk.source);
  }
}
for (const [name, text] of Object.entries(emitted)) {
  if (text === null) throw new Error(`package: ${hooks} emitted no ${name}`);
  if (name === "react.js" && !text.startsWith('"use client";\n')) {
    throw new Error(`package: react.js must start with the "use client" directive`);
  }
  // the hooks must reach the package itself, by its name (never a path into the repository)
  if (!/^import .* from "smart-polling";$/m.test(text) || /^(import|export)\b[^;]* from "\.\.?\//m.test(text)) {
    throw new Error(`package: ${name} must import "smart-polling" by name and nothing by relative path`);
  }
  writeFileSync(`${dir}/${name}`, text);
  added.push(name);
}
// --- the CommonJS build, for Node's require (Jest): scripts/package-cjs.mjs
added.push(...(await packageCjs(dir)));

// --- the public type surface has no `any`: every declaration exported by
// index.d.ts and react.d.ts, and every type of this package they refer to
// (the glue's raw exports, e.g. InitOutput, are not exported and not checked).
{
  const files = ["index.d.ts", "react.d.ts"].map((f) => path.resolve(dir, f));
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    lib: ["lib.es2022.d.ts", "lib.esnext.disposable.d.ts", "lib.dom.d.ts"],
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    module: ts.ModuleKind.ESNext,
    types: [],
    baseUrl: ".",
    paths: { "smart-polling": [files[0]], react: ["node_modules/@types/react/index.d.ts"] },
  });
  const checker = program.getTypeChecker();
  const ours = (decl) => path.resolve(decl.getSourceFile().fileName).startsWith(path.resolve(dir) + path.sep);
  const seen = new Set();
  const found = [];
  const visitSymbol = (symbol) => {
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    for (const decl of symbol.declarations ?? []) {
      if (!ours(decl) || seen.has(decl)) continue;
      seen.add(decl);
      visit(decl);
    }
  };
  const visit = (node) => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) {
      const sf = node.getSourceFile();
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${path.basename(sf.fileName)}:${line + 1}`);
    }
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node) || ts.isTypeQueryNode(node)) {
      const name = ts.isTypeReferenceNode(node) ? node.typeName : ts.isTypeQueryNode(node) ? node.exprName : node.expression;
      const symbol = checker.getSymbolAtLocation(name);
      if (symbol) visitSymbol(symbol);
    }
    ts.forEachChild(node, visit);
  };
  for (const file of files) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file));
    for (const symbol of checker.getExportsOfModule(module)) visitSymbol(symbol);
  }
  if (found.length > 0) throw new Error(`package: the public types declare \`any\` at ${found.join(", ")}`);
}

// --- README: npm shows it without the repository around it, so relative
// links and images become text naming the file.
const readme = `${dir}/README.md`;
let text;
try {
  text = readFileSync(readme, "utf8");
} catch {
  text = null;
}
if (text !== null) {
  const relative = (href) => !/^([a-z][a-z0-9+.-]*:|#|\/\/)/i.test(href);
  const fixed = text
    .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (all, alt, href) =>
      relative(href) ? `*(${alt || "image"}: \`${href}\` in the repository)*` : all)
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (all, label, href) =>
      !relative(href) ? all : label === href || label === `\`${href}\`` ? `\`${href}\`` : `${label} (\`${href}\`)`);
  writeFileSync(readme, fixed);
}

const file = `${dir}/package.json`;
const pkg = JSON.parse(readFileSync(file, "utf8"));
// `main` for tools that read no `exports` (the main entry only; bundlers take `module`)
pkg.main = "index.cjs";
pkg.module = "index.js";
pkg.types = "index.d.ts";
pkg.files = [...new Set([...(pkg.files ?? []), ...added])];
// `import`, `module` (webpack's, for a require() in a browser build) and
// `module-sync` (Node 20.19+ and 22.10+, whose require() loads an ES module:
// one module instance for the page's imports and a dependency's require)
// before `require`: only an older Node's require, and Jest's, take the
// CommonJS build.
const entry = (name) => ({
  import: { types: `./${name}.d.ts`, default: `./${name}.js` },
  module: { types: `./${name}.d.ts`, default: `./${name}.js` },
  "module-sync": { types: `./${name}.d.ts`, default: `./${name}.js` },
  require: { types: `./${name}.d.cts`, default: `./${name}.cjs` },
  default: { types: `./${name}.d.ts`, default: `./${name}.js` },
});
pkg.exports = {
  ".": entry("index"),
  "./react": entry("react"),
  "./smart_polling_bg.wasm": "./smart_polling_bg.wasm",
  "./package.json": "./package.json",
};
pkg.peerDependencies = { ...pkg.peerDependencies, react: ">=18" };
pkg.peerDependenciesMeta = { ...pkg.peerDependenciesMeta, react: { optional: true } };
writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
console.log(`package: ${dir}/ entry index.js, smart-polling/react (${added.join(", ")} added)`);
