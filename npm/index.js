// The package's entry: it wraps wasm-bindgen's generated module (never
// edited) with what only JS can provide:
// - loading the .wasm: from the file system in Node (a `file:` url), and
//   with errors that say what failed to load, from where, and why; a failed
//   load is not kept, so the next call tries again; in a page, the download
//   starts right after import, before the first use;
// - the Promise helpers and `smartPollingManager` work right after import:
//   they load the module on first use (the old module needed no init()) and
//   resolve (never reject) with a "load_failed" result when it cannot load;
// - `configureDefaults` for the helpers' shared manager, callable before load;
// - whether the module is loaded, so `new PollingManager()` before `init()`
//   says what to do instead of failing inside the glue;
// - `free()` and `[Symbol.dispose]()` that stop the manager's jobs first. (A
//   manager the page merely drops is garbage-collected through the same Rust
//   `Drop` and must finish its jobs, so the stop cannot live in `Drop`.)
import "./env.js"; // first: the glue makes a TextDecoder as it loads (Jest's jsdom has none)
import rawInit, * as raw from "./smart_polling.js";

const WASM = "smart_polling_bg.wasm";

let loaded = false;
let loading = null; // the load under way or done; null again after a failure
let defaults; // options of configureDefaults() made before the module loaded
let defaultsError = null; // why the stored defaults could not be applied

// In a page, the .wasm download starts once the modules importing this one
// have run, not when the first helper or init() runs (the product's hooks
// poll from an effect, after the app's first render): the first init()
// without input takes this response instead of fetching. Not when a load
// began first (a top-level init(url) or initSync()), nor in Node, SSR or a
// worker (no window or document), nor for a `file:` url. A failed request is
// left to that init() to report (no unhandled rejection), and is never
// reused: init() takes the prefetch once, so the next call after a failure
// fetches again. An init(url) of the same url (a string or URL) takes it
// too; a first load from anywhere else (another url, as Turbopack's dev
// server runs a page's top-level code a task later; bytes, a module, a
// Request, initSync()) aborts it: its bytes would never be read.
let prefetched = null; // { href, response, abort }
queueMicrotask(() => {
  if (loading === null && !loaded) prefetched = prefetch();
});

function prefetch() {
  if (typeof window === "undefined" || typeof document === "undefined" || typeof fetch !== "function") return null;
  try {
    // a literal, for bundlers: they emit the .wasm and rewrite the url
    const url = new URL("smart_polling_bg.wasm", import.meta.url);
    if (url.protocol === "file:") return null;
    const abort = typeof AbortController === "function" ? new AbortController() : null;
    // globalThis.fetch, as the glue's would be
    const response = abort ? fetch(url, { signal: abort.signal }) : fetch(url);
    response.catch(() => {});
    return { href: url.href, response, abort };
  } catch {
    return null; // no prefetch: init() fetches
  }
}

/** Loads the .wasm once (later calls share the load under way or done; a
 *  failed load is not kept). With no input: next to this file, read from
 *  the file system when that is a `file:` url (Node), fetched otherwise. */
export default function init(input) {
  loading ??= load(input).then(
    () => {
      loaded = true;
      applyDefaults();
    },
    (error) => {
      loading = null;
      throw error;
    },
  );
  return loading;
}

/** Loads the .wasm synchronously from its bytes or a compiled module. */
export function initSync(module) {
  raw.initSync(isPlain(module) ? module : { module });
  prefetched?.abort?.abort();
  prefetched = null;
  if (!loaded) {
    loaded = true;
    applyDefaults();
  }
  loading ??= Promise.resolve();
}

async function load(input) {
  const early = prefetched; // taken by this load only, whatever its outcome
  prefetched = null;
  let source = await (isPlain(input) ? input.module_or_path : input);
  const given = source != null;
  if (!given) {
    try {
      // a literal, for bundlers: they emit the .wasm and rewrite the url
      source = new URL("smart_polling_bg.wasm", import.meta.url);
    } catch (cause) {
      // a bundle that is not an ES module has no import.meta (esbuild's IIFE)
      throw Object.assign(
        new Error(
          `smart-polling: could not load its WebAssembly module (${WASM}): import.meta.url cannot locate it ` +
            "(empty in a bundle that is not an ES module, as esbuild's without --format=esm; a blob: or data: url " +
            "for a module loaded from one). Pass the .wasm's url to init({ module_or_path }) (or " +
            "<PollingProvider wasm={url}>), or build an ES module.",
          { cause },
        ),
        { retryable: false },
      );
    }
  }
  const url =
    typeof source === "string" || source instanceof URL
      ? String(source)
      : typeof Request === "function" && source instanceof Request
        ? source.url
        : null;
  // `retryable`: whether loading again may succeed (the network, a server
  // error), or only a change to the deployment can (a 404, an HTML page, CSP)
  const fail = (why, cause, retryable = false) =>
    Object.assign(
      new Error(
        `smart-polling: could not load its WebAssembly module (${WASM}) ` +
          `${url ? `from ${url}${resolved(url)}` : "from the input given to init()"}: ${why}`,
        cause === undefined ? undefined : { cause },
      ),
      { retryable },
    );

  // The prefetch is this load's if it fetched the same url (a given one
  // too, resolved as fetch() would); any other load aborts it.
  const plainUrl = typeof source === "string" || source instanceof URL; // not a Request's own terms
  const same = early !== null && (!given || (plainUrl && early.href === absolute(url)));
  if (early && !same) early.abort?.abort();

  if (url?.startsWith("file:")) {
    // Node (and test runners on it): read the file. The specifier is a
    // variable, so bundlers leave this import alone; browsers never get here.
    const fs = "node:fs/promises";
    try {
      const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fs);
      source = await readFile(new URL(url));
    } catch (cause) {
      throw fail(cause?.message ?? String(cause), cause);
    }
  } else if (url) {
    try {
      // globalThis.fetch, as the glue's would be; the prefetch when init() was given no source
      source = await (same ? early.response : fetch(source));
    } catch (cause) {
      // In a page or a worker (not in Node or server code, where none applies)
      const why = typeof location === "undefined" ? "" : " (offline, a url on another origin that sends no CORS headers, or a Content-Security-Policy connect-src that does not allow it)";
      throw fail(`the request failed: ${cause?.message ?? cause}${why}`, cause, true);
    }
    const answered = `the server answered ${source.status} ${source.statusText}`.trim();
    const html = /html/i.test(source.headers?.get?.("content-type") ?? "");
    if (source.ok) {
      if (html) throw fail(HTML);
    } else if (source.status === 404) {
      // Vite 5-7's pre-bundler moved the glue, which asks under /.vite/deps/
      throw fail(answered + (url.includes("/.vite/deps/") ? `. ${VITE}` : MISSING));
    } else {
      const transient = source.status >= 500 || source.status === 408 || source.status === 429;
      throw fail(answered + (html ? " (an HTML error page)" : ""), undefined, transient);
    }
  }
  try {
    await rawInit({ module_or_path: source });
  } catch (cause) {
    // bytes starting with "<" (3c) are markup: an HTML page under a .wasm url
    const said = cause?.message ?? String(cause);
    const markup = /expected magic word 00 61 73 6d, found 3c/.test(said);
    // Chromium: "Refused to compile or instantiate WebAssembly module because
    // 'unsafe-eval' is not an allowed source of script in ... Content Security
    // Policy"; Firefox: "call to WebAssembly.instantiate() blocked by CSP"
    const csp = /unsafe-eval|Content Security Policy|blocked by CSP/i.test(said) ? CSP : "";
    // anything else (a body cut off) may go better next time
    throw fail(markup ? HTML : csp ? said.replace(/\.\s*$/, "") + csp : said, cause, !markup && !csp);
  }
}

const isPlain = (v) => v != null && Object.getPrototypeOf(v) === Object.prototype;

/** A relative url, as the page resolves it: " (https://…)", or nothing. */
function resolved(url) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) || base() === undefined) return "";
  try {
    return ` (${new URL(url, base()).href})`;
  } catch {
    return "";
  }
}

/** The base fetch() resolves a relative url against: the document's (a
 *  `<base href>` counts), else the worker's location; undefined in Node. */
function base() {
  if (typeof document !== "undefined" && typeof document.baseURI === "string") return document.baseURI;
  return typeof location === "undefined" ? undefined : location.href;
}

/** `url` resolved as fetch() resolves it; null if it cannot be. */
function absolute(url) {
  try {
    return url === null ? null : new URL(url, base()).href;
  } catch {
    return null;
  }
}

/** Where a bundler does not emit the .wasm. */
const MISSING =
  `. Where the bundler does not emit ${WASM} (esbuild, the Angular CLI's ng build), copy it from ` +
  "node_modules/smart-polling/ to that url, or pass its url to init() (or <PollingProvider wasm={url}>).";

const CSP =
  ". The page's Content-Security-Policy forbids compiling WebAssembly: add 'wasm-unsafe-eval' to its script-src " +
  "(not 'unsafe-eval', which allows far more).";

/** The dev server of Vite 5, 6 or 7, which pre-bundles dependencies. */
const VITE =
  "A dev server that pre-bundles dependencies moves the glue away from the .wasm: with Vite before 8, add " +
  '`optimizeDeps: { exclude: ["smart-polling"] }` to the Vite config.';

const HTML = `the server answered with an HTML page, not WebAssembly (a fallback page). ${VITE} Otherwise the url is wrong${MISSING}`;

/** Options of the shared manager behind the Promise helpers and
 *  `smartPollingManager`. Before the module is loaded they are kept and
 *  applied on load, before any helper starts; afterwards applied at once
 *  (a RangeError for invalid options). */
export function configureDefaults(options) {
  if (!loaded) {
    defaults = { options };
    return;
  }
  const key = keyOf(options);
  try {
    raw.configureDefaults(options);
  } catch (error) {
    // The same options again while polls run (a module that a hot update
    // ran again): nothing to change, so nothing to refuse.
    if (key !== undefined && key === appliedKey) return;
    throw error;
  }
  appliedKey = key;
  defaultsError = null;
}

// The options configureDefaults last applied, as JSON (undefined: none, or
// not representable).
let appliedKey;

function keyOf(options) {
  try {
    return JSON.stringify(options ?? null);
  } catch {
    return undefined;
  }
}

function applyDefaults() {
  if (!defaults) return;
  const { options } = defaults;
  defaults = undefined;
  try {
    raw.configureDefaults(options);
    appliedKey = keyOf(options);
  } catch (error) {
    // Until configureDefaults() succeeds, the helpers resolve with this error.
    defaultsError = error;
  }
}

export class PollingManager extends raw.PollingManager {
  constructor(options) {
    if (!loaded) {
      throw new Error(
        "smart-polling: the WebAssembly module is not loaded yet. " +
          "Call `await init()` (the package's default export) once before `new PollingManager()`.",
      );
    }
    super(options);
  }

  /** Stops every job (promises resolve as "stopped"), then frees the manager;
   *  a second call does nothing. */
  free() {
    if (this.__wbg_ptr === 0) return;
    this.stopAllPolling();
    super.free();
  }
}

// An id as the module takes it: a string (or a String object); a number (a database id read from
// JSON) or a bigint as its digits, as the old module's url template made it;
// anything else (undefined, null, an object) as "", which every call treats
// as an invalid id (`invalid_id`, reported as the manual says). The glue
// would read a number's `length` and trap.
function idOf(id) {
  if (typeof id === "string") return id;
  if (id instanceof String) return String(id);
  if ((typeof id === "number" && Number.isFinite(id)) || typeof id === "bigint") return String(id);
  return "";
}

// The methods whose first argument is a file or project id.
const TAKES_ID = new Set(["startPolling", "startProjectPolling", "stopPolling", "stopProjectPolling", "isPolling", "pollFileCompletion", "pollProjectCompletion"]);

// A freed manager's methods say so, instead of the glue's "null pointer
// passed to rust": each method and getter of the generated class, checked
// before it runs; an id is made a string first (`idOf`).
for (const name of Object.getOwnPropertyNames(raw.PollingManager.prototype)) {
  if (name === "constructor" || name === "free" || name.startsWith("__")) continue; // the glue's own
  const d = Object.getOwnPropertyDescriptor(raw.PollingManager.prototype, name);
  for (const key of ["value", "get"]) {
    const f = d[key];
    if (typeof f !== "function") continue;
    const takesId = TAKES_ID.has(name);
    d[key] = function (...args) {
      if (this.__wbg_ptr === 0) {
        throw new Error(
          `smart-polling: ${name} on a PollingManager that was freed (by free(), [Symbol.dispose]() or the end of its \`using\` block). ` +
            "Create a new one (in React: in the effect whose cleanup frees it, or use PollingProvider from smart-polling/react).",
        );
      }
      if (takesId) args[0] = idOf(args[0]);
      return f.apply(this, args);
    };
  }
  Object.defineProperty(PollingManager.prototype, name, d);
}

// `using manager = new PollingManager()`: the glue's dispose is the raw free,
// which would leave the jobs running; dispose as free() does.
if (typeof Symbol.dispose === "symbol") {
  PollingManager.prototype[Symbol.dispose] = function dispose() {
    this.free();
  };
}

/** A helper's result when it could not start: the module did not load, or the
 *  stored defaults are invalid (or, from `whenLoaded`, it was stopped or timed
 *  out while the module loaded). */
function failed(error, kind = "load_failed", retryable = true, method = "error", duration = 0) {
  const message = String(error?.message ?? error);
  return {
    success: false,
    method,
    error: message,
    failure: { kind, message, attempt: 0, retryable },
    attempts: 0,
    duration,
    channel: "polling",
  };
}

/** The longest a job may take by its options (the load counts against it):
 *  `timeout` wins over `maxDuration`, as for the job; else the defaults given
 *  before the load; else the longest preset's (video, 10 min). */
function limit(options) {
  let given = [];
  try {
    given = [options?.timeout, options?.maxDuration, defaults?.options?.timeout, defaults?.options?.maxDuration];
  } catch {
    // a getter that throws: the module says so once it is there
  }
  return given.find((v) => typeof v === "number" && v > 0 && v < 2 ** 31) ?? 600000;
}

// Starts asked for while the module loads, by poll id: a stop before the
// module is there must still win.
const pending = new Map();

async function whenLoaded(pollId, start, options) {
  // Loaded: the job starts in this call, as the old module's did (nothing
  // is awaited before it), so getPollingStatus() lists it at once.
  if (!loaded) {
    // Until the module is there, a stop ends the wait at once, and the job's
    // timeout bounds it (a load that hangs must not hang the caller).
    const since = Date.now();
    const ticket = { since };
    const stopped = new Promise((resolve) => (ticket.stop = () => resolve("stopped")));
    let timer;
    const late = new Promise((resolve) => (timer = setTimeout(resolve, limit(options), "timeout")));
    pending.set(pollId, ticket);
    let outcome;
    try {
      outcome = await Promise.race([init(), stopped, late]);
    } catch (error) {
      return failed(error, "load_failed", error?.retryable !== false);
    } finally {
      clearTimeout(timer);
      if (pending.get(pollId) === ticket) pending.delete(pollId);
    }
    if (outcome === "stopped") return failed("Polling was stopped", "stopped", false, "error", Date.now() - since);
    if (outcome === "timeout") {
      const message = "Polling timed out (the WebAssembly module was still loading)";
      return failed(message, "timeout", false, "timeout", Date.now() - since);
    }
  }
  if (defaultsError) {
    const message = `smart-polling: the options given to configureDefaults() before the module loaded are invalid: ${defaultsError.message ?? defaultsError}`;
    return failed(message, "load_failed", false);
  }
  return start();
}

/** Waits for a file on the module's shared manager (poll id `file-{fileId}`). */
export function pollFileCompletion(fileId, options) {
  const id = idOf(fileId);
  return whenLoaded(`file-${id}`, () => raw.pollFileCompletion(id, options), options);
}

/** Waits for a project on the module's shared manager (poll id `project-{projectId}`). */
export function pollProjectCompletion(projectId, options) {
  const id = idOf(projectId);
  return whenLoaded(`project-${id}`, () => raw.pollProjectCompletion(id, options), options);
}

/** The old module's singleton, usable right after import. */
export const smartPollingManager = {
  startPolling(pollId, checker, options) {
    return whenLoaded(String(pollId), () => raw.startCheckPolling(String(pollId), checker, options), options);
  },
  stopPolling(pollId) {
    pollId = String(pollId);
    const ticket = pending.get(pollId);
    if (ticket) {
      ticket.stop();
      pending.delete(pollId);
    }
    return (loaded && raw.stopPollId(pollId)) || !!ticket;
  },
  stopAllPolling() {
    for (const ticket of pending.values()) ticket.stop();
    pending.clear();
    if (loaded) raw.stopAllPollIds();
  },
  isPolling(pollId) {
    pollId = String(pollId);
    return pending.has(pollId) || (loaded && raw.isPollIdActive(pollId));
  },
  getPollingStatus() {
    const statuses = loaded ? raw.pollIdStatuses() : [];
    // starts waiting for the module: listed as isPolling() says they run
    const now = Date.now();
    for (const [pollId, ticket] of pending) {
      if (!statuses.some((s) => s.pollId === pollId)) statuses.push({ pollId, attempts: 0, elapsed: now - ticket.since });
    }
    return statuses;
  },
};
