// Simulated generation API for smart-polling: the service behind the Next.js
// proxy (generate, file/project records, SSE events, media), with fault
// injection, request counting and an optional proxy mode. Node built-ins only.
//
//   node server/index.mjs            # PORT, HOST, ALLOWED_HOSTS, SPEED, SEED, STATIC_DIR,
//                                    # UPSTREAM_URL, UPSTREAM_TOKEN, UPSTREAM_QUERY_KEYS,
//                                    # UPSTREAM_TIMEOUT, LOG=1
//   const api = await createApiServer({ port: 0, speed: 20 }); ... await api.close();

import { readFileSync, existsSync, statSync, createReadStream } from "node:fs";
import http from "node:http";
import https from "node:https";
import { randomBytes, createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promptPng } from "./png.mjs";
import { normalizeFaults, FaultError } from "./faults.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, "..");
const SAMPLE_WEBM = path.join(HERE, "assets", "sample.webm");
const VIDEO_SECONDS = 3; // length of assets/sample.webm

const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const STATS_WINDOW_MS = 10 * 60 * 1000;
const BUCKET_MS = 100; // per-100-ms request counts (GET /api/stats?buckets=1)
const MAX_BUCKETS = STATS_WINDOW_MS / BUCKET_MS;
const MAX_JOBS = 5000;
const MAX_COUNTED_IDS = 10000; // ids kept in the per-job counters (byJob, rateLimitedByJob)
const SAFE_METHODS = new Set(["GET", "HEAD"]);
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]", ""]);
const BODY_LIMIT = 1 << 20;

const KINDS = {
  image: { prefix: "img", median: 6, sigma: 0.4, min: 2, max: 30, contentType: "image/png", ext: "png", width: 256, height: 256, model: "sim-image-1" },
  video: { prefix: "vid", median: 25, sigma: 0.4, min: 8, max: 90, contentType: "video/webm", ext: "webm", width: 320, height: 180, model: "sim-video-1" },
};

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".cjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".xml": "application/xml",
  ".webm": "video/webm",
  ".mp4": "video/mp4",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".webmanifest": "application/manifest+json",
};

// Proxy mode: the upstream response headers the client needs; nothing else comes
// back (no Set-Cookie, no Access-Control-*, no Location, no WWW-Authenticate).
const FORWARDED_RESPONSE_HEADERS = [
  "content-type", "content-length", "content-encoding", "content-range", "accept-ranges",
  "cache-control", "expires", "last-modified", "etag", "date", "vary", "retry-after",
  "last-event-id", "x-accel-buffering",
];
// Media names forwarded to the upstream when not found here: an id and one or two extensions.
const MEDIA_NAME_RE = /^[A-Za-z0-9_-]{1,128}(?:\.[A-Za-z0-9]{1,16}){1,2}$/;
const QUERY_KEY_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const FORWARDED_REQUEST_HEADERS = [
  "accept", "accept-encoding", "accept-language", "cache-control", "last-event-id",
  "if-none-match", "if-modified-since", "user-agent", "range",
];

const MALFORMED_BODIES = [
  ["text/html; charset=utf-8", () => "<html><body><h1>502 Bad Gateway</h1></body></html>"],
  ["application/json", (id) => `{"id":"${id}","url":null,"tasks":[{"status":`], // truncated JSON
  ["application/json", (id) => JSON.stringify({ id, url: 12345, tasks: "in_progress" })], // wrong shape
  ["application/json", () => "[]"], // an array, not a record
];
const GARBAGE_LINES = [
  "not json at all",
  '{"type":"render_progress","object":',
  "<html>504 Gateway Time-out</html>",
  "undefined",
  "{'type': 'file'}",
];

/** Options for `node server/index.mjs`, read from the environment. */
export function optionsFromEnv(env = process.env) {
  const num = (v) => (v === undefined || v === "" ? undefined : Number(v));
  return {
    port: num(env.PORT) ?? 8080,
    host: env.HOST || "127.0.0.1",
    allowedHosts: parseHostList(env.ALLOWED_HOSTS),
    speed: num(env.SPEED) ?? 1,
    seed: env.SEED || undefined,
    staticDir: env.STATIC_DIR || undefined,
    upstreamUrl: env.UPSTREAM_URL || undefined,
    upstreamToken: env.UPSTREAM_TOKEN || undefined,
    upstreamTimeout: num(env.UPSTREAM_TIMEOUT),
    upstreamQueryKeys: parseList(env.UPSTREAM_QUERY_KEYS),
    log: env.LOG === "1",
  };
}

/** "a, b" (commas or spaces), or an array of such -> ["a", "b"]. */
function parseList(v) {
  if (Array.isArray(v)) return v.flatMap(parseList);
  if (v === undefined || v === null) return [];
  return String(v).split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
}

/** "a.example, b.example:8080" -> ["a.example", "b.example:8080"] (lower case). */
const parseHostList = (v) => parseList(v).map((h) => h.toLowerCase());

/** A Host header (or ALLOWED_HOSTS entry) as `{ name, port }`, port null when absent; null when malformed. */
function parseHost(value) {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/.exec(String(value).trim().toLowerCase());
  return m ? { name: m[1], port: m[2] === undefined ? null : Number(m[2]) } : null;
}

/**
 * True when the request declares a JSON body (`application/json`, parameters
 * allowed). A cross-site form or a `text/plain` fetch cannot declare it without
 * a CORS preflight, which this server never grants.
 */
function declaresJson(req) {
  const type = String(req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  return type === "application/json";
}

/** mulberry32, seeded from a number or (hashed) string. */
function createRng(seed) {
  let s;
  if (seed === undefined || seed === null || seed === "") s = randomBytes(4).readUInt32LE(0);
  else if (typeof seed === "number" && Number.isFinite(seed)) s = seed >>> 0;
  else s = createHash("sha256").update(String(seed)).digest().readUInt32LE(0);
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function progressMessage(kind, p) {
  if (p >= 100) return "Done";
  if (p < 10) return "Queued";
  if (p < 40) return kind === "video" ? "Generating keyframes" : "Sampling";
  if (p < 80) return kind === "video" ? "Rendering frames" : "Denoising";
  return kind === "video" ? "Encoding video" : "Upscaling";
}

/**
 * Starts the server. Resolves to `{ server, url, port, close(), state }` once listening.
 * Options: port (0 = ephemeral, default 8080), host, allowedHosts (extra names
 * the Host header may carry: "name" for any port, "name:port"), speed, seed, staticDir,
 * upstreamUrl, upstreamToken, upstreamQueryKeys (query keys forwarded upstream;
 * none by default), upstreamTimeout (ms, default 30000: a record's whole
 * response, a stream's or media file's headers), pingInterval (ms, default 15000), log,
 * faults (initial global faults), statsMaxIds (ids kept in the per-job counters,
 * default 10000; the oldest are dropped beyond it), onRequest(req) (called for each request that
 * passes the Host check),
 * mounts ({ "/prefix/": directory }: extra static folders, e.g. the package for
 * the browser benchmark).
 */
export async function createApiServer(options = {}) {
  const speed = options.speed ?? 1;
  if (typeof speed !== "number" || !Number.isFinite(speed) || speed <= 0) {
    throw new RangeError("speed must be a positive number");
  }
  const host = options.host ?? "127.0.0.1";
  const extraHosts = parseHostList(options.allowedHosts).map((h) => {
    const parsed = parseHost(h);
    if (!parsed) throw new RangeError(`allowedHosts: "${h}" is not a host name (name or name:port)`);
    return parsed;
  });
  const staticDir = path.resolve(options.staticDir ?? path.join(REPO_ROOT, "www", "dist"));
  const upstreamUrl = options.upstreamUrl ? String(options.upstreamUrl).replace(/\/+$/, "") : null;
  const upstreamToken = options.upstreamToken || null;
  const upstreamQueryKeys = new Set(parseList(options.upstreamQueryKeys));
  const upstreamTimeout = options.upstreamTimeout ?? 30000;
  if (typeof upstreamTimeout !== "number" || !Number.isFinite(upstreamTimeout) || upstreamTimeout <= 0) {
    throw new RangeError("upstreamTimeout must be a positive number of milliseconds");
  }
  for (const k of upstreamQueryKeys) {
    if (!QUERY_KEY_RE.test(k)) throw new RangeError(`upstreamQueryKeys: "${k}" is not a query key ([A-Za-z0-9_.-]{1,64})`);
  }
  const pingInterval = options.pingInterval ?? 15000;
  const log = options.log ?? process.env.LOG === "1";
  const onRequest = options.onRequest;
  const mounts = Object.entries(options.mounts ?? {}).map(([prefix, dir]) => [
    prefix.endsWith("/") ? prefix : prefix + "/",
    path.resolve(dir),
  ]);
  const rng = createRng(options.seed);
  const statsMaxIds = options.statsMaxIds ?? MAX_COUNTED_IDS;
  if (!Number.isInteger(statsMaxIds) || statsMaxIds < 1) throw new RangeError("statsMaxIds must be a positive integer");

  const state = {
    speed,
    jobs: new Map(), // fileId -> job
    projects: new Map(), // projectId -> job
    faults: normalizeFaults(options.faults),
    stats: null,
    sequence: 0,
    openStreams: 0, // SSE streams currently open
    storm: null, // herd mode: { until, retryAfter }: every record and events request is a 429 until `until`
  };
  const resetStats = () => {
    state.stats = {
      // Per-id counters are Maps (ids come from the URL: "__proto__" is a valid one),
      // bounded to statsMaxIds ids, the first counted dropped first.
      startedAt: Date.now(), total: 0, byJob: new Map(), byStatus: {}, timeline: [],
      rateLimitedByJob: new Map(), // 429s answered per job
      buckets: [], // requests per 100 ms since startedAt
      buckets429: [], // 429s answered per 100 ms since startedAt
    };
  };
  resetStats();

  const sockets = new Set();
  const cleanups = new Set(); // per-SSE-stream / per-delay cleanup functions
  const agents = {};
  let closed = false;
  let webm = null;
  let serverPort = 0; // known once listening

  // ---------- jobs ----------

  function drawDuration(kind) {
    const k = KINDS[kind];
    const u1 = 1 - rng();
    const u2 = rng();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    const seconds = Math.min(k.max, Math.max(k.min, k.median * Math.exp(k.sigma * z)));
    return seconds;
  }

  function randomSuffix() {
    return Math.floor(rng() * 36 ** 6).toString(36).padStart(6, "0");
  }

  function createJob(kind, prompt, faults, durationSeconds) {
    const n = ++state.sequence;
    const seconds = durationSeconds ?? drawDuration(kind);
    const duration = Math.max(1, Math.round((seconds * 1000) / speed));
    const createdAt = Date.now();
    const effective = faults ?? state.faults;
    const job = {
      fileId: `${KINDS[kind].prefix}_${n}_${randomSuffix()}`,
      projectId: `prj_${n}_${randomSuffix()}`,
      taskId: `task_${n}_${randomSuffix()}`,
      generationId: `gen_${n}_${randomSuffix()}`,
      kind,
      prompt,
      faults, // per-job faults (used instead of the global ones), or null
      fail: Boolean(effective.fail), // decided when the job is created
      createdAt,
      duration,
      doneAt: createdAt + duration,
      png: null,
      thumb: null,
    };
    state.jobs.set(job.fileId, job);
    state.projects.set(job.projectId, job);
    if (state.jobs.size > MAX_JOBS) {
      const oldest = state.jobs.values().next().value;
      state.jobs.delete(oldest.fileId);
      state.projects.delete(oldest.projectId);
    }
    return job;
  }

  const faultsOf = (job) => (job && job.faults) || state.faults;

  function jobStatus(job, now = Date.now()) {
    if (now < job.doneAt) return "in_progress";
    return job.fail ? "error" : "completed";
  }

  function jobProgress(job, now = Date.now()) {
    return Math.max(0, Math.min(100, Math.floor(((now - job.createdAt) / job.duration) * 100)));
  }

  const caseFor = (job, status) => (job.kind === "video" ? status.toUpperCase() : status);
  const mediaUrl = (job) => `/media/${job.fileId}.${KINDS[job.kind].ext}`;
  const thumbUrl = (job) => `/media/${job.fileId}.thumb.png`;

  function tasksOf(job, now) {
    return [{ id: job.taskId, status: caseFor(job, jobStatus(job, now)), project_id: job.projectId }];
  }

  function fileRecord(job, now = Date.now()) {
    const k = KINDS[job.kind];
    const status = jobStatus(job, now);
    const done = status === "completed";
    return {
      id: job.fileId,
      url: done ? mediaUrl(job) : null,
      thumbnail_url: done ? thumbUrl(job) : null,
      type: job.kind,
      contentType: k.contentType,
      image_generation_id: job.kind === "image" ? job.generationId : null,
      video_generation_id: job.kind === "video" ? job.generationId : null,
      duration: job.kind === "video" && done ? VIDEO_SECONDS : null,
      width: k.width,
      height: k.height,
      project_id: job.projectId,
      created_at: new Date(job.createdAt).toISOString(),
      updated_at: new Date(Math.min(now, job.doneAt)).toISOString(),
      tasks: tasksOf(job, now),
      meta: {
        prompt: job.prompt,
        model: k.model,
        progress: status === "in_progress" ? jobProgress(job, now) : 100,
        simulated: true,
        ...(status === "error" ? { error: "generation failed (simulated)" } : {}),
      },
    };
  }

  function projectRecord(job, now = Date.now()) {
    const done = jobStatus(job, now) === "completed";
    return {
      id: job.projectId,
      name: job.prompt.slice(0, 60),
      created_at: new Date(job.createdAt).toISOString(),
      data: done
        ? [{
            type: job.kind,
            value: { url: mediaUrl(job), contentType: KINDS[job.kind].contentType, file_id: job.fileId, thumbnail_url: thumbUrl(job) },
          }]
        : [],
      tasks: tasksOf(job, now),
    };
  }

  function jobSummary(job, now = Date.now()) {
    const status = jobStatus(job, now);
    return {
      fileId: job.fileId,
      projectId: job.projectId,
      kind: job.kind,
      prompt: job.prompt,
      status,
      createdAt: job.createdAt,
      duration: job.duration,
      progress: status === "in_progress" ? jobProgress(job, now) : 100,
      url: status === "completed" ? mediaUrl(job) : null,
      faults: job.faults,
    };
  }

  // ---------- counting ----------

  function countRequest() {
    const s = state.stats;
    s.total++;
    const ms = Date.now() - s.startedAt;
    const last = s.timeline[s.timeline.length - 1];
    if (last && Math.floor(last[0] / 1000) === Math.floor(ms / 1000)) {
      last[0] = ms;
      last[1] = s.total;
    } else {
      s.timeline.push([ms, s.total]);
    }
    while (s.timeline.length && s.timeline[0][0] < ms - STATS_WINDOW_MS) s.timeline.shift();
    bump(s.buckets, ms);
  }

  function bump(buckets, ms) {
    const i = Math.floor(ms / BUCKET_MS);
    if (i >= MAX_BUCKETS) return; // per-100-ms counts cover the first 10 minutes after a reset
    while (buckets.length <= i) buckets.push(0);
    buckets[i]++;
  }

  /** A 429 answered for this job (a rateLimit fault or the herd-mode storm). */
  function countLimited(id) {
    const s = state.stats;
    setBounded(s.rateLimitedByJob, id, (s.rateLimitedByJob.get(id) ?? 0) + 1);
    bump(s.buckets429, Date.now() - s.startedAt);
  }

  /** A serverError fault with bursts applies only inside them (windows of real time, shared by all jobs). */
  const inBurst = (e) => !e.burstEvery || Date.now() % e.burstEvery < e.burstFor;

  /** Herd mode: answers 429 with the storm's Retry-After while it lasts; true if it did. */
  function stormed(res, id) {
    const storm = state.storm;
    if (!storm) return false;
    if (Date.now() >= storm.until) {
      state.storm = null;
      return false;
    }
    countLimited(id);
    sendJson(res, 429, { error: "rate limited (storm)" }, { "Retry-After": String(storm.retryAfter) });
    return true;
  }

  /** Sets `key` in a per-id counter Map, then drops its oldest ids beyond statsMaxIds. */
  function setBounded(map, key, value) {
    map.set(key, value);
    while (map.size > statsMaxIds) map.delete(map.keys().next().value);
  }

  function countJob(id, what) {
    const byJob = state.stats.byJob;
    let entry = byJob.get(id);
    if (!entry) setBounded(byJob, id, (entry = { file: 0, project: 0, events: 0, total: 0 }));
    entry[what]++;
    entry.total++;
  }

  function countStatus(res) {
    const stats = state.stats; // a reset during the request leaves its status in the old counters
    const writeHead = res.writeHead;
    let counted = false;
    res.writeHead = function (status, ...rest) {
      if (!counted) {
        counted = true;
        const key = String(status);
        stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1;
      }
      return writeHead.call(this, status, ...rest);
    };
  }

  // ---------- response helpers ----------

  const alive = (res) => !res.destroyed && !res.writableEnded;

  function sendJson(res, status, body, headers = {}) {
    if (!alive(res) || res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
      "Cache-Control": "no-store",
      ...headers,
    });
    res.end(text);
  }

  function sendText(res, status, contentType, text, headers = {}) {
    if (!alive(res) || res.headersSent) return;
    res.writeHead(status, {
      "Content-Type": contentType,
      "Content-Length": Buffer.byteLength(text),
      "Cache-Control": "no-store",
      ...headers,
    });
    res.end(text);
  }

  function sendBuffer(req, res, status, contentType, buf, headers = {}) {
    if (!alive(res) || res.headersSent) return;
    res.writeHead(status, { "Content-Type": contentType, "Content-Length": buf.length, ...headers });
    res.end(req.method === "HEAD" ? undefined : buf);
  }

  const notFound = (res) => sendJson(res, 404, { error: "not found" });

  /** Resolves true after `ms`, or false as soon as the client goes away. */
  function delay(ms, res) {
    return new Promise((resolve) => {
      const done = (ok) => {
        clearTimeout(timer);
        res.off("close", onClose);
        cleanups.delete(cancel);
        resolve(ok);
      };
      const onClose = () => done(false);
      const cancel = () => done(false);
      const timer = setTimeout(() => done(alive(res)), ms);
      res.on("close", onClose);
      cleanups.add(cancel);
    });
  }

  function readBody(req) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      req.on("data", (c) => {
        size += c.length;
        if (size > BODY_LIMIT) {
          reject(Object.assign(new Error("body too large"), { status: 413 }));
          req.destroy();
        } else chunks.push(c);
      });
      req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      req.on("error", reject);
    });
  }

  async function readJsonObject(req) {
    const text = await readBody(req);
    if (text.trim() === "") return {};
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      throw Object.assign(new Error("body is not valid JSON"), { status: 400 });
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw Object.assign(new Error("body must be a JSON object"), { status: 400 });
    }
    return body;
  }

  // ---------- API handlers ----------

  async function handleGenerate(req, res, kind) {
    const body = await readJsonObject(req);
    const prompt = body.prompt;
    if (typeof prompt !== "string" || prompt.trim() === "" || prompt.length > 4000) {
      return sendJson(res, 400, { error: "prompt must be a non-empty string (at most 4000 characters)" });
    }
    let faults = null;
    if (body.faults !== undefined && body.faults !== null) {
      try {
        faults = normalizeFaults(body.faults);
      } catch (e) {
        if (e instanceof FaultError) return sendJson(res, 400, { error: e.message });
        throw e;
      }
    }
    let duration;
    if (body.duration !== undefined && body.duration !== null) {
      if (typeof body.duration !== "number" || !Number.isFinite(body.duration) || body.duration <= 0 || body.duration > 3600) {
        return sendJson(res, 400, { error: "duration must be a number of seconds in (0, 3600]" });
      }
      duration = body.duration;
    }
    const job = createJob(kind, prompt, faults, duration);
    sendJson(res, 200, { fileId: job.fileId, projectId: job.projectId });
  }

  /** GET /api/file/{id} and /api/project/{id}, with faults. */
  async function handleRecord(req, res, what, id) {
    const job = what === "file" ? state.jobs.get(id) : state.projects.get(id);
    countJob(job ? job.fileId : id, what);
    if (stormed(res, job ? job.fileId : id)) return;
    const f = faultsOf(job);
    if (f.slow && !(await delay(f.slow, res))) return;
    if (f.hang && rng() < f.hang) return; // never answer; close() or the client ends it
    if (f.rateLimit && rng() < f.rateLimit.probability) {
      const { retryAfter, seconds } = f.rateLimit;
      const headers = {};
      if (retryAfter === "seconds") headers["Retry-After"] = String(Math.ceil(seconds));
      else if (retryAfter === "date") {
        headers["Retry-After"] = new Date(Math.ceil((Date.now() + seconds * 1000) / 1000) * 1000).toUTCString();
      }
      countLimited(job ? job.fileId : id);
      return sendJson(res, 429, { error: "rate limited" }, headers);
    }
    if (f.serverError && inBurst(f.serverError) && rng() < f.serverError.probability) {
      const status = f.serverError.status;
      if (status === 502 || status === 504) {
        const text = status === 502 ? "Bad Gateway" : "Gateway Time-out";
        return sendText(res, status, "text/html; charset=utf-8", `<html><body><h1>${status} ${text}</h1></body></html>`);
      }
      return sendJson(res, status, { error: "internal server error (simulated)" });
    }
    if (f.forbidden) return sendJson(res, 403, { error: "forbidden" });
    if (!job) return notFound(res);
    if (f.notFoundFor && Date.now() - job.createdAt < f.notFoundFor) return notFound(res);
    if (f.malformed && rng() < f.malformed) {
      const [type, make] = MALFORMED_BODIES[Math.floor(rng() * MALFORMED_BODIES.length)];
      return sendText(res, 200, type, make(id));
    }
    sendJson(res, 200, what === "file" ? fileRecord(job) : projectRecord(job));
  }

  /** GET /api/events/file.{id}: the SSE stream of one job. */
  function handleEvents(req, res, id) {
    const job = state.jobs.get(id);
    countJob(job ? job.fileId : id, "events");
    if (stormed(res, job ? job.fileId : id)) return;
    const f = faultsOf(job);
    if (f.forbidden) return sendJson(res, 403, { error: "forbidden" });
    if (f.stream === "off" || !job) return notFound(res);
    if (f.stream === "never") return; // accepted, never answered

    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.write(": ok\n\n");

    const timers = new Set();
    const ping = setInterval(() => alive(res) && res.write(": ping\n\n"), pingInterval);
    state.openStreams++;
    let cleaned = false;
    const cleanup = () => {
      if (cleaned) return;
      cleaned = true;
      state.openStreams--;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      clearInterval(ping);
      cleanups.delete(cleanup);
    };
    cleanups.add(cleanup);
    res.on("close", cleanup);
    const at = (ms, fn) => {
      const t = setTimeout(() => {
        timers.delete(t);
        if (alive(res)) fn();
      }, Math.max(0, ms));
      timers.add(t);
    };
    const garbage = f.stream === "garbage";
    const send = (type, object) => {
      if (!alive(res)) return;
      const data = garbage ? GARBAGE_LINES[Math.floor(rng() * GARBAGE_LINES.length)] : JSON.stringify({ type, object });
      res.write(`data: ${data}\n\n`);
    };
    const progress = (p) =>
      send("render_progress", { progress: p, message: progressMessage(job.kind, p), file_id: job.fileId, task_id: job.taskId });
    const taskStatus = (status) =>
      send("task_status", { status: status.toUpperCase(), task_id: job.taskId, file_id: job.fileId, project_id: job.projectId });

    if (f.stream === "die") {
      progress(jobStatus(job) === "in_progress" ? jobProgress(job) : 100);
      at(20, () => res.destroy());
      return;
    }

    const finish = () => {
      const now = Date.now();
      if (now < job.doneAt) return at(job.doneAt - now + 1, finish); // timers may fire a hair early
      const status = jobStatus(job, now);
      if (status === "completed") {
        progress(100);
        taskStatus("completed");
        send("file", fileRecord(job, now));
        send("render_result", { url: mediaUrl(job), file_url: mediaUrl(job), thumbnail_url: thumbUrl(job), file_id: job.fileId });
      } else {
        taskStatus("error");
        send("file", fileRecord(job, now));
      }
    };

    const now = Date.now();
    if (jobStatus(job, now) === "in_progress") {
      taskStatus("in_progress");
      progress(jobProgress(job, now));
      for (let k = 1; k <= 9; k++) {
        const t = job.createdAt + (job.duration * k) / 10;
        if (t > now) at(t - now, () => progress(k * 10));
      }
      at(job.doneAt - now, finish);
    } else {
      finish();
    }
  }

  function handleStats(res, url) {
    const s = state.stats;
    const withBuckets = url.searchParams.has("buckets");
    sendJson(res, 200, {
      total: s.total,
      byJob: Object.fromEntries(s.byJob), // own properties, "__proto__" included
      byStatus: s.byStatus, // keyed by status codes the server (or upstream) answered, never by input
      timeline: s.timeline,
      startedAt: s.startedAt,
      rateLimitedByJob: Object.fromEntries(s.rateLimitedByJob),
      ...(withBuckets ? { bucketMs: BUCKET_MS, buckets: s.buckets, buckets429: s.buckets429 } : {}),
    });
  }

  /** Herd mode: POST /api/storm { ms = 3000, retryAfter = 2 } starts it now, GET reads it, DELETE ends it. */
  async function handleStorm(req, res) {
    if (state.storm && Date.now() >= state.storm.until) state.storm = null;
    if (req.method === "GET") return sendJson(res, 200, { storm: state.storm });
    if (req.method === "DELETE") {
      state.storm = null;
      return sendJson(res, 200, { storm: null });
    }
    const body = await readJsonObject(req);
    const ms = body.ms ?? 3000;
    const retryAfter = body.retryAfter ?? 2;
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0 || ms > 600000) {
      return sendJson(res, 400, { error: "ms must be a number of milliseconds in (0, 600000]" });
    }
    if (!Number.isInteger(retryAfter) || retryAfter < 0 || retryAfter > 3600) {
      return sendJson(res, 400, { error: "retryAfter must be an integer number of seconds in [0, 3600]" });
    }
    state.storm = { until: Date.now() + ms, retryAfter };
    sendJson(res, 200, { storm: state.storm });
  }

  async function handleFaults(req, res) {
    if (req.method === "GET") return sendJson(res, 200, state.faults);
    if (req.method === "DELETE") {
      state.faults = {};
      return sendJson(res, 200, state.faults);
    }
    const body = await readJsonObject(req);
    try {
      state.faults = normalizeFaults(body);
    } catch (e) {
      if (e instanceof FaultError) return sendJson(res, 400, { error: e.message });
      throw e;
    }
    sendJson(res, 200, state.faults);
  }

  // ---------- proxy ----------

  function agentFor(protocol) {
    return (agents[protocol] ??= new (protocol === "https:" ? https : http).Agent({ keepAlive: true }));
  }

  /** The query keys listed in upstreamQueryKeys, re-encoded; "" when none. */
  function forwardedQuery(url) {
    if (!upstreamQueryKeys.size) return "";
    const out = new URLSearchParams();
    for (const [k, v] of url.searchParams) if (upstreamQueryKeys.has(k)) out.append(k, v);
    const q = out.toString();
    return q ? `?${q}` : "";
  }

  /**
   * Forwards one request, with the token. `upstreamPath` is built by the caller
   * from validated parts only (never the client's raw path); the query keeps only
   * the keys in upstreamQueryKeys; only FORWARDED_RESPONSE_HEADERS come back.
   * Timeout (upstreamTimeout): a record must arrive whole in time; a `stream`
   * (SSE, media) must only send its headers in time, then may last. A timeout
   * before the headers answers 504; after them, the connection is dropped.
   */
  function proxy(req, res, upstreamPath, url, { stream = false } = {}) {
    let target;
    try {
      target = new URL(upstreamUrl + upstreamPath + forwardedQuery(url));
    } catch {
      return sendJson(res, 502, { error: "bad upstream url" });
    }
    const base = new URL(upstreamUrl + "/");
    if (target.origin !== base.origin || !target.pathname.startsWith(base.pathname)) {
      return sendJson(res, 400, { error: "not forwarded" }); // cannot happen with validated parts; never send the token elsewhere
    }
    const headers = {};
    for (const h of FORWARDED_REQUEST_HEADERS) if (req.headers[h]) headers[h] = req.headers[h];
    if (upstreamToken) headers.authorization = `Bearer ${upstreamToken}`;
    const lib = target.protocol === "https:" ? https : http;
    let upstreamDone = false;
    let timedOut = false;
    let timer = null;
    const onTimeout = () => {
      timer = null;
      timedOut = true;
      if (!res.headersSent) {
        const what = stream ? "did not start answering" : "did not answer";
        sendJson(res, 504, {
          error: "gateway timeout",
          detail: `the upstream ${what} within ${upstreamTimeout} ms (UPSTREAM_TIMEOUT / upstreamTimeout)`,
        });
      } else {
        res.destroy(); // a record's body stalled mid-way: the client sees the connection drop
      }
      up.destroy();
    };
    const stopTimer = () => {
      if (timer) clearTimeout(timer);
      timer = null;
    };
    const up = lib.request(target, { method: req.method, headers, agent: agentFor(target.protocol) }, (ur) => {
      if (stream) stopTimer(); // the stream is open: it lasts as long as the client wants
      const out = { "X-Content-Type-Options": "nosniff" };
      for (const h of FORWARDED_RESPONSE_HEADERS) if (ur.headers[h] !== undefined) out[h] = ur.headers[h];
      if (!alive(res)) return ur.destroy();
      res.writeHead(ur.statusCode ?? 502, out);
      res.flushHeaders(); // SSE: the client sees the headers at once
      ur.on("end", () => {
        upstreamDone = true;
        stopTimer();
      });
      ur.on("error", () => res.destroy());
      ur.on("close", () => {
        if (!ur.complete) res.destroy(); // upstream died mid-body: so do we
      });
      ur.pipe(res);
    });
    up.on("error", (err) => {
      stopTimer();
      if (timedOut) return; // answered above
      if (!res.headersSent) sendJson(res, 502, { error: "bad gateway", detail: err.code || err.message });
      else res.destroy();
    });
    timer = setTimeout(onTimeout, upstreamTimeout);
    res.on("close", () => {
      stopTimer();
      if (!upstreamDone) up.destroy();
    });
    up.end();
  }

  // ---------- media and static files ----------

  function handleMedia(req, res, name, url) {
    const m = /^([A-Za-z0-9_-]{1,128})(\.thumb\.png|\.png|\.webm)$/.exec(name);
    const job = m && state.jobs.get(m[1]);
    if (!job || jobStatus(job) !== "completed") {
      // the upstream's relative media urls: a plain name only (no encoded slash, no dot segment)
      if (upstreamUrl && MEDIA_NAME_RE.test(name)) return proxy(req, res, `/media/${name}`, url, { stream: true });
      return notFound(res);
    }
    const cache = { "Cache-Control": "public, max-age=3600" };
    if (m[2] === ".thumb.png") {
      job.thumb ??= promptPng(job.prompt, job.kind === "video" ? 160 : 128, job.kind === "video" ? 90 : 128);
      return sendBuffer(req, res, 200, "image/png", job.thumb, cache);
    }
    if (m[2] === ".png" && job.kind === "image") {
      job.png ??= promptPng(job.prompt, KINDS.image.width, KINDS.image.height);
      return sendBuffer(req, res, 200, "image/png", job.png, cache);
    }
    if (m[2] === ".webm" && job.kind === "video") {
      webm ??= readFileSync(SAMPLE_WEBM);
      return sendRanged(req, res, "video/webm", webm, cache);
    }
    return notFound(res);
  }

  function sendRanged(req, res, contentType, buf, headers) {
    const range = req.headers.range;
    const base = { "Accept-Ranges": "bytes", ...headers };
    if (!range) return sendBuffer(req, res, 200, contentType, buf, base);
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    let start;
    let end;
    if (m && (m[1] || m[2])) {
      if (m[1]) {
        start = Number(m[1]);
        end = m[2] ? Math.min(Number(m[2]), buf.length - 1) : buf.length - 1;
      } else {
        start = Math.max(0, buf.length - Number(m[2]));
        end = buf.length - 1;
      }
    }
    if (start === undefined || start > end || start >= buf.length) {
      return sendText(res, 416, "text/plain; charset=utf-8", "range not satisfiable", { "Content-Range": `bytes */${buf.length}` });
    }
    sendBuffer(req, res, 206, contentType, buf.subarray(start, end + 1), {
      ...base,
      "Content-Range": `bytes ${start}-${end}/${buf.length}`,
    });
  }

  function serveFile(req, res, file) {
    const ext = path.extname(file).toLowerCase();
    const type = (Object.hasOwn(MIME, ext) && MIME[ext]) || "application/octet-stream";
    const size = statSync(file).size;
    res.writeHead(200, { "Content-Type": type, "Content-Length": size, "Cache-Control": "no-cache" });
    if (req.method === "HEAD") return res.end();
    const stream = createReadStream(file);
    stream.on("error", () => res.destroy());
    res.on("close", () => stream.destroy());
    stream.pipe(res);
  }

  /** A file under one of the `mounts` folders; 404 for anything else (no index fallback). */
  function handleMount(req, res, dir, rest) {
    let decoded;
    try {
      decoded = decodeURIComponent(rest);
    } catch {
      return sendJson(res, 400, { error: "bad path" });
    }
    const file = path.join(dir, path.normalize("/" + decoded));
    if (decoded.includes("\0") || !file.startsWith(dir + path.sep)) return notFound(res);
    try {
      if (!statSync(file).isFile()) return notFound(res);
    } catch {
      return notFound(res);
    }
    serveFile(req, res, file);
  }

  function handleStatic(req, res, pathname) {
    const index = path.join(staticDir, "index.html");
    if (!existsSync(index)) {
      return sendText(
        res,
        200,
        "text/plain; charset=utf-8",
        "smart-polling demo: the page is not built yet (no www/dist).\nRun `npm start` to build it, then reload.\n" +
          "The simulated API is up: try GET /api/health.\n",
      );
    }
    let decoded;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return sendJson(res, 400, { error: "bad path" });
    }
    const file = path.join(staticDir, path.normalize("/" + decoded));
    if (decoded.includes("\0") || (file !== staticDir && !file.startsWith(staticDir + path.sep))) {
      return notFound(res);
    }
    let target = index; // SPA fallback
    try {
      const st = statSync(file);
      if (st.isFile()) target = file;
      else if (st.isDirectory() && existsSync(path.join(file, "index.html"))) target = path.join(file, "index.html");
    } catch {
      // not there: fall back to index.html
    }
    serveFile(req, res, target);
  }

  // ---------- Host check ----------

  // A page on another site can point its own name at 127.0.0.1 (DNS rebinding)
  // and then read this server as same-origin; its requests still carry that
  // name in Host. So only this server's own names are served: the loopback
  // names on its port, the address it is bound to, and allowedHosts.
  const bindName = host.includes(":") ? `[${host.toLowerCase()}]` : host.toLowerCase();
  const ownNames = new Set(LOOPBACK_NAMES);
  if (!WILDCARD_HOSTS.has(host) && !WILDCARD_HOSTS.has(bindName)) ownNames.add(bindName);

  function hostAllowed(value) {
    const h = value === undefined ? null : parseHost(value);
    if (!h) return false;
    const port = h.port ?? 80;
    if (ownNames.has(h.name) && port === serverPort) return true;
    return extraHosts.some((e) => e.name === h.name && (e.port === null || e.port === port));
  }

  function refuseHost(req, res) {
    const h = parseHost(req.headers.host ?? "");
    const shown = h ? `${h.name}${h.port === null ? "" : `:${h.port}`}` : null;
    const text =
      `smart-polling demo server: refused, ${shown ? `Host "${shown}"` : "this Host header"} is not one of this server's names ` +
      `(${[...ownNames].join(", ")} on port ${serverPort}).\n` +
      "If you reach the server under another name on purpose, list it in the ALLOWED_HOSTS environment variable " +
      `(comma-separated, "name" or "name:port", e.g. ALLOWED_HOSTS=${shown ?? "demo.example.com"}) ` +
      "or in the allowedHosts option of createApiServer.\n";
    sendText(res, 421, "text/plain; charset=utf-8", text, { "X-Content-Type-Options": "nosniff" });
  }

  // ---------- routing ----------

  async function route(req, res, url) {
    const p = url.pathname;
    const method = req.method;
    const get = method === "GET" || method === "HEAD";
    let m;

    if (p.startsWith("/api/") || p === "/api") {
      if (p === "/api/health") return get ? sendJson(res, 200, { ok: true }) : methodNotAllowed(res, "GET");
      if (p === "/api/stats") return get ? handleStats(res, url) : methodNotAllowed(res, "GET");
      if (p === "/api/stats/reset") {
        if (!accepts(req, res, ["POST"])) return;
        resetStats();
        return sendJson(res, 200, { ok: true });
      }
      if (p === "/api/faults") return accepts(req, res, ["GET", "PUT", "DELETE"]) && handleFaults(req, res);
      if (p === "/api/storm") return accepts(req, res, ["GET", "POST", "DELETE"]) && handleStorm(req, res);
      if (p === "/api/jobs") {
        if (!get) return methodNotAllowed(res, "GET");
        const now = Date.now();
        return sendJson(res, 200, [...state.jobs.values()].map((j) => jobSummary(j, now)));
      }
      if ((m = /^\/api\/generate\/(image|video)$/.exec(p))) return accepts(req, res, ["POST"]) && handleGenerate(req, res, m[1]);
      // Proxy mode forwards these three routes only, for a valid id, rebuilt from their parts.
      if ((m = /^\/api\/(file|project)\/([^/]+)$/.exec(p))) {
        if (method !== "GET") return methodNotAllowed(res, "GET");
        if (!ID_RE.test(m[2])) return sendJson(res, 400, { error: "invalid id" });
        if (upstreamUrl) {
          countJob(m[2], m[1]);
          return proxy(req, res, `/api/${m[1]}/${m[2]}`, url);
        }
        return handleRecord(req, res, m[1], m[2]);
      }
      if ((m = /^\/api\/events\/(.+)$/.exec(p))) {
        if (method !== "GET") return methodNotAllowed(res, "GET");
        const fm = /^file\.([^/]+)$/.exec(m[1]);
        if (!fm) return notFound(res);
        if (!ID_RE.test(fm[1])) return sendJson(res, 400, { error: "invalid id" });
        if (upstreamUrl) {
          countJob(fm[1], "events");
          return proxy(req, res, `/api/events/file.${fm[1]}`, url, { stream: true });
        }
        return handleEvents(req, res, fm[1]);
      }
      return notFound(res);
    }

    if (!get) return methodNotAllowed(res, "GET, HEAD");
    if ((m = /^\/media\/([^/]+)$/.exec(p))) return handleMedia(req, res, m[1], url);
    for (const [prefix, dir] of mounts) {
      if (p.startsWith(prefix)) return handleMount(req, res, dir, p.slice(prefix.length));
    }
    return handleStatic(req, res, p);
  }

  function methodNotAllowed(res, allow) {
    sendJson(res, 405, { error: "method not allowed" }, { Allow: allow });
  }

  /**
   * True when the method is one of `allowed` (else a 405) and, for a state change
   * (anything but GET/HEAD), the request declares a JSON body (else a 415), with
   * or without a body: a cross-site page cannot send that without a preflight.
   */
  function accepts(req, res, allowed) {
    if (!allowed.includes(req.method)) {
      methodNotAllowed(res, allowed.join(", "));
      return false;
    }
    if (!SAFE_METHODS.has(req.method) && !declaresJson(req)) {
      sendJson(res, 415, { error: "state-changing requests need Content-Type: application/json (even without a body)" });
      return false;
    }
    return true;
  }

  async function handle(req, res) {
    const started = Date.now();
    res.on("error", () => {});
    req.on("error", () => {});
    if (log) {
      res.on("close", () => {
        const status = res.headersSent ? res.statusCode : "-";
        console.log(`${new Date().toISOString()} ${req.method} ${req.url} ${status} ${Date.now() - started}ms`);
      });
    }
    // Before anything else: a refused request leaves no trace (not counted, no hook).
    if (!hostAllowed(req.headers.host)) return refuseHost(req, res);
    let url;
    try {
      url = new URL(req.url, "http://localhost");
    } catch {
      return sendJson(res, 400, { error: "bad request" });
    }
    // Looking at the counters does not change them.
    if (!(req.method === "GET" && url.pathname === "/api/stats")) {
      countRequest();
      countStatus(res);
    }
    if (onRequest) {
      try {
        onRequest(req);
      } catch {
        // a test hook must not break the server
      }
    }
    try {
      await route(req, res, url);
    } catch (err) {
      if (err && err.status) return sendJson(res, err.status, { error: err.message });
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
      if (log) console.error(err);
    }
  }

  // ---------- lifecycle ----------

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("clientError", (err, socket) => {
    if (socket.writable && !socket.destroyed) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = address.port;
  serverPort = port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  async function close() {
    if (closed) return;
    closed = true;
    for (const c of [...cleanups]) c();
    const done = new Promise((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    server.closeAllConnections?.();
    for (const a of Object.values(agents)) a.destroy();
    await done;
  }

  return { server, url: `http://${urlHost}:${port}`, port, close, state };
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const opts = optionsFromEnv();
  const api = await createApiServer(opts);
  console.log(
    `smart-polling simulated API on ${api.url} (speed ${opts.speed}` +
      (opts.upstreamUrl ? `, proxying records/events to ${opts.upstreamUrl}` : "") +
      ")",
  );
  const stop = () => api.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
