// Helpers for server/test/*.test.mjs (kept outside test/ so that
// `node --test server/test/` does not run this file as a test).

import zlib, { inflateSync } from "node:zlib";
import { createApiServer } from "./index.mjs";
import { crc32 as ownCrc32 } from "./png.mjs";
import { until } from "../tests/support/wait.mjs";

// An independent CRC-32 when this Node has one (20.15+).
const crc32 = zlib.crc32 ?? ownCrc32;

export const ID_RE = /^[A-Za-z0-9_-]+$/;
// Waiting, as every Node-side test tier waits (for events, not durations).
export { sleep, until } from "../tests/support/wait.mjs";

/** A server on an ephemeral port; fast and deterministic by default. */
export function startServer(options = {}) {
  return createApiServer({ port: 0, speed: 50, seed: "tests", staticDir: "/nonexistent-static-dir", ...options });
}

export async function getJson(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/**
 * A state-changing request: always declares `Content-Type: application/json`
 * (the server answers 415 otherwise, with or without a body); no body when
 * `body` is undefined.
 */
export async function sendJson(url, method, body) {
  return getJson(url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** POST /api/generate/{kind}; returns `{ fileId, projectId }`. */
export async function generate(api, kind, body = {}) {
  const r = await sendJson(`${api.url}/api/generate/${kind}`, "POST", { prompt: `a ${kind} of a lighthouse`, ...body });
  if (r.status !== 200) throw new Error(`generate: ${r.status} ${r.text}`);
  return r.body;
}

/** Polls the file record until its task is no longer running. */
export function waitDone(api, fileId) {
  return until(async () => {
    const r = await getJson(`${api.url}/api/file/${fileId}`);
    const s = r.body?.tasks?.[0]?.status?.toLowerCase();
    return s === "completed" || s === "error" ? r.body : null;
  });
}

/**
 * Reads an SSE response until `until(out)` is true, the stream ends or fails,
 * or `timeout` ms pass; then cancels it. `out.messages` holds `{ data, json }`
 * (json undefined when not JSON), `out.comments` the comment lines.
 */
export async function readSse(url, { until = () => false, timeout = 15000, headers } = {}) {
  const ac = new AbortController();
  const out = { status: 0, headers: null, comments: [], messages: [], first: null, ended: false, error: null, timedOut: false };
  const timer = setTimeout(() => {
    out.timedOut = true;
    ac.abort();
  }, timeout);
  let reader;
  try {
    const res = await fetch(url, { signal: ac.signal, headers });
    out.status = res.status;
    out.headers = res.headers;
    if (!res.ok) {
      out.body = await res.text();
      return out;
    }
    reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        out.ended = true;
        break;
      }
      buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      out.first ??= buf;
      let idx;
      while ((idx = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) out.comments.push(line.slice(1).trim());
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) {
          const text = data.join("\n");
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          out.messages.push({ data: text, json });
        }
      }
      if (until(out)) break;
    }
  } catch (err) {
    if (!out.timedOut) out.error = err;
  } finally {
    clearTimeout(timer);
    if (reader) await reader.cancel().catch(() => {});
    ac.abort();
  }
  return out;
}

export const types = (sse) => sse.messages.map((m) => m.json?.type);
export const hasType = (type) => (sse) => sse.messages.some((m) => m.json?.type === type);

/** Checks a PNG: signature, chunk CRCs, IHDR; returns `{ width, height, pixels }`. */
export function parsePng(buf) {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => buf[i] === b)) throw new Error("bad PNG signature");
  let off = 8;
  let ihdr;
  const idat = [];
  for (;;) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString("ascii", off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    const crc = buf.readUInt32BE(off + 8 + len);
    if (crc !== crc32(buf.subarray(off + 4, off + 8 + len))) throw new Error(`bad CRC in ${type}`);
    if (type === "IHDR") ihdr = data;
    if (type === "IDAT") idat.push(data);
    off += 12 + len;
    if (type === "IEND") break;
  }
  if (!ihdr) throw new Error("no IHDR");
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const raw = inflateSync(Buffer.concat(idat));
  return { width, height, bitDepth: ihdr[8], colorType: ihdr[9], rawLength: raw.length };
}
