// The README shipped in the npm tarball (npm/README.md) is checked as code:
//
// - every ```ts, ```tsx and ```js snippet compiles under `tsc --strict`
//   against the built declarations (pkg/index.d.ts as "smart-polling",
//   pkg/react.d.ts as "smart-polling/react"; JS with checkJs), each as a
//   module of its own. An HTML comment `<!-- prelude: ... -->` right above a
//   fence is code put before the snippet, unseen on npm (declarations of the
//   app's own names). Third-party test and build tools the README shows
//   (vite, vitest, node:test, ...) resolve to the small stand-ins in
//   tests/readme/shims/, since their real types are not installed here;
//
// - it reads alone: no relative link or image, in-page anchors that exist,
//   and nothing about building the package from the repository.
//
// Needs pkg/ (npm run build). Run: node --test tests/readme/
// (KEEP_README_SNIPPETS=1 keeps the extracted files and their tsconfig.json
// in target/readme-snippets-*/ for `tsc -p`.)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const README = path.join(REPO, "npm/README.md");
// README_PKG: another built package to check against (default: pkg/); keep it
// inside the repository, so that its react.d.ts finds `react`
const PKG = path.resolve(process.env.README_PKG ?? path.join(REPO, "pkg"));
const SHIMS = fileURLToPath(new URL("./shims/", import.meta.url));
const text = readFileSync(README, "utf8");
const lines = text.split("\n");

/** Languages compiled, with the extension their file gets. */
const COMPILED = { ts: "ts", tsx: "tsx", js: "js" };
/** Other fences the README may use (not compiled). */
const OTHER = new Set(["sh", "text", "json"]);

/** Fenced blocks: `{ lang, line (1-based, of the opening fence), code, prelude, preludeLine }`. */
function fences() {
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]);
    if (!open) continue;
    const [, fence, lang] = open;
    // closed by a line of the same character, at least as long, and nothing else
    const closes = (l) => l.trim().length >= fence.length && l.trim() === fence[0].repeat(l.trim().length);
    let end = i + 1;
    while (end < lines.length && !closes(lines[end])) end++;
    assert.ok(end < lines.length, `npm/README.md:${i + 1}: a fence that is never closed`);
    // the prelude: an HTML comment right above the fence (blank lines allowed)
    let j = i - 1;
    while (j >= 0 && lines[j].trim() === "") j--;
    const prelude = j >= 0 ? /^<!--\s*prelude:([\s\S]*?)-->\s*$/.exec(lines[j]) : null;
    out.push({
      lang,
      line: i + 1,
      code: lines.slice(i + 1, end).join("\n"),
      prelude: prelude ? prelude[1].trim() : "",
      preludeLine: prelude ? j + 1 : 0,
    });
    i = end;
  }
  return out;
}

const blocks = fences();
const snippets = blocks
  .filter((b) => b.lang in COMPILED)
  .map((b, n) => ({ ...b, name: `snippet-${String(n + 1).padStart(2, "0")}-line-${b.line}.${COMPILED[b.lang]}` }));

let dir;
let byFile;
let global;

before(() => {
  assert.ok(existsSync(path.join(PKG, "index.d.ts")) && existsSync(path.join(PKG, "react.d.ts")), "pkg/ is built (npm run build)");
  // Inside the repository (the git-ignored target/), so that `react` and
  // its types resolve from the repository's node_modules.
  mkdirSync(path.join(REPO, "target"), { recursive: true });
  dir = mkdtempSync(path.join(REPO, "target", "readme-snippets-"));
  const files = [];
  for (const s of snippets) {
    // The prelude goes on the snippet's first line, so that line numbers map
    // 1:1 to the README: before the code, or after a "use client" directive
    // (which must stay first). `export {}` makes every snippet a module.
    const prelude = s.prelude.replace(/\n/g, " ");
    const directive = /^(["'])use client\1;?/.exec(s.code)?.[0] ?? "";
    s.preludeAt = [directive.length, prelude.length];
    const code = prelude ? `${directive}${prelude} ${s.code.slice(directive.length)}` : s.code;
    writeFileSync(path.join(dir, s.name), `${code}\nexport {};\n`);
    files.push(s.name);
  }
  const shim = (f) => [path.join(SHIMS, f)];
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2022", "ESNext.Disposable", "DOM", "DOM.Iterable"],
      module: "ESNext",
      moduleResolution: "Bundler",
      jsx: "react-jsx",
      strict: true,
      skipLibCheck: false,
      isolatedModules: true,
      allowJs: true,
      checkJs: true,
      noEmit: true,
      types: ["react"],
      paths: {
        "smart-polling": [path.join(PKG, "index.d.ts")],
        "smart-polling/react": [path.join(PKG, "react.d.ts")],
        vite: shim("vite.d.ts"),
        webpack: shim("webpack.d.ts"),
        "@vitejs/plugin-react": shim("plugin-react.d.ts"),
        vitest: shim("vitest.d.ts"),
        "@jest/globals": shim("jest-globals.d.ts"),
        "@testing-library/react": shim("testing-library-react.d.ts"),
        "node:test": shim("node-test.d.ts"),
        "node:assert/strict": shim("node-assert-strict.d.ts"),
        "node:fs": shim("node-fs.d.ts"),
        "node:path": shim("node-path.d.ts"),
      },
    },
    files,
  };
  writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(dir, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  byFile = new Map();
  global = [...parsed.errors, ...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file ? path.basename(d.file.fileName) : null;
    if (file && snippets.some((s) => s.name === file) && path.dirname(d.file.fileName) === dir) {
      if (!byFile.has(file)) byFile.set(file, []);
      byFile.get(file).push(d);
    } else if (!global.includes(d)) {
      global.push(d);
    }
  }
});

after(() => {
  if (dir && !process.env.KEEP_README_SNIPPETS) rmSync(dir, { recursive: true, force: true });
});

/** `npm/README.md:LINE:COL TSxxxx message` for a snippet's diagnostic. */
function where(s, d) {
  const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  if (!d.file || d.start === undefined) return `TS${d.code}: ${message}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const [from, length] = s.preludeAt;
  if (line === 0 && length > 0 && character >= from && character < from + length) {
    return `npm/README.md:${s.preludeLine} (the prelude) TS${d.code}: ${message}`;
  }
  const column = line === 0 && length > 0 && character >= from + length ? character - length - 1 : character;
  return `npm/README.md:${s.line + 1 + line}:${column + 1} TS${d.code}: ${message}`;
}

test("every fence names a language the test knows", () => {
  for (const b of blocks) {
    assert.ok(b.lang in COMPILED || OTHER.has(b.lang), `npm/README.md:${b.line}: fence \`\`\`${b.lang || "(none)"}: use ts, tsx, js, sh, text or json`);
  }
  assert.ok(snippets.length >= 10, `only ${snippets.length} snippets found`);
});

test("the compiler itself has nothing to say outside the snippets", () => {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => REPO, getNewLine: () => "\n" };
  assert.deepEqual(global.map((d) => ts.formatDiagnostic(d, host).trim()), []);
});

for (const s of snippets) {
  const first = s.code.split("\n").find((l) => l.trim() && !l.startsWith("//") && !l.startsWith('"use client"')) ?? "";
  test(`snippet at npm/README.md:${s.line} (\`\`\`${s.lang}: ${first.trim().slice(0, 60)}) compiles under --strict`, () => {
    const problems = (byFile.get(s.name) ?? []).map((d) => where(s, d));
    assert.deepEqual(problems, [], `snippet at npm/README.md:${s.line} does not compile:\n${problems.join("\n")}`);
  });
}

// Markdown links, images and reference definitions, and HTML href/src.
function links() {
  const out = [];
  const prose = text.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, (m) => m.replace(/[^\n]/g, " "));
  const add = (re) => {
    for (const m of prose.matchAll(re)) out.push({ href: m[1], line: prose.slice(0, m.index).split("\n").length });
  };
  add(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g);
  add(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm);
  add(/\b(?:href|src)\s*=\s*["']([^"']+)["']/g);
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors() {
  const seen = new Map();
  const out = new Set();
  const prose = text.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, "");
  for (const m of prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]
      .replace(/`/g, "")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

test("links are absolute (https) or in-page anchors that exist", () => {
  const found = links();
  assert.ok(found.length > 0, "no links found: the link reader is broken");
  const bad = found.filter(({ href }) => !/^(https:\/\/|#)/.test(href));
  assert.deepEqual(bad.map(({ href, line }) => `npm/README.md:${line}: ${href}`), [], "relative or non-https links (the README ships alone)");
  const known = anchors();
  const missing = found.filter(({ href }) => href.startsWith("#") && !known.has(href.slice(1)));
  assert.deepEqual(missing.map(({ href, line }) => `npm/README.md:${line}: ${href}`), [], "anchors with no heading");
});

test("nothing about building the package or the repository's files", () => {
  const banned = [
    /npm start/i,
    /cargo/i,
    /wasm-pack/i,
    /BENCHMARKS\.md/,
    /upstream-api\.md/,
    /\bwww\//,
    /\bsrc\/(core|web)\b/,
    /react\/usePolling/,
    /\bscripts\//,
    /\be2e\//,
    /\btests\/(node|types|readme)\b/,
    /(^|[\s`(])pkg\//,
  ];
  const hits = [];
  lines.forEach((l, i) => {
    for (const re of banned) if (re.test(l)) hits.push(`npm/README.md:${i + 1}: ${re} in: ${l.trim().slice(0, 100)}`);
  });
  assert.deepEqual(hits, []);
});
