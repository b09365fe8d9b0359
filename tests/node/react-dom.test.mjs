// The React hooks of the packed package rendered in Node with a DOM
// (happy-dom, as a test runner's DOM environment gives one) and
// react-dom/client, against a mocked `globalThis.fetch` (issue 17, items 1
// and 2): the wasm loads from the file system by itself, `usePolling` goes
// active → completed; a failed load leaves the app rendered with
// `usePolling` in error (kind "load_failed"), and a later mount loads again.
import assert from "node:assert/strict";
import { renameSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { Window } from "happy-dom";

import { pathToFileURL } from "node:url";

import { installPacked, mockFetch, sleep, until } from "./support.mjs";

// The DOM first: react-dom decides at import whether it has one.
const window = new Window({ url: "http://localhost:5173/" });
globalThis.window = window;
globalThis.document = window.document;
globalThis.navigator ??= window.navigator; // Node 20 has none
// React Fast Refresh (a bundler's hot update of a component), as Vite's and
// Next's dev servers run it: its hook goes in before react-dom loads.
const { default: refresh } = await import("react-refresh/runtime");
refresh.injectIntoGlobalHook(globalThis);
const { createElement: h, StrictMode } = await import("react");
const { createRoot } = await import("react-dom/client");

const installs = [];
after(async () => {
  installs.forEach((i) => i.remove());
  await window.happyDOM.close();
});
function install() {
  const i = installPacked();
  installs.push(i);
  return i;
}

const options = { fileUrl: "http://api.example/file/{id}", eventsUrl: null, intervals: [20], initialDelay: 10, maxDelay: 50, jitter: 0 };

/** Mounts `<StrictMode><PollingProvider><Status/></PollingProvider></StrictMode>`; records every state rendered. */
function mount(react, fileId, completed = [], provider = {}) {
  const states = [];
  function Status() {
    const manager = react.usePollingContext();
    const failure = react.usePollingLoadError();
    const state = react.usePolling(manager, fileId, { onComplete: (record) => completed.push(record) });
    states.push(state.status);
    return h("p", {
      id: "status",
      "data-status": state.status,
      "data-kind": state.error?.kind ?? "",
      "data-message": state.error?.message ?? "",
      "data-url": state.record?.url ?? "",
      "data-failure": failure?.kind ?? "",
      "data-retryable": String(failure?.retryable ?? ""),
      "data-manager": String(manager !== null),
      "data-attempt": String(state.progress?.attempt ?? ""),
      "data-next": String(state.progress?.nextPollIn ?? ""),
      "data-percent": String(state.progress?.progress ?? ""),
      "data-eta": String(state.progress?.estimatedTimeRemaining ?? ""),
    });
  }
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root = createRoot(container);
  root.render(h(StrictMode, null, h("span", { id: "sibling" }, "rendered"), h(react.PollingProvider, { options, ...provider }, h(Status))));
  const data = () => {
    const attributes = [...(container.querySelector("#status")?.attributes ?? [])];
    return Object.fromEntries(attributes.filter((a) => a.name.startsWith("data-")).map((a) => [a.name.slice(5), a.value]));
  };
  return {
    states,
    data,
    sibling: () => container.querySelector("#sibling")?.textContent,
    unmount: () => {
      root.unmount();
      container.remove();
    },
  };
}

test("PollingProvider + usePolling in a DOM: the wasm loads by itself, the state goes active → completed", async (t) => {
  const { react } = await install().load();
  const fetch = mockFetch({ doneAfter: 3 });
  t.after(fetch.restore);
  const completed = [];
  const app = mount(react, "dom-1", completed);
  t.after(app.unmount);
  await until(() => app.data().status === "completed");
  assert.equal(app.data().url, "https://cdn.example/dom-1.png");
  assert.equal(app.data().manager, "true");
  assert.equal(completed.length, 1, "onComplete once");
  assert.equal(completed[0].id, "dom-1");
  const seen = [...new Set(app.states)];
  assert.deepEqual(seen, ["idle", "active", "completed"], `states: ${app.states}`);
  assert.equal(fetch.count("dom-1"), 3);
  assert.ok(fetch.urls().every((u) => u === "http://api.example/file/dom-1"));
});

test("usePolling's progress once completed is the end's: 100 %, nothing left, nothing to wait for (not the last report's 40 %)", async (t) => {
  const { react } = await install().load();
  const fetch = mockFetch({ doneAfter: 99 });
  t.after(fetch.restore);
  // A stand-in EventSource (Node and happy-dom have none): it opens, says
  // 40 %, then sends the result.
  const streams = [];
  globalThis.EventSource = class {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      streams.push(this);
      setTimeout(() => this.emit("open"), 5);
    }
    emit(type, data) {
      if (type === "open") this.readyState = 1;
      this["on" + type]?.({ type, data, target: this });
    }
    close() {
      this.readyState = 2;
    }
  };
  t.after(() => delete globalThis.EventSource);
  const app = mount(react, "dom-sse", [], { options: { ...options, eventsUrl: "http://api.example/events/{id}" } });
  t.after(app.unmount);
  await until(() => streams.length === 1 && streams[0].readyState === 1 && fetch.count("dom-sse") === 1, { what: "open", timeout: 3000 }).catch((e) => { throw new Error(`${e.message}: ${streams.length} streams, ${fetch.count("dom-sse")} requests, ${JSON.stringify(app.data())}`); });
  const say = (type, object) => streams[0].emit("message", JSON.stringify({ type, object }));
  say("render_progress", { progress: 40 });
  await until(() => app.data().percent === "40");
  assert.notEqual(app.data().eta, "0");
  say("render_result", { url: "https://cdn.example/dom-sse.png" });
  await until(() => app.data().status === "completed");
  assert.deepEqual(
    [app.data().url, app.data().percent, app.data().eta, app.data().next],
    ["https://cdn.example/dom-sse.png", "100", "0", "0"],
  );
  // A job that fails after 40 %: nothing to wait for, and no estimate left.
  const failing = mount(react, "dom-sse-2", [], { options: { ...options, eventsUrl: "http://api.example/events/{id}" } });
  t.after(failing.unmount);
  await until(() => streams.length === 2 && streams[1].readyState === 1 && fetch.count("dom-sse-2") === 1);
  const tell = (type, object) => streams[1].emit("message", JSON.stringify({ type, object }));
  tell("render_progress", { progress: 40 });
  await until(() => failing.data().percent === "40" && failing.data().eta !== "");
  tell("task_status", { status: "ERROR" });
  await until(() => failing.data().status === "error");
  assert.deepEqual([failing.data().kind, failing.data().percent, failing.data().eta, failing.data().next], ["generation_failed", "40", "", "0"]);
});

test("a failed load in a DOM: the app renders, usePolling is in error with kind load_failed; a later mount loads again", async (t) => {
  const pkg = install();
  const wasm = path.join(pkg.dir, "smart_polling_bg.wasm");
  renameSync(wasm, `${wasm}.away`);
  const { react } = await pkg.load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const first = mount(react, "dom-2");
  await until(() => first.data().status === "error");
  const failed = first.data();
  assert.equal(failed.kind, "load_failed");
  assert.equal(failed.failure, "load_failed", "usePollingLoadError");
  assert.equal(failed.retryable, "false", "a missing file: a fix, not a retry");
  assert.equal(failed.manager, "false", "usePollingContext() is null");
  assert.match(failed.message, /could not load its WebAssembly module \(smart_polling_bg\.wasm\) from file:.*ENOENT/);
  assert.equal(first.sibling(), "rendered", "the provider rendered its children");
  assert.deepEqual(fetch.calls, []);
  first.unmount();

  renameSync(`${wasm}.away`, wasm);
  const second = mount(react, "dom-2");
  t.after(second.unmount);
  await until(() => second.data().status === "completed");
  assert.equal(second.data().failure, "", "the failure is gone once loaded");
  assert.equal(second.data().url, "https://cdn.example/dom-2.png");
  assert.ok(!second.states.includes("error"), `the new mount never showed the old failure: ${second.states}`);
});

test("a failed load without a provider: usePollingManager + usePolling are in error with kind load_failed, usePollingLoadError says why; a later load recovers both mounts", async (t) => {
  const pkg = install();
  const wasm = path.join(pkg.dir, "smart_polling_bg.wasm");
  renameSync(wasm, `${wasm}.away`);
  const { react } = await pkg.load();
  const fetch = mockFetch({ doneAfter: 2 });
  t.after(fetch.restore);
  /** A component that owns its manager, as the manual's test examples do; no provider above it. */
  const watch = (fileId) => {
    const states = [];
    function Owner() {
      const manager = react.usePollingManager(options);
      const failure = react.usePollingLoadError();
      const state = react.usePolling(manager, fileId);
      states.push(state.status);
      return h("p", { id: "owner", "data-status": state.status, "data-kind": state.error?.kind ?? "", "data-failure": failure?.message ?? "", "data-url": state.record?.url ?? "" });
    }
    const container = document.createElement("div");
    document.body.appendChild(container);
    const root = createRoot(container);
    root.render(h(StrictMode, null, h(Owner)));
    const data = () => Object.fromEntries([...(container.querySelector("#owner")?.attributes ?? [])].filter((a) => a.name.startsWith("data-")).map((a) => [a.name.slice(5), a.value]));
    return { states, data, unmount: () => (root.unmount(), container.remove()) };
  };

  const first = watch("bare-1");
  t.after(first.unmount);
  await until(() => first.data().status === "error");
  assert.equal(first.data().kind, "load_failed");
  assert.match(first.data().failure, /could not load its WebAssembly module \(smart_polling_bg\.wasm\) from file:.*ENOENT/, "usePollingLoadError without a provider");
  assert.deepEqual(fetch.calls, []);

  renameSync(`${wasm}.away`, wasm);
  const second = watch("bare-2");
  t.after(second.unmount);
  await until(() => second.data().status === "completed" && first.data().status === "completed");
  // Its first render shows the page's last failure, until its effect starts a load again.
  const started = second.states.findIndex((s) => s !== "error");
  assert.ok(started >= 0 && !second.states.slice(started).includes("error"), `once its load started, the new mount never showed the old failure: ${second.states}`);
  assert.equal(first.data().failure, "", "the failure is gone once a load started again");
  assert.equal(first.data().url, "https://cdn.example/bare-1.png", "the first mount's manager was created by the later load, and its job ran");
  assert.equal(second.data().url, "https://cdn.example/bare-2.png");
});

test("usePolling's retry: set by a transient error, null again once the next request goes (the same record answering) and when the job ends", async (t) => {
  const { react } = await install().load();
  const original = globalThis.fetch;
  t.after(() => (globalThis.fetch = original));
  // a pending record, a 503, the same pending record twice, then the complete one
  const pending = { id: "retry-1", type: "image", url: null };
  let n = 0;
  globalThis.fetch = async () => {
    n += 1;
    if (n === 2) return new Response("{}", { status: 503 });
    const record = n >= 5 ? { ...pending, url: "https://cdn.example/retry-1.png" } : pending;
    return new Response(JSON.stringify(record), { status: 200, headers: { "content-type": "application/json" } });
  };
  const seen = []; // [status, attempt, retry's kind]
  function Watch() {
    const state = react.usePolling(react.usePollingContext(), "retry-1");
    seen.push([state.status, state.progress?.attempt ?? 0, state.retry?.error.kind ?? null]);
    return h("p", { id: "retry", "data-status": state.status });
  }
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root = createRoot(container);
  t.after(() => (root.unmount(), container.remove()));
  root.render(h(StrictMode, null, h(react.PollingProvider, { options }, h(Watch))));
  await until(() => container.querySelector("#retry")?.getAttribute("data-status") === "completed");
  assert.equal(n, 5);
  const shown = seen.findIndex(([, , kind]) => kind === "server");
  assert.ok(shown >= 0, `the 503 was shown as a retry: ${JSON.stringify(seen)}`);
  assert.deepEqual(seen.filter(([, attempt, kind]) => kind !== null && attempt > 2), [], `no retry once the request after the 503 went: ${JSON.stringify(seen)}`);
  assert.ok(seen.some(([status, attempt, kind]) => status === "active" && attempt >= 3 && kind === null), `null again while the job goes on: ${JSON.stringify(seen)}`);
  assert.deepEqual(seen.at(-1), ["completed", 5, null]);
});

test("below a provider whose load failed, a later failed load's words replace the first's", async (t) => {
  const pkg = install();
  const wasm = path.join(pkg.dir, "smart_polling_bg.wasm");
  renameSync(wasm, `${wasm}.away`);
  t.after(() => renameSync(`${wasm}.away`, wasm));
  const { react } = await pkg.load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const app = mount(react, "again-1");
  t.after(app.unmount);
  await until(() => app.data().status === "error");
  assert.match(app.data().message, /smart_polling_bg\.wasm/);
  // a "Retry" button's load, from another place, fails too
  await assert.rejects(react.initSmartPolling(pathToFileURL(path.join(pkg.dir, "retry.wasm")).href));
  await until(() => /retry\.wasm/.test(app.data().message), { what: "the newer failure" });
  assert.equal(app.data().failure, "load_failed");
  assert.equal(app.data().status, "error");
});

test("a failed initSmartPolling(url) is tried again from that url by a later load, not from the default one", async (t) => {
  const fetch = mockFetch();
  t.after(fetch.restore);
  const pkg = install();
  const wasm = path.join(pkg.dir, "smart_polling_bg.wasm");
  const named = path.join(pkg.dir, "named.wasm");
  const { react } = await pkg.load();
  await assert.rejects(react.initSmartPolling(pathToFileURL(named).href), /ENOENT/);
  renameSync(wasm, named); // now only the named url has the module
  const app = mount(react, "named-1");
  t.after(app.unmount);
  await until(() => app.data().status === "completed", { what: "the completion" });
  assert.equal(app.data().failure, "");
});

// ---------------------------------------------------------------------------
// The hooks' own API: what they free and stop, and where they load from.

/** Renders `element` (wrapped in StrictMode) into a fresh container; `render` again re-renders. */
function renderRoot(element) {
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root = createRoot(container);
  const render = (el) => root.render(h(StrictMode, null, el));
  render(element);
  return {
    render,
    unmount: () => {
      root.unmount();
      container.remove();
    },
  };
}

/** An error boundary that records what it caught into `caught` and renders nothing after. */
async function boundary(caught) {
  const { Component } = await import("react");
  return class Catch extends Component {
    state = { error: null };
    static getDerivedStateFromError(error) {
      return { error };
    }
    componentDidCatch(error) {
      caught.push(error);
    }
    render() {
      return this.state.error ? null : this.props.children;
    }
  };
}

/** Proving an absence: no new request for `id` over ten of the mocked schedule's intervals. */
async function assertNoMoreRequests(fetch, id, message) {
  const before = fetch.count(id);
  await sleep(10 * options.intervals[0]);
  assert.equal(fetch.count(id), before, message);
}

test("usePollingManager: one manager for the component, its jobs stopped and the manager freed on unmount", async (t) => {
  const { react } = await install().load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const seen = { managers: new Set(), status: null };
  function Own() {
    const manager = react.usePollingManager(options);
    if (manager) seen.managers.add(manager);
    seen.status = react.usePolling(manager, "pending-own").status;
    return null;
  }
  const app = renderRoot(h(Own));
  await until(() => fetch.count("pending-own") >= 2, { what: "the job's requests" });
  assert.equal(seen.managers.size, 1, "StrictMode's mount, unmount, mount ends with one manager");
  const [manager] = seen.managers;
  assert.equal(seen.status, "active");
  assert.equal(manager.isPolling("pending-own"), true);
  app.unmount();
  assert.equal(react.isRetired(manager), true);
  assert.equal(manager.__wbg_ptr, 0, "freed");
  await assertNoMoreRequests(fetch, "pending-own", "no request after the unmount");
});

test("usePolling: a new id stops the old job and starts the new one, never showing the old id's state; unmounting the watcher stops it", async (t) => {
  const { react } = await install().load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const seen = { manager: null, states: [] };
  function Watch({ fileId }) {
    const manager = react.usePollingContext();
    seen.manager = manager;
    const state = react.usePolling(manager, fileId);
    seen.states.push([fileId, state.status]);
    return null;
  }
  const tree = (fileId, watching = true) => h(react.PollingProvider, { options }, watching ? h(Watch, { fileId }) : null);
  const app = renderRoot(tree("done-a"));
  t.after(app.unmount);
  await until(() => seen.states.some(([id, status]) => id === "done-a" && status === "completed"), { what: "the first id's completion" });
  app.render(tree("pending-b"));
  await until(() => fetch.count("pending-b") >= 2, { what: "the new id's requests" });
  const forB = seen.states.filter(([id]) => id === "pending-b").map(([, status]) => status);
  assert.ok(forB.length > 0 && forB.every((s) => s === "active"), `the new id never shows the old one's state: ${forB}`);
  app.render(tree("pending-c"));
  await until(() => fetch.count("pending-c") >= 2, { what: "the third id's requests" });
  const { manager } = seen;
  assert.equal(manager.isPolling("pending-b"), false, "the old id's job is stopped");
  assert.equal(manager.isPolling("pending-c"), true);
  await assertNoMoreRequests(fetch, "pending-b", "no request for the old id");
  // The watcher goes, the provider stays: its job stops, the manager lives on.
  app.render(tree("pending-c", false));
  await until(() => !manager.isPolling("pending-c"), { what: "the job to stop" });
  await assertNoMoreRequests(fetch, "pending-c", "no request once the watcher unmounted");
  assert.equal(react.isRetired(manager), false);
});

test("usePollingGroup: start, has, stop and stopAll, and whatever it still runs stops on unmount", async (t) => {
  const { react } = await install().load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const seen = { group: null, manager: null };
  function Group() {
    seen.manager = react.usePollingContext();
    seen.group = react.usePollingGroup(seen.manager);
    return null;
  }
  const app = renderRoot(h(react.PollingProvider, { options }, h(Group)));
  await until(() => seen.group?.ready, { what: "the group's manager" });
  const { group, manager } = seen;
  const completed = [];
  group.start("pending-g1", {});
  group.start("done-g2", { onComplete: (r) => completed.push(r.id) });
  assert.equal(group.has("pending-g1"), true);
  await until(() => completed.length === 1, { what: "the second job's completion" });
  assert.deepEqual(completed, ["done-g2"]);
  assert.equal(group.has("done-g2"), false, "a completed job leaves the group");
  assert.equal(group.stop("pending-g1"), true);
  assert.equal(group.stop("pending-g1"), false, "already stopped");
  assert.equal(manager.isPolling("pending-g1"), false);
  group.start("pending-g3", {});
  group.start("pending-g4", {});
  group.stopAll();
  assert.equal(manager.isPolling("pending-g3") || manager.isPolling("pending-g4"), false);
  // the page's callbacks are called as its methods, as startPolling calls them: a class instance works
  class Card {
    label = "card";
    heard = [];
    onUpdate(record) {
      this.heard.push(`${this.label} update ${record.id}`);
    }
    onComplete(record) {
      this.heard.push(`${this.label} complete ${record.id}`);
    }
  }
  const card = new Card();
  group.start("done-g6", card);
  await until(() => card.heard.length === 3, { what: "the card's callbacks" });
  assert.deepEqual(card.heard, ["card update done-g6", "card update done-g6", "card complete done-g6"]);
  group.start("pending-g5", {});
  await until(() => fetch.count("pending-g5") >= 1, { what: "the last job's request" });
  app.unmount();
  assert.equal(react.isRetired(manager), true, "the provider's manager is freed with it");
  for (const id of ["pending-g1", "pending-g3", "pending-g4", "pending-g5"]) {
    await assertNoMoreRequests(fetch, id, `no request for ${id}`);
  }
});

test("the hooks refuse what startPolling refuses in the page's callbacks: a misspelt one, a job option, one that is no function", async (t) => {
  const { react } = await install().load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const seen = { group: null, manager: null, caught: [] };
  function Group() {
    seen.manager = react.usePollingContext();
    seen.group = react.usePollingGroup(seen.manager);
    return null;
  }
  const app = renderRoot(h(react.PollingProvider, { options }, h(Group)));
  t.after(app.unmount);
  await until(() => seen.group?.ready, { what: "the group's manager" });
  const { group, manager } = seen;
  const misspelt = /^RangeError: unknown callback "onCompleted"; did you mean "onComplete"\?$/;
  assert.throws(() => group.start("pending-k1", { onCompleted: () => {} }), misspelt);
  assert.throws(() => react.subscribe(manager, "pending-k2", { onCompleted: () => {} }), misspelt);
  assert.throws(() => react.subscribe(manager, "pending-k3", { timeout: 5 }), /"timeout" is a job option, not a callback/);
  assert.throws(() => react.subscribe(manager, "pending-k4", { onComplete: 5 }), /^TypeError: onComplete must be a function \(got number\)$/);
  assert.equal(["pending-k1", "pending-k2", "pending-k3", "pending-k4"].some((id) => manager.isPolling(id)), false, "none started");
  // a class instance's own fields are its business, as in startPolling
  class Card {
    constructor() {
      this.onClose = () => {};
    }
    onComplete() {}
  }
  const unsubscribe = react.subscribe(manager, "pending-k5", new Card());
  assert.equal(manager.isPolling("pending-k5"), true);
  unsubscribe();
  // usePolling throws from its effect, to the nearest error boundary
  function Watch() {
    react.usePolling(seen.manager, "pending-k6", { onCompleted: () => {} });
    return null;
  }
  const Catch = await boundary(seen.caught);
  app.render(h(react.PollingProvider, { options }, h(Group), h(Catch, null, h(Watch))));
  await until(() => seen.caught.length > 0, { what: "the boundary to catch" });
  assert.match(String(seen.caught[0]), misspelt);
  assert.equal(seen.manager.isPolling("pending-k6"), false);
});

test("a hot update (Fast Refresh) of components that own a manager, watch with it and hold a group: no crash, the jobs go on", async (t) => {
  const { react } = await install().load();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const seen = { caught: [], status: null, group: null, completed: [] };
  const Catch = await boundary(seen.caught);
  // one file's components, as a bundler registers them; "edited" below
  const version = (label) => {
    function Owner() {
      const manager = react.usePollingManager(options);
      seen.status = [label, react.usePolling(manager, "pending-hot1").status];
      return null;
    }
    function Group() {
      const group = react.usePollingGroup(react.usePollingContext());
      seen.group = group;
      seen.label = label;
      return null;
    }
    refresh.register(Owner, "hot.jsx Owner");
    refresh.register(Group, "hot.jsx Group");
    return { Owner, Group };
  };
  const v1 = version("v1");
  const app = renderRoot(h(Catch, null, h(v1.Owner), h(react.PollingProvider, { options }, h(v1.Group))));
  t.after(app.unmount);
  await until(() => seen.group?.ready && fetch.count("pending-hot1") >= 2, { what: "the owner's job and the group" });
  seen.group.start("pending-hot2", { onComplete: (r) => seen.completed.push(r.id) });
  await until(() => fetch.count("pending-hot2") >= 2, { what: "the group's job" });

  version("v2");
  refresh.performReactRefresh();
  await until(() => seen.label === "v2" && seen.status?.[0] === "v2" && seen.status[1] === "active", { what: "the edited components to render" });
  const before = { hot1: fetch.count("pending-hot1"), hot2: fetch.count("pending-hot2") };
  await sleep(10 * options.intervals[0]);
  assert.deepEqual(seen.caught, [], "no error reached the boundary");
  assert.ok(fetch.count("pending-hot1") > before.hot1, "the owner's job polls on (with its new manager)");
  assert.ok(fetch.count("pending-hot2") > before.hot2, "the group's job goes on");
  assert.equal(seen.group.has("pending-hot2"), true, "the group still holds it");
});

test("the wasm prop and initSmartPolling(url) load the module from where they say; the first call decides", async (t) => {
  const fetch = mockFetch();
  t.after(fetch.restore);
  /** An install whose .wasm is only where the test puts it. */
  const moved = () => {
    const pkg = install();
    const from = path.join(pkg.dir, "smart_polling_bg.wasm");
    const to = path.join(pkg.dir, "elsewhere.wasm");
    renameSync(from, to);
    return { pkg, url: pathToFileURL(to).href };
  };
  // The provider's `wasm` prop.
  const one = moved();
  const { react } = await one.pkg.load();
  const app = mount(react, "done-wasm", [], { wasm: one.url });
  t.after(app.unmount);
  await until(() => app.data().status === "completed", { what: "the completion" });
  assert.equal(app.data().failure, "");

  // initSmartPolling(url) before the first render, and a later input ignored.
  const two = moved();
  const second = await two.pkg.load();
  await second.react.initSmartPolling(two.url);
  await second.react.initSmartPolling("file:///nowhere/smart_polling_bg.wasm");
  const app2 = mount(second.react, "done-init");
  t.after(app2.unmount);
  await until(() => app2.data().status === "completed", { what: "the completion" });

  // Without either, that install cannot load: the default place is empty.
  const three = moved();
  const third = await three.pkg.load();
  const app3 = mount(third.react, "done-none");
  t.after(app3.unmount);
  await until(() => app3.data().status === "error", { what: "the load failure" });
  assert.equal(app3.data().kind, "load_failed");
});
