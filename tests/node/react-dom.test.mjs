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

import { installPacked, mockFetch, until } from "./support.mjs";

// The DOM first: react-dom decides at import whether it has one.
const window = new Window({ url: "http://localhost:5173/" });
globalThis.window = window;
globalThis.document = window.document;
globalThis.navigator ??= window.navigator; // Node 20 has none
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
function mount(react, fileId, completed = []) {
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
      "data-manager": String(manager !== null),
    });
  }
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root = createRoot(container);
  root.render(h(StrictMode, null, h("span", { id: "sibling" }, "rendered"), h(react.PollingProvider, { options }, h(Status))));
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
