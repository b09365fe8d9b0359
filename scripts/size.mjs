// The download as users receive it: a one-line consumer of the package,
// bundled by Vite in production mode (minified, the .wasm emitted as an
// asset), and what that build emits gzipped (level 9). Target 72 KiB, goal
// 56 KiB (issue 20). Run after `npm run build`: `node scripts/size.mjs`.
//
// `node scripts/size.mjs --symbols [--top N] [--grep RE]... [--retained RE]...`: where the
// bytes of the .wasm go, by module, type and std part (see `symbols()` below).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

if (process.argv.includes("--symbols")) {
  await symbols();
  process.exit(0);
}
const { build } = await import("vite");

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
  const verdict = total <= 56 * 1024 ? "within the 56 KiB goal" : total <= 72 * 1024 ? "within the 72 KiB target" : "OVER the 72 KiB target";
  console.log(`total gzipped: ${total} B (${kib} KiB): ${verdict}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// `--symbols`: where the bytes of the .wasm go. The release library is built
// again (its own target dir, target/size-names, so the normal build is left
// alone) with v0 symbol mangling, whose names carry the generic arguments
// (`VecDeque<(u64, Leadership)>`, not `VecDeque<T>`); wasm-bindgen keeps the
// names (--keep-debug); wasm-opt runs with the flags of Cargo.toml plus `-g`
// (names kept, DWARF dropped). The code section is then that of the shipped
// build, byte for byte or within a few hundred bytes (printed below); a name
// covers what wasm-opt and LLVM inlined into that function. "gz if removed"
// is gzip -9 of the module's bytes (custom sections left out) minus gzip -9 of
// the same without the group's function bodies or strings: what deleting them
// would save compressed (call sites aside). The second raw column is LLVM's
// output before wasm-opt (less inlining, so a finer attribution).
async function symbols() {
  const { execFileSync } = await import("node:child_process");
  const arg = (flag) => process.argv.flatMap((a, i) => (a === flag ? [process.argv[i + 1]] : []));
  const top = Number(arg("--top")[0] ?? 40);
  const greps = arg("--grep");
  const retains = arg("--retained");
  const cargoToml = readFileSync("Cargo.toml", "utf8");
  const optFlags = [...(cargoToml.match(/wasm-opt\s*=\s*\[([^\]]*)\]/)?.[1] ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  const targetDir = resolve(process.env.SIZE_SYMBOLS_TARGET_DIR ?? "target/size-names");
  const rustflags = `${process.env.RUSTFLAGS ?? ""} -C symbol-mangling-version=v0`.trim();
  // binaryen's wasm-opt and wasm-dis from npm (node_modules/.bin), never another one on PATH
  const PATH = `${resolve("node_modules/.bin")}:${process.env.PATH}`;
  const run = (cmd, args, env = {}) =>
    execFileSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, PATH, ...env } });
  run("cargo", ["build", "--release", "--lib", "--target", "wasm32-unknown-unknown"], {
    RUSTFLAGS: rustflags,
    CARGO_TARGET_DIR: targetDir,
  });
  const out = mkdtempSync(join(tmpdir(), "smart-polling-symbols-"));
  try {
    run("wasm-bindgen", ["--target", "web", "--keep-debug", "--out-dir", out, join(targetDir, "wasm32-unknown-unknown/release/smart_polling.wasm")]);
    const bg = join(out, "smart_polling_bg.wasm");
    run("wasm-opt", [...optFlags, "-g", "--strip-dwarf", bg, "-o", join(out, "named.wasm")]);
    const built = resolve("pkg/smart_polling_bg.wasm");
    const shipped = existsSync(built) ? parseWasm(readFileSync(built)) : { code: 0 }; // 0: no pkg/ (npm run build)
    const named = parseWasm(readFileSync(join(out, "named.wasm")));
    const llvm = parseWasm(readFileSync(bg));
    // the call graph, for --retained: wasm-dis (binaryen) prints the module as text
    const wat = retains.length ? execFileSync("wasm-dis", [join(out, "named.wasm")], { maxBuffer: 1 << 30, env: { ...process.env, PATH } }).toString() : null;
    report({ named, llvm, shipped, optFlags, top, greps, retains, wat });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

// Sections, function bodies (with names) and the data segments of a module.
function parseWasm(b) {
  let p = 8;
  const leb = () => {
    let n = 0, s = 0, x;
    do { x = b[p++]; n += (x & 127) * 2 ** s; s += 7; } while (x & 128);
    return n;
  };
  const str = () => { const l = leb(); const s = b.subarray(p, p + l).toString(); p += l; return s; };
  const limits = () => { const f = b[p++]; leb(); if (f & 1) leb(); };
  const sections = [];
  const bodies = [];
  const data = [];
  const names = new Map();
  let imports = 0;
  const ids = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount", "tag"];
  while (p < b.length) {
    const id = b[p++];
    const len = leb();
    const start = p;
    const end = p + len;
    let name = ids[id] ?? `section ${id}`;
    if (id === 0) name = `custom: ${str()}`;
    sections.push({ name, start, end, bytes: b.subarray(start, end) });
    if (id === 2) {
      for (let i = 0, n = leb(); i < n; i++) {
        str(); str();
        const k = b[p++];
        if (k === 0) { leb(); imports++; } else if (k === 1) { p++; limits(); } else if (k === 2) limits(); else if (k === 3) p += 2; else if (k === 4) { p++; leb(); }
      }
    } else if (id === 10) {
      for (let i = 0, n = leb(); i < n; i++) {
        const s = p;
        const size = leb();
        p += size;
        bodies.push({ index: imports + i, start: s, end: p, size: p - s });
      }
    } else if (id === 11) {
      for (let i = 0, n = leb(); i < n; i++) {
        const flags = leb();
        if (flags === 2) leb();
        let addr = null;
        if (flags !== 1) {
          if (b[p] === 0x41) { p++; addr = leb(); } // i32.const (addresses here are below 2^31)
          while (b[p] !== 0x0b) p++;
          p++;
        }
        const size = leb();
        data.push(Object.assign(b.subarray(p, p + size), { addr }));
        p += size;
      }
    } else if (name === "custom: name") {
      while (p < end) {
        const sub = b[p++];
        const sl = leb();
        const se = p + sl;
        if (sub === 1) for (let i = 0, n = leb(); i < n; i++) { const idx = leb(); names.set(idx, str()); }
        p = se;
      }
    }
    p = end;
  }
  for (const f of bodies) f.name = (names.get(f.index) ?? `(unnamed ${f.index})`).replace(/\[[0-9a-f]+\]/g, "");
  return { b, sections, bodies, data, code: sections.find((s) => s.name === "code")?.bytes.length ?? 0 };
}

// A type's name without its path: `smart_polling::core::table::JobId` → `JobId`.
function short(t) {
  return t.replace(/(?:[A-Za-z_][A-Za-z0-9_]*::)+/g, "");
}
// The generic arguments that follow `head<` in `name`, brackets balanced.
function generic(name, head) {
  const i = name.indexOf(head + "<");
  if (i < 0) return null;
  let depth = 0;
  for (let j = i + head.length; j < name.length; j++) {
    if (name[j] === "<") depth++;
    else if (name[j] === ">" && --depth === 0) return short(name.slice(i + head.length + 1, j));
  }
  return null;
}

// Which part of the program a function belongs to: first rule that matches.
function group(n) {
  if (/ shim$/.test(n) || /^(__wbg_|__wbindgen_|__externref_)/.test(n) || /^[a-z][A-Za-z0-9_]*$/.test(n) && !/^(round|exp|log|pow|memcpy|memmove|memset|memcmp|fmod)$/.test(n))
    return "wasm-bindgen: exports, their shims and runtime entry points";
  if (/^\(unnamed/.test(n)) return "unnamed (wasm-bindgen / wasm-opt generated)";
  if (/serde/.test(n) && /(Unexpected|OneOf|invalid_type|invalid_value|invalid_length|unknown_variant|unknown_field|missing_field|Error>::custom|::expecting|Expected for)/.test(n))
    return "serde errors (invalid_type, Unexpected, expecting)";
  if (/flt2dec|Big32x40|<f(32|64) as core::fmt|float_to_(decimal|exponential)|WithDecimalPoint|fmt::float|dec2flt/.test(n))
    return "core::fmt: float formatting (f64 Display, Grisu/Dragon)";
  if (/panic|unwrap_failed|assert_failed|expect_failed|slice_error_fail|slice_index_fail|slice_(start|end)_index|index_len_fail|str_index|into_slice_range|AccessError|unwrap_throw|expect_throw|throw_str|handle_alloc_error|capacity_overflow|rust_begin_unwind|__rust_start_panic|process::abort|TryFromSliceError|BorrowError|BorrowMutError|panic_bounds_check|option::unwrap|result::unwrap/.test(n))
    return "panics: std's panic path, Location and bounds failures";
  if (/core::fmt|alloc::fmt|fmt::Write|as core::fmt::(Display|Debug|LowerHex|UpperHex)|Formatter|PadAdapter|escape_debug|do_count_chars|encode_utf8|ToString|to_string|fmt::builders/.test(n))
    return "core::fmt: integers, strings, Debug, write!/format!";
  if (/dlmalloc|__rdl_|__rust_(alloc|dealloc|realloc|alloc_zeroed)|__rg_|alloc_impl|<alloc::alloc::Global>|alloc::alloc::(alloc|dealloc|realloc)/.test(n))
    return "allocator (dlmalloc, std's alloc shims)";
  if (/serde/.test(n)) {
    const t = n.match(/smart_polling::(?:web|core)::[a-z_]+::[A-Z][A-Za-z0-9_]*(?:<[^<>]*(?:<[^<>]*>)?[^<>]*>)?/);
    if (t) return `serde: ${t[0].replace(/^smart_polling::((?:web|core)::[a-z_]+)::.*$/, "$1")}::${short(t[0])}`;
    return /serde_wasm_bindgen/.test(n) ? "serde-wasm-bindgen: shared (std types, caches, readers)" : "serde: shared (std types)";
  }
  if (/hashbrown|std::collections::hash|HashMap<|HashSet<|FxHasher|FxBuildHasher|core::hash|BuildHasher|RandomState/.test(n))
    return "hashbrown (HashMap / FxHashMap)";
  if (/vec_deque|VecDeque</.test(n)) return `VecDeque<${generic(n, "VecDeque") ?? generic(n, "Drain") ?? generic(n, "Iter") ?? "?"}>`;
  if (/binary_heap|BinaryHeap</.test(n)) return `BinaryHeap<${generic(n, "BinaryHeap") ?? "?"}>`;
  if (/btree|BTreeMap|BTreeSet/.test(n)) return "BTreeMap / BTreeSet";
  if (/slice::sort/.test(n)) return "slice sort (std)";
  if (/core::str::pattern|StrSearcher|TwoWaySearcher|::replacen|<impl str>::(contains|find|replace|split|starts_with|ends_with)|memchr|join_generic_copy|eq_ignore_ascii_case|str::count/.test(n))
    return "string searching, replacing, joining (std)";
  const own = n.match(/^<?(?:core::ptr::drop_in_place::<)?<?smart_polling::((?:web|core)::[a-z_]+)/) ?? n.match(/smart_polling::((?:web|core)::[a-z_]+)/);
  if (/drop_in_place/.test(n)) return own ? `drop glue: smart_polling::${own[1]} types` : "drop glue: std / js-sys types";
  if (own) return `smart_polling::${own[1]}`;
  if (/^<?(js_sys|web_sys|wasm_bindgen_futures|wasm_bindgen|gloo_timers|gloo)/.test(n) || /<?(js_sys|wasm_bindgen)::/.test(n))
    return "wasm-bindgen runtime, js-sys, web-sys, futures, gloo-timers";
  if (/compiler_builtins|libm|^(round|exp|log|pow|fmod|memcpy|memmove|memset|memcmp)$|^__(multi3|ashl|lshr|udiv|umod|div|mod)/.test(n))
    return "compiler-builtins (libm exp/log/round, memcpy, i128)";
  if (/^<?(alloc|core|std)::/.test(n)) return "std: Vec, String, Rc, iterators, other";
  return "other";
}

function report({ named, llvm, shipped, optFlags, top, greps, retains, wat }) {
  const gz = (parts) => gzipSync(Buffer.concat(parts), { level: 9 }).length;
  // the module's bytes as gzip sees them, less what `drop` leaves out
  const kept = named.sections.filter((s) => !s.name.startsWith("custom"));
  const without = (dropBody, dropData) => {
    const parts = [];
    for (const s of kept) {
      if (s.name === "code") for (const f of named.bodies) { if (!dropBody(f)) parts.push(named.b.subarray(f.start, f.end)); }
      else if (s.name === "data" && dropData) parts.push(...named.data.map((d) => dropData(d)));
      else parts.push(s.bytes);
    }
    return gz(parts);
  };
  const whole = without(() => false);
  const groups = new Map();
  const add = (key, f, col) => {
    const g = groups.get(key) ?? { key, raw: 0, llvm: 0, n: 0, fns: new Set() };
    g[col] += f.size;
    if (col === "raw") { g.n++; g.fns.add(f); }
    groups.set(key, g);
  };
  for (const f of named.bodies) add(group(f.name), f, "raw");
  for (const f of llvm.bodies) add(group(f.name), f, "llvm");
  const totalRaw = named.code;
  const fmt = (n) => n.toLocaleString("en-US").replace(/,/g, " ");
  console.log(`wasm-opt ${optFlags.join(" ")} -g --strip-dwarf`);
  console.log(`code section: ${fmt(named.code)} B with names, ${fmt(shipped.code)} B in pkg/smart_polling_bg.wasm (as shipped), ${fmt(llvm.code)} B before wasm-opt`);
  console.log(`the module without custom sections, gzip -9: ${fmt(whole)} B\n`);
  console.log("| section | raw | gz if removed |\n| --- | ---: | ---: |");
  for (const s of kept) {
    const drop = without(s.name === "code" ? () => true : () => false, s.name === "data" ? () => Buffer.alloc(0) : null);
    const gzr = s.name === "code" || s.name === "data" ? whole - drop : whole - gz(kept.filter((k) => k !== s).map((k) => k.bytes));
    console.log(`| ${s.name} | ${fmt(s.bytes.length)} | ${fmt(gzr)} |`);
  }
  console.log(`\n| part | functions | raw after wasm-opt | share | gz if removed | raw before wasm-opt |\n| --- | ---: | ---: | ---: | ---: | ---: |`);
  const sorted = [...groups.values()].sort((a, b) => b.raw - a.raw || b.llvm - a.llvm);
  for (const g of sorted) {
    const gzr = g.n ? whole - without((f) => g.fns.has(f)) : 0;
    console.log(`| ${g.key} | ${g.n} | ${fmt(g.raw)} | ${((100 * g.raw) / totalRaw).toFixed(1)} % | ${fmt(gzr)} | ${fmt(g.llvm)} |`);
  }
  // strings in the data section: panic locations (file paths) and the rest
  const strings = [];
  for (const d of named.data) for (const m of d.toString("latin1").matchAll(/[\x20-\x7e]{4,}/g)) strings.push(m[0]);
  const paths = strings.filter((s) => /\.rs$|\.rs[^a-z]|\/rustc\/|registry\/src|library\//.test(s));
  const dataRaw = named.data.reduce((n, d) => n + d.length, 0);
  const pathGz = whole - without(() => false, (d) => Buffer.from(d.toString("latin1").replace(/[\x20-\x7e]{4,}/g, (s) => (paths.includes(s) ? "" : s)), "latin1"));
  console.log(`\ndata: ${fmt(dataRaw)} B raw in ${named.data.length} segments; printable strings ${fmt(strings.reduce((n, s) => n + s.length, 0))} B, of which source paths (panic locations) ${fmt(paths.reduce((n, s) => n + s.length, 0))} B in ${paths.length} strings (gz if removed: ${fmt(pathGz)} B)`);
  for (const re of greps) {
    const r = new RegExp(re);
    const hit = named.bodies.filter((f) => r.test(f.name));
    const pre = llvm.bodies.filter((f) => r.test(f.name));
    const sum = (a) => a.reduce((n, f) => n + f.size, 0);
    console.log(`\n--grep ${re}: ${hit.length} functions, ${fmt(sum(hit))} B raw after wasm-opt (gz if removed: ${fmt(whole - without((f) => hit.includes(f)))} B); before wasm-opt: ${pre.length} functions, ${fmt(sum(pre))} B`);
    for (const f of hit.sort((a, b) => b.size - a.size).slice(0, 15)) console.log(`  ${String(f.size).padStart(6)}  ${f.name.slice(0, 200)}`);
  }
  if (retains.length) {
    const g = callGraph(wat, named.bodies.length);
    for (const re of retains) {
      const r = new RegExp(re);
      const removed = new Set(named.bodies.flatMap((f, i) => (r.test(f.name) ? [i] : [])));
      const left = g.reach(removed);
      const goneIds = new Set([...g.all].filter((i) => !left.has(i)));
      const gone = [...goneIds].map((i) => named.bodies[i]);
      const bytes = gone.reduce((n, f) => n + f.size, 0);
      const set = new Set(gone);
      // data objects that only the unreachable functions point at
      const freed = g.objects.filter((o) => o.users.size > 0 && [...o.users].every((u) => goneIds.has(u)));
      const dataBytes = freed.reduce((n, o) => n + o.end - o.start, 0);
      const dropData = (d) => {
        if (d.addr === null) return d;
        const keep = [];
        let at = 0;
        for (const o of freed) if (o.start >= d.addr && o.end <= d.addr + d.length) { keep.push(d.subarray(at, o.start - d.addr)); at = o.end - d.addr; }
        keep.push(d.subarray(at));
        return Buffer.concat(keep);
      };
      const callers = new Set();
      for (const i of g.all) if (!removed.has(i)) for (const c of g.edges[i]) if (removed.has(c)) callers.add(named.bodies[i].name);
      console.log(`\n--retained ${re}: ${removed.size} functions match; without them ${gone.length} functions, ${fmt(bytes)} B raw, and ${freed.length} data objects, ${fmt(dataBytes)} B, are unreachable (gz if removed: code ${fmt(whole - without((f) => set.has(f)))} B, code and data ${fmt(whole - without((f) => set.has(f), dropData))} B)`);
      for (const f of gone.sort((a, b) => b.size - a.size).slice(0, 12)) console.log(`  ${String(f.size).padStart(6)}  ${f.name.slice(0, 200)}`);
      console.log(`  called or pointed at from ${callers.size} other functions${callers.size ? ", e.g." : ""}`);
      for (const c of [...callers].slice(0, 8)) console.log(`         ${c.slice(0, 200)}`);
    }
  }
  if (top > 0) {
    console.log(`\nthe ${top} largest functions after wasm-opt (raw bytes, with what was inlined into them):`);
    for (const f of [...named.bodies].sort((a, b) => b.size - a.size).slice(0, top)) console.log(`${String(f.size).padStart(7)}  ${f.name.slice(0, 220)}`);
  }
}

// The call graph of the module as wasm-dis prints it: direct calls and
// ref.func, and function pointers (table indices) stored by code or held in
// the data a function points at (vtables); roots are the exports and the
// start function. Function bodies are numbered in the order they are printed
// (the code section's order). Approximate: a pointer is followed if it may be
// one, so what it calls "unreachable" is a lower bound.
function callGraph(wat, count) {
  const nameRe = /\$(?:"((?:[^"\\]|\\.)*)"|([^\s()]+))/y;
  const readName = (s, i) => { nameRe.lastIndex = i; const m = nameRe.exec(s); return m ? m[1] ?? m[2] : null; };
  const unescape = (s) => {
    const out = [];
    for (let i = 0; i < s.length; i++) {
      if (s[i] !== "\\") { out.push(s.charCodeAt(i)); continue; }
      const n = s[i + 1];
      if (/[0-9a-f]/.test(n) && /[0-9a-f]/.test(s[i + 2])) { out.push(parseInt(s.substr(i + 1, 2), 16)); i += 2; } else { out.push({ n: 10, t: 9, r: 13 }[n] ?? n.charCodeAt(0)); i++; }
    }
    return Buffer.from(out);
  };
  const lines = wat.split("\n");
  const index = new Map();
  const calls = [];
  const consts = [];
  const table = [null];
  const data = [];
  const roots = [];
  let cur = -1;
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k];
    if (line.startsWith(" (func $")) { cur = calls.length; index.set(readName(line, 7), cur); calls.push(new Set()); consts.push([]); continue; }
    if (line.startsWith(" (export ") || line.startsWith(" (start ")) { const i = line.indexOf("$"); if (i >= 0 && !line.includes("(memory") && !line.includes("(global") && !line.includes("(table")) roots.push(readName(line, i)); continue; }
    if (line.startsWith(" (elem ")) { let i = line.indexOf(" func ") + 5; while ((i = line.indexOf("$", i)) >= 0) { table.push(readName(line, i)); i = nameRe.lastIndex; } continue; }
    if (line.startsWith(" (data ")) { const m = line.match(/\(i32\.const (\d+)\) "(.*)"\)$/); if (m) data.push({ addr: +m[1], bytes: unescape(m[2]) }); continue; }
    if (cur < 0) continue;
    for (const op of ["(call $", "(ref.func $", "(return_call $"]) { const i = line.indexOf(op); if (i >= 0) calls[cur].add(readName(line, i + op.length - 1)); }
    const c = line.match(/^\s*\(i32\.const (-?\d+)\)\s*$/);
    if (c) {
      const v = +c[1];
      const stored = k >= 2 && /^\s*\(i32\.store(8|16)? /.test(lines[k - 2]) && /^\s*\((local|global)\.get [^()]*\)\s*$/.test(lines[k - 1]);
      if (v >= 1024 || stored) consts[cur].push(v);
    }
  }
  if (calls.length !== count) throw new Error(`call graph: ${calls.length} functions printed, ${count} bodies`);
  const word = (a) => { for (const d of data) if (a >= d.addr && a + 4 <= d.addr + d.bytes.length) return d.bytes.readUInt32LE(a - d.addr); return null; };
  const inTable = (v) => v >= 1 && v < table.length;
  const pointed = (addr, depth, out) => {
    for (let a = addr; a < addr + 64; a += 4) { const w = word(a); if (w === null) break; if (inTable(w)) out.add(table[w]); else if (depth > 0 && w >= 1024 && word(w) !== null) pointed(w, depth - 1, out); }
  };
  const edges = calls.map((set, i) => {
    for (const v of consts[i]) { if (v < 1024) { if (inTable(v)) set.add(table[v]); } else if (word(v) !== null) pointed(v, 1, set); }
    return [...set].map((n) => index.get(n)).filter((j) => j !== undefined);
  });
  const rootIds = roots.map((n) => index.get(n)).filter((j) => j !== undefined);
  // data objects: from each address code points at to the next such address (or the segment's end)
  const users = new Map();
  consts.forEach((vs, i) => { for (const v of vs) if (v >= 1024 && word(v) !== null) (users.get(v) ?? users.set(v, new Set()).get(v)).add(i); });
  for (const d of data) for (let a = d.addr; a + 4 <= d.addr + d.bytes.length; a += 4) { const w = d.bytes.readUInt32LE(a - d.addr); if (users.has(w)) users.get(w).add(-1); } // pointed at from data: kept
  const starts = [...users.keys()].sort((x, y) => x - y);
  const objects = starts.map((start, k) => {
    const seg = data.find((d) => start >= d.addr && start < d.addr + d.bytes.length);
    return { start, end: Math.min(starts[k + 1] ?? Infinity, seg.addr + seg.bytes.length), users: users.get(start) };
  });
  const reach = (removed) => {
    const seen = new Set();
    const stack = rootIds.filter((r) => !removed.has(r));
    while (stack.length) { const n = stack.pop(); if (seen.has(n)) continue; seen.add(n); for (const c of edges[n]) if (!seen.has(c) && !removed.has(c)) stack.push(c); }
    return seen;
  };
  return { edges, reach, all: reach(new Set()), objects };
}
