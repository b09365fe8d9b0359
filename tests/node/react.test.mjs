// The React entry (`smart-polling/react`) of the packed package in Node
// (issue 17, items 2 and 3): it opens with "use client", and server
// rendering with the provider and the hooks needs no window or document and
// loads nothing. (react-dom.test.mjs renders them in a DOM.)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createElement as h, StrictMode } from "react";
import { renderToString } from "react-dom/server";

import { directives, isTypeofGuard } from "../support/source.mjs";
import { installPacked, mockFetch } from "./support.mjs";

const installs = [];
after(() => installs.forEach((i) => i.remove()));
function install() {
  const i = installPacked();
  installs.push(i);
  return i;
}

/** A component on the hooks, rendering what they return. */
function statusOf(react) {
  return function Status({ fileId }) {
    const manager = react.usePollingContext();
    const failure = react.usePollingLoadError();
    const { status, error } = react.usePolling(manager, fileId, { onComplete: () => {} });
    return h("p", { "data-status": status, "data-kind": error?.kind ?? "", "data-failure": failure?.kind ?? "" }, String(manager));
  };
}

/**
 * Records every read of `window` and `document` (they stay undefined, as in
 * Node) with the file and line that read them.
 */
function watchGlobals(t) {
  const reads = [];
  for (const name of ["window", "document"]) {
    assert.equal(Object.getOwnPropertyDescriptor(globalThis, name), undefined, `Node has no ${name}`);
    Object.defineProperty(globalThis, name, {
      configurable: true,
      get() {
        const frame = new Error().stack.split("\n")[2] ?? "";
        const at = /\((file:\/\/.*):(\d+):(\d+)\)$|at (file:\/\/.*):(\d+):(\d+)$/.exec(frame);
        reads.push({ name, file: at?.[1] ?? at?.[4] ?? frame, line: Number(at?.[2] ?? at?.[5]), column: Number(at?.[3] ?? at?.[6]) });
        return undefined;
      },
    });
    t.after(() => delete globalThis[name]);
  }
  return reads;
}

test("react.js is a client module: \"use client\" in its directive prologue", () => {
  const { dir } = install();
  assert.ok(directives(readFileSync(path.join(dir, "react.js"), "utf8")).includes("use client"));
});

test("server rendering of PollingProvider + usePolling: no error, nothing loaded or requested, no window or document used", async (t) => {
  const pkg = install();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const reads = watchGlobals(t);
  const { sp, react } = await pkg.load();
  const Status = statusOf(react);
  const tree = h(StrictMode, null,
    h(react.PollingProvider, { options: { maxStreams: 1 } }, h(Status, { fileId: "file-1" }), h(Status, { fileId: null })));
  const html = renderToString(tree);
  assert.equal(
    html,
    '<p data-status="idle" data-kind="" data-failure="">null</p><p data-status="idle" data-kind="" data-failure="">null</p>',
  );
  // a manager of its own, outside any provider, renders the same
  function Own() {
    const manager = react.usePollingManager({ eventsUrl: null });
    return h("span", null, react.usePolling(manager, "file-2").status);
  }
  assert.equal(renderToString(h(Own)), "<span>idle</span>");

  assert.deepEqual(fetch.calls, [], "no request");
  assert.throws(() => new sp.PollingManager(), /await init\(\)/, "the module was not loaded on the server");
  // The only reads of window/document in the package are `typeof` guards
  // (found by the parser at the place the read happened, however formatted).
  const ours = reads.filter((r) => r.file.startsWith(`file://${path.dirname(pkg.dir)}`));
  for (const r of ours) {
    const source = readFileSync(fileURLToPath(r.file), "utf8");
    const line = source.split("\n")[r.line - 1];
    assert.ok(isTypeofGuard(source, r.line, r.column, r.name), `${r.name} read at ${r.file}:${r.line}:${r.column}: ${line}`);
  }
});

test("initSmartPolling(url) at a module's top level, as the manual advises, leaves no unhandled rejection in a server render", async (t) => {
  const pkg = install();
  const fetch = mockFetch();
  t.after(fetch.restore);
  const unhandled = [];
  const hear = (reason) => unhandled.push(reason);
  process.on("unhandledRejection", hear);
  t.after(() => process.off("unhandledRejection", hear));
  const { react } = await pkg.load();
  // the call a client module makes on import: in Node a site path cannot load
  react.initSmartPolling("/smart_polling_bg.wasm");
  const Status = statusOf(react);
  const html = renderToString(h(react.PollingProvider, null, h(Status, { fileId: "file-1" })));
  assert.match(html, /data-status="idle"/);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(unhandled, []);
  // a caller that awaits the promise still hears the failure
  await assert.rejects(react.initSmartPolling("/smart_polling_bg.wasm"), /smart_polling_bg\.wasm/);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(unhandled, []);
});
