// A fake generation API for the browser tests: replaces the global `fetch`
// and `EventSource` with scripted ones and records every request, so the
// real PollingManager can be driven and observed in real time.

const state = {
  routes: new Map(),
  requests: [],
  answers: [],
  aborted: [],
  streams: [],
  scripts: new Map(),
  limit: null,
};

export function install() {
  state.routes.clear();
  state.scripts.clear();
  state.requests.length = 0;
  state.answers.length = 0;
  state.aborted.length = 0;
  state.limit = null;
  for (const s of state.streams) s.close();
  state.streams.length = 0;
  globalThis.fetch = fakeFetch;
  globalThis.EventSource = FakeEventSource;
}

// responses: [{ status = 200, body (object | string), headers, delay = 0,
//               hang = false, networkError = false, foreign = false,
//               syncThrow = false }]; the last
// one repeats. `foreign`: a Response-like object of another class, as a
// replaced fetch (a polyfill, a wrapper) may return.
export function route(url, responses) {
  state.routes.set(url, responses.slice());
}

// script: { mode: "never" | "fail" | "open", openAfter, messages: [{ after, data }], end,
//           plainEvents }
// data: an object (sent as JSON) or a raw string; end: "error" to fail after the messages;
// plainEvents: hand the handlers plain `{ type, data }` objects, as polyfills do.
export function stream(url, script) {
  state.scripts.set(url, script);
}

export function requestTimes(url) {
  return state.requests.filter((r) => r.url === url).map((r) => r.t);
}

// How many distinct urls starting with `prefix` were requested.
export function urlsRequested(prefix) {
  return new Set(state.requests.filter((r) => r.url.startsWith(prefix)).map((r) => r.url)).size;
}

// Every request sent, of any url: [{ url, t }], in order.
export function allRequests() {
  return state.requests.map(({ url, t }) => ({ url, t }));
}

// Every answer given (resolved, not failed): [{ url, t, status, sentAt }], in order.
export function allAnswers() {
  return state.answers.slice();
}

// A server-wide rate limit: for `ms` from now, every request is answered
// 429 with this Retry-After, `delay` ms after it is sent.
export function limitAll(ms, retryAfter, delay = 0) {
  state.limit = { until: performance.now() + ms, retryAfter: String(retryAfter), delay };
}

export function abortedCount(url) {
  return state.aborted.filter((u) => u === url).length;
}

export function openStreams(url) {
  return state.streams.filter((s) => s.url === url && !s.closed).length;
}

export function streamsCreated(url) {
  return state.streams.filter((s) => s.url === url).length;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function now() {
  return performance.now();
}

// Callbacks that record what they are told.
export function recorder(options = {}) {
  const rec = { events: [] };
  const push = (type, value, extra) =>
    rec.events.push({ type, value, extra, t: performance.now() });
  rec.callbacks = {
    onUpdate: (r) => {
      push("update", r);
      if (options.onlineIn === "update") goOnline();
      if (options.throwIn === "update") throw new Error("callback failure (expected by the test)");
    },
    onProgress: (p) => push("progress", p),
    onComplete: (r) => {
      push("complete", r);
      if (options.onComplete) options.onComplete(r);
    },
    onError: (e) => push("error", e),
    onRetry: (e, d) => push("retry", e, d),
    // The Promise form's onProgress(attempt, elapsed, nextInterval, progress).
    oldProgress: (...args) => push("progressArgs", args),
  };
  return rec;
}

export function count(rec, type) {
  return rec.events.filter((e) => e.type === type).length;
}

export function last(rec, type) {
  const all = rec.events.filter((e) => e.type === type);
  return all.length ? all[all.length - 1].value : undefined;
}

// "kind:delay" of every onRetry, comma-separated.
export function retries(rec) {
  return rec.events
    .filter((e) => e.type === "retry")
    .map((e) => e.value.kind + ":" + Math.round(e.extra))
    .join(",");
}

export function lastEventTime(rec) {
  return rec.events.length ? rec.events[rec.events.length - 1].t : 0;
}

export function identical(a, b) {
  return Object.is(a, b);
}

export function field(obj, key) {
  return obj == null ? undefined : obj[key];
}

export function progressChannels(rec) {
  return [...new Set(rec.events.filter((e) => e.type === "progress").map((e) => e.value.channel))].join(",");
}

// Called as the platform's fetch is: with a Request (as the manager does)
// or a url and an init.
function fakeFetch(input, init) {
  let url = input;
  if (typeof input !== "string") {
    const u = new URL(input.url);
    url = u.origin === location.origin ? u.pathname + u.search : input.url;
    init = { signal: input.signal, ...init };
  }
  const sentAt = performance.now();
  state.requests.push({ url, t: sentAt, offline: navigator.onLine === false });
  if (navigator.onLine === false) return Promise.reject(new TypeError("Failed to fetch"));
  const limited = state.limit && sentAt < state.limit.until;
  const list = state.routes.get(url) || [{ status: 404 }];
  const spec = limited
    ? { status: 429, headers: { "Retry-After": state.limit.retryAfter }, delay: state.limit.delay }
    : list.length > 1
      ? list.shift()
      : list[0];
  if (spec.syncThrow) throw new TypeError("fetch threw synchronously (expected by the test)");
  return new Promise((resolve, reject) => {
    const signal = init && init.signal;
    if (signal) {
      signal.addEventListener("abort", () => {
        state.aborted.push(url);
        reject(new DOMException("The operation was aborted.", "AbortError"));
      });
    }
    if (spec.hang) return;
    setTimeout(() => {
      if (spec.networkError) return reject(new TypeError("Failed to fetch"));
      const body = typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body ?? {});
      const status = spec.status ?? 200;
      state.answers.push({ url, t: performance.now(), status, sentAt });
      if (spec.foreign) {
        return resolve({ status, headers: new Headers(spec.headers ?? {}), text: async () => body });
      }
      resolve(new Response(body, { status, headers: spec.headers ?? {} }));
    }, spec.delay ?? 0);
  });
}

class FakeEventSource {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.onopen = null;
    this.onmessage = null;
    this.onerror = null;
    this.closed = false;
    this.timers = [];
    this.plain = false;
    state.streams.push(this);
    const script = state.scripts.get(url) || { mode: "never" };
    this.plain = !!script.plainEvents;
    if (script.mode === "fail") {
      this.later(script.after ?? 0, () => this.emit("error"));
    } else if (script.mode === "open") {
      let t = script.openAfter ?? 0;
      this.later(t, () => {
        this.readyState = 1;
        this.emit("open");
      });
      for (const m of script.messages ?? []) {
        t += m.after ?? 0;
        const data = typeof m.data === "string" ? m.data : JSON.stringify(m.data);
        this.later(t, () => this.emit("message", data));
      }
      if (script.end === "error") this.later(t + 1, () => this.emit("error"));
    }
  }

  later(ms, f) {
    this.timers.push(setTimeout(f, ms));
  }

  emit(type, data) {
    if (this.closed) return;
    const handler = this["on" + type];
    if (!handler) return;
    // `target` as a dispatched event's: the source, whose `readyState`
    // tells a drop the browser reconnects (0) from a failure (2).
    if (this.plain) handler({ type, data, target: this });
    else {
      const event = type === "message" ? new MessageEvent("message", { data }) : new Event(type);
      Object.defineProperty(event, "target", { value: this });
      handler(event);
    }
  }

  close() {
    this.closed = true;
    this.readyState = 2;
    for (const t of this.timers) clearTimeout(t);
  }
}


// Emits `type` ("open", "message", "error") at once on the open streams of
// `url`, from the caller's own task; "drop" is an `error` while the browser
// reconnects (`readyState` 0), as a real `EventSource` whose connection broke.
export function emitStream(url, type, data) {
  for (const es of state.streams) {
    if (es.url !== url) continue;
    if (type === "drop") {
      es.readyState = 0;
      es.emit("error");
      continue;
    }
    if (type === "open") es.readyState = 1;
    es.emit(type, data);
  }
}

// Captures console.log calls made while `f` runs (for the `debug` option).
export function captureLogs() {
  const lines = [];
  const original = console.log;
  console.log = (...args) => lines.push(args.join(" "));
  return {
    lines,
    restore() {
      console.log = original;
    },
  };
}

export function joined(list) {
  return list.join("\n");
}

export function goOnline() {
  delete navigator.onLine; // the instance's shadow, if goOffline set one
  globalThis.dispatchEvent(new Event("online"));
}

// Pretends the browser went offline: `navigator.onLine` reads false (a
// getter of Navigator.prototype, shadowed on the instance) and requests
// fail as fetch does offline; `goOnline` undoes both.
export function goOffline() {
  Object.defineProperty(navigator, "onLine", { get: () => false, configurable: true });
  globalThis.dispatchEvent(new Event("offline"));
}

// Pretends the tab turned hidden or visible: `visibilityState` is a getter of
// Document.prototype, shadowed here on the instance (removed when visible).
export function setVisibility(visible) {
  if (visible) delete document.visibilityState;
  else Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}

/** Runs the garbage collector if the browser exposes it (Chromium with
 * --js-flags=--expose-gc); false where it does not. */
export function forceGc() {
  if (typeof globalThis.gc !== "function") return false;
  globalThis.gc();
  return true;
}

/** A JS reference to a value that the test then forgets, so only the
 * garbage collector decides its fate. */
let held = null;
export function hold(v) {
  held = v;
}
export function release() {
  held = null;
}

// Hands a Promise form's result to recorder callbacks: its data to
// onComplete, or its failure to onError.
export function settleInto(promise, callbacks) {
  promise.then((r) => (r.success ? callbacks.onComplete(r.data) : callbacks.onError(r.failure)));
}
