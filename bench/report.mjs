// The report of bench/run.mjs: the markdown section of BENCHMARKS.md and the
// SVG charts of docs/bench/ (hand-built strings, no chart library).

const COLORS = {
  "smart-stream": "#1b7f3b",
  "smart-poll": "#58b368",
  smart: "#1b7f3b",
  fixed: "#c0392b",
  seed: "#2c6fbb",
  tanstack: "#e67e22",
  plain: "#7f8c8d",
};

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const n1 = (v) => (v === null || v === undefined ? "-" : v.toFixed(1));
const n2 = (v) => (v === null || v === undefined ? "-" : v.toFixed(2));
const avg = (xs) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : null);

/**
 * A herd row's buckets (requests per `bucketMs` from the run's start), seen
 * beside the target's peak/mean over the window from the storm's start:
 * - `silent`: the window's slots with no request;
 * - `peakOverSteady`: the window's peak over the mean of the 2 s before the storm;
 * - `recoveryPeakOverMean`: peak/mean from the storm's end (or the first
 *   request after it) to the window's end.
 */
export function herdViews(s, herd) {
  const first = Math.floor(s.stormAt / s.bucketMs);
  const slots = Math.floor(herd.observeMs / s.bucketMs);
  const at = (i) => s.buckets[i] ?? 0;
  const window = Array.from({ length: slots }, (_, i) => at(first + i));
  const steady = avg(s.buckets.slice(Math.max(0, first - Math.floor(2000 / s.bucketMs)), first));
  let from = Math.min(slots, Math.floor(herd.stormMs / s.bucketMs));
  while (from < slots && window[from] === 0) from++;
  const recovery = window.slice(from);
  const recoveryMean = avg(recovery);
  return {
    slots,
    silent: window.filter((x) => x === 0).length,
    peakOverSteady: steady ? Math.max(...window) / steady : null,
    recoveryPeakOverMean: recoveryMean ? Math.max(...recovery) / recoveryMean : null,
  };
}

function niceStep(range, ticks) {
  const raw = range / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
}

/** Requests per job (mean) against detection lag (p50, a line to p95), one point per policy. */
export function scatterSvg(w) {
  const W = 680;
  const H = 380;
  const m = { l: 60, r: 230, t: 40, b: 50 };
  const cells = w.cells.filter((c) => c.lagP50 !== null);
  const lags = cells.flatMap((c) => [c.lagP50, c.lagP95]).filter((v) => v > 0);
  const lo = Math.max(1, Math.min(...lags, 100) / 1.5);
  const hi = Math.max(...lags, 1000) * 1.3;
  const lx = (v) => m.l + ((Math.log10(Math.max(lo, v)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (W - m.l - m.r);
  const ymax = Math.max(...w.cells.map((c) => c.requestsMean), 1) * 1.15;
  const step = niceStep(ymax, 5);
  const top = Math.ceil(ymax / step) * step;
  const ly = (v) => H - m.b - (v / top) * (H - m.t - m.b);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${m.l}" y="22" font-size="14" font-weight="bold">${esc(w.label)}: requests per job against detection lag</text>`,
  ];
  for (let v = 0; v <= top + 1e-9; v += step) {
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${ly(v)}" y2="${ly(v)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${ly(v) + 4}" text-anchor="end">${+v.toFixed(2)}</text>`);
  }
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const k of [1, 2, 5]) {
      const v = k * 10 ** e;
      if (v < lo || v > hi) continue;
      out.push(`<line x1="${lx(v)}" x2="${lx(v)}" y1="${m.t}" y2="${H - m.b}" stroke="${k === 1 ? "#ddd" : "#f3f3f3"}"/>`);
      if (k === 1) out.push(`<text x="${lx(v)}" y="${H - m.b + 16}" text-anchor="middle">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`);
    }
  }
  out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`);
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">detection lag, server done to onComplete (log scale): dot p50, line to p95</text>`);
  out.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">HTTP requests per job (mean)</text>`);
  w.cells.forEach((c, i) => {
    const color = COLORS[c.policy] ?? "#000";
    if (c.lagP50 !== null) {
      const y = ly(c.requestsMean);
      out.push(`<line x1="${lx(c.lagP50)}" x2="${lx(c.lagP95)}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2" opacity="0.6"/>`);
      // earlier policies drawn larger, so equal points stay visible as rings
      out.push(`<circle cx="${lx(c.lagP50)}" cy="${y}" r="${9 - i}" fill="${color}" stroke="#fff" stroke-width="1.5"><title>${esc(c.label)}: ${n1(c.requestsMean)} requests/job, lag p50 ${Math.round(c.lagP50)} ms, p95 ${Math.round(c.lagP95)} ms</title></circle>`);
    }
    const ly0 = m.t + 10 + i * 36;
    out.push(`<circle cx="${W - m.r + 20}" cy="${ly0}" r="6" fill="${color}"/>`);
    out.push(`<text x="${W - m.r + 32}" y="${ly0 + 4}">${esc(c.label)}</text>`);
    const done = c.completed === c.jobs ? "" : `, ${c.jobs - c.completed}/${c.jobs} not done`;
    out.push(`<text x="${W - m.r + 32}" y="${ly0 + 18}" fill="#555">${n1(c.requestsMean)} req, p50 ${c.lagP50 === null ? "-" : Math.round(c.lagP50) + " ms"}${done}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Requests per 100 ms over time, one line per policy; the storm shaded. */
export function herdSvg(herd) {
  const W = 760;
  const H = 380;
  const m = { l: 60, r: 250, t: 40, b: 50 };
  const bucketMs = herd[0]?.bucketMs ?? 100;
  const len = Math.max(...herd.map((h) => h.buckets.length), 1);
  const ymaxRaw = Math.max(1, ...herd.flatMap((h) => h.buckets));
  const step = niceStep(ymaxRaw * 1.1, 5);
  const top = Math.ceil((ymaxRaw * 1.1) / step) * step;
  const x = (i) => m.l + (i / len) * (W - m.l - m.r);
  const y = (v) => H - m.b - (Math.min(v, top) / top) * (H - m.t - m.b);
  const h0 = herd[0];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${m.l}" y="22" font-size="14" font-weight="bold">Herd: ${h0?.n ?? ""} jobs, every request answered 429 (Retry-After: 2) for 3 s</text>`,
  ];
  for (const h of herd.slice(0, 1)) {
    const a = h.stormAt / bucketMs;
    const z = a + 3000 / bucketMs;
    out.push(`<rect x="${x(a)}" y="${m.t}" width="${x(z) - x(a)}" height="${H - m.t - m.b}" fill="#fdecea"/>`);
    out.push(`<text x="${x(a) + 4}" y="${m.t + 14}" fill="#c0392b">storm (3 s)</text>`);
  }
  for (let v = 0; v <= top + 1e-9; v += step) {
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  }
  const seconds = (len * bucketMs) / 1000;
  const sstep = niceStep(seconds, 8);
  for (let s = 0; s <= seconds; s += sstep) {
    out.push(`<text x="${x((s * 1000) / bucketMs)}" y="${H - m.b + 16}" text-anchor="middle">${s} s</text>`);
  }
  out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`);
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">time since the jobs started (storm shaded as in the first run; each run's own start is within 0.1 s)</text>`);
  out.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">requests per 100 ms at the server</text>`);
  herd.forEach((h, i) => {
    const color = COLORS[h.policy] ?? "#000";
    const pts = h.buckets.map((v, k) => `${x(k + 0.5).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    out.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    const ly0 = m.t + 10 + i * 36;
    out.push(`<line x1="${W - m.r + 12}" x2="${W - m.r + 28}" y1="${ly0}" y2="${ly0}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${W - m.r + 34}" y="${ly0 + 4}">${esc(h.label)}</text>`);
    out.push(`<text x="${W - m.r + 34}" y="${ly0 + 18}" fill="#555">peak/mean ${n1(h.peakOverMean)}, 429s/job ${h.r429PerJob.toFixed(2)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** The generated section of BENCHMARKS.md. */
export function renderMarkdown(r, { FAULTS, fmtMs, fmtX, fmtBytes }) {
  const c = r.meta.config;
  const L = [];
  const p = (...lines) => L.push(...lines);
  p(
    "## Browser benchmarks (issue 10)",
    "",
    `Generated by \`node bench/run.mjs\` (the last step of \`npm run bench\`; \`node bench/run.mjs --smoke\` is the small run in \`npm test\`) on ${r.meta.date}: headless Chromium ${r.meta.chromium} through playwright-core, ${r.meta.cpus} CPUs shared with other work, Node ${r.meta.node}, against the demo server (\`server/\`, in-process). The package as built in \`pkg/\` (entry \`${r.meta.pkgEntry}\`; tree at ${r.meta.pkg?.head ?? "?"}; \`smart_polling_bg.wasm\` ${r.meta.pkg?.wasmBytes ?? "?"} B, built ${r.meta.pkg?.wasmBuilt ?? "?"} UTC, sha256 ${r.meta.pkg?.wasmSha256 ?? "?"}…). The run took ${Math.round(r.meta.seconds / 60 * 10) / 10} minutes. Raw numbers: [docs/bench/results.json](docs/bench/results.json).`,
    "",
    "### How a run fits in minutes",
    "",
    "Nothing is sped up: the clock is real for every policy, so polling intervals, backoff, `Retry-After`",
    "and detection lag are what a user would see, in real milliseconds. What is compressed is the sample:",
    `- each workload runs ${c.jobs.image} image / ${c.jobs.video} video jobs per policy whose durations are the demo server's`,
    "  distributions (log-normal, sigma 0.4, median 6 s for images and 25 s for videos) taken at the quantiles",
    "  (i + 0.5) / N instead of drawn at random, so a few jobs cover the distribution evenly (the slowest",
    "  1/(2N) tail is left out: the longest video is",
    `  ${Math.max(...r.matrix.filter((w) => w.kind === "video")[0].durations)} s), and every policy gets the very same durations (given to the server as \`duration\`);`,
    `- the ${r.matrix.length} workloads run at once, each in its own browser context (its own connection pool), and`,
    `  in each the ${r.matrix[0].cells.length} policies at once, each with at most ${c.concurrency} of its jobs running: at most 2 because`,
    "  smart-polling opens at most 2 event streams by default (`maxStreams`), so with the stream on every",
    "  job of that row really uses the stream;",
    "- the stress tests (start/stop, 1 000 running jobs, herd) run one policy at a time, before the matrix.",
    "",
    "The server's `SPEED` is left at 1: dividing only the generation times would make every policy look",
    "cheaper and every wait relatively longer, and dividing the policies' timings too would need every",
    "smart-polling option overridden, so the presets would not be what is measured.",
    "",
    "### Targets (item 2)",
    "",
    "| Target | Measured | |",
    "|---|---|---|",
  );
  for (const t of r.targets) p(`| ${t.name} | ${t.measured} | ${t.met ? "met" : "**missed**"} |`);
  p(
    "",
    "### Workloads: requests per job and detection lag",
    "",
    "Detection lag: from the moment the server's job is done (its `createdAt + duration`) to the policy's",
    "`onComplete` in the page (the same machine's clock), over completed jobs. Requests: every HTTP",
    "request the server saw for the job (file, project and event-stream connections); \"polls\" leaves the",
    "stream connections out. Faults:",
  );
  for (const f of Object.values(FAULTS)) if (f.note) p(`- ${f.label}: ${f.note} (per job, the server's fault injection);`);
  p(
    "- the stream faults touch only the stream: the baselines, which never open it, see a clean server there.",
    "",
    "| Workload | Policy | Done / failed / unfinished | Requests/job (mean) | Requests/job (p95) | Polls/job | Streams/job | Lag p50 | Lag p95 |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const w of r.matrix) {
    for (const cell of w.cells) {
      const errs = Object.entries(cell.errors).map(([k, v]) => `${v} ${k}`).join(", ");
      p(
        `| ${w.label} | ${cell.label} | ${cell.completed} / ${cell.failed}${errs ? ` (${errs})` : ""} / ${cell.unfinished} | ${n1(cell.requestsMean)} | ${n1(cell.requestsP95)} | ${n1(cell.pollsMean)} | ${n1(cell.streamsMean)} | ${fmtMs(cell.lagP50)} | ${fmtMs(cell.lagP95)} |`,
      );
    }
  }
  p("", "Charts (requests per job against lag, one per workload):", "");
  for (const w of r.matrix) p(`![${w.label}](docs/bench/${w.key}.svg)`);
  const plain = r.startStop.find((s) => s.policy === "plain");
  p(
    "",
    `### Start and stop ${c.startStop.n.toLocaleString("en")} jobs`,
    "",
    `Main-thread time in the page (the median of ${c.startStop.reps} runs for smart-polling and plain JS, one run for the others).`,
    "Each run starts new ids on a new manager in the same page; the first is the slowest (V8 is still compiling",
    "the hot code: for the wasm, 2-3x the later runs), which the median leaves out.",
    "\"Start\" is the loop of `start` calls, what freezes the page, plus the microtasks it queued; \"first",
    "requests out\" is the wall time until the page has called `fetch` once per job (counted by a wrapper",
    "around `window.fetch`; the main thread is busy for much of it: a `fetch` call costs about 0.4 ms here).",
    `\"Stop\" is \`stopAll\` ${c.startStop.waitMs} ms after that, with the requests in flight (the server holds every record`,
    "request unanswered): the call, and until the first task after it, so the aborted fetches' rejections",
    "count. The plain JS minimal poller (`bench/baselines/plain-minimal.js`) does the least any poller must:",
    "a `Map` entry and a `setTimeout` (0 ms) per job at start, then a `fetch` with an `AbortController`.",
    "Chromium fails fetches beyond a few thousand pending ones per page (`ERR_INSUFFICIENT_RESOURCES`, a",
    "`TypeError` in the page): the same for every policy, and part of what they handle.",
    "smart-polling keeps at most `maxConcurrentRequests` (6 by default) requests out per origin; with the",
    "server holding every one, its other jobs wait in its table (\"Requests sent\": 6, no \"first requests out\";",
    "the wait for them ends after a second without a new `fetch`), and its stop aborts 6 fetches. The",
    "`maxConcurrentRequests: 1024` row stops with 1,024 in flight.",
    "",
    "| Policy | Start: the calls | Start: + microtasks | First requests out (wall) | Requests sent | Stop: the call | Stop: until the next task | vs plain JS (start / stop) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const s of r.startStop) {
    p(`| ${s.label} | ${fmtMs(s.startSync)} | ${fmtMs(s.start)} | ${fmtMs(s.sent)} | ${s.requests} | ${fmtMs(s.stopSync)} | ${fmtMs(s.stop)} | ${fmtX(s.start / plain.start)} / ${fmtX(s.stop / plain.stop)} |`);
  }
  const rn = r.running[0];
  p(
    "",
    `### ${c.running.n.toLocaleString("en")} running jobs: long tasks and memory`,
    "",
    `${c.running.n.toLocaleString("en")} video jobs that do not finish, watched for ${c.running.windowMs / 1000} s by one policy (polling, real answers).`,
    "Long tasks: Chromium's `longtask` entries (tasks over 50 ms), the start loop's own task shown apart.",
    "Memory per job: after `gc()` (`--js-flags=--expose-gc`, `--enable-precise-memory-info`), the growth of",
    "`performance.memory.usedJSHeapSize` plus the growth of the wasm memory, from before the start to the",
    "end of the window with every job still running, divided by the jobs. The page's own callbacks object",
    "is one shared object for all jobs. Requests held in the network stack are not in either number.",
    "`measureUserAgentSpecificMemory` needs a cross-origin-isolated page and is not used.",
    "By default a smart-polling job also holds a Web Lock, to share its polling with other tabs (issue 11; its",
    "last record is kept once another tab has been heard from): in the JS heap. The `shareAcrossTabs: false`",
    "row is the same job without it. At most 6 requests are out per origin (`maxConcurrentRequests`), so",
    "requests waiting in the browser's queue hold no memory here; the baselines send every due request.",
    "",
    "| Policy | Start task | Longest task after the start | Long tasks after the start | JS heap per job | wasm per job | Total per job |",
    "|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const s of r.running) {
    p(
      `| ${s.label} | ${s.startTask ? fmtMs(s.startTask) : "< 50 ms"} | ${s.steadyCount ? fmtMs(s.longestSteady) : "none over 50 ms"} | ${s.steadyCount} | ${fmtBytes(s.heapDelta / s.n)} | ${fmtBytes(s.wasmDelta / s.n)} | ${fmtBytes(s.bytesPerJob)} |`,
    );
  }
  if (!rn?.longTaskSupport) p("", "(This Chromium reported no `longtask` support: the long-task columns are empty.)");
  const h = c.herd;
  p(
    "",
    "### Herd: one origin answers 429 for 3 s",
    "",
    `${h.n.toLocaleString("en")} video jobs that do not finish, one policy at a time on a fresh server. ${h.warmMs / 1000} s after the start (the jobs`,
    `past their first requests), \`POST /api/storm\` makes the server answer every record and stream request`,
    `429 with \`Retry-After: ${h.retryAfter}\` for ${h.stormMs / 1000} s. Requests are counted per 100 ms at the server; peak/mean is over`,
    `the ${h.observeMs / 1000} s from the storm's start. 429s per job: what the server answered each job (all of them, storm`,
    "or not). \"Start peak/mean\" is the same ratio over the time before the storm, for reference: every job's",
    "first request falls in the first 100 ms. Over HTTP/1.1 Chromium sends at most 6 requests at a time to",
    "one origin, and queues the rest: that caps what the server can see per 100 ms (about 100 here) and",
    "smooths every burst; behind an HTTP/2 proxy the same page would hit the server in sharper bursts.",
    "smart-polling holds at most 6 out itself (`maxConcurrentRequests`), so when the storm begins only",
    "those meet it, and the jobs waiting for room hold for the cooldown instead.",
    "",
    "| Policy | Requests in the window | Peak / 100 ms | Mean / 100 ms | Peak/mean | 429s per job (mean) | 429s per job (max) | Jobs with more than one 429 | Start peak/mean |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const s of r.herd) {
    p(`| ${s.label} | ${s.requestsInWindow} | ${s.peak} | ${n1(s.mean)} | ${n1(s.peakOverMean)} | ${s.r429PerJob.toFixed(2)} | ${s.r429Max} | ${s.jobsOver1} | ${n1(s.startPeakOverMean)} |`);
  }
  p(
    "",
    "The window's mean counts the 100 ms slots in which a policy sends nothing: a policy that holds off",
    "through the cooldown lowers its own mean, and so raises its peak/mean, without any burst. The same",
    "buckets, seen two more ways (`herdViews` in `bench/report.mjs`): the window's peak over the mean of",
    "the 2 s before the storm (the steady rate), and peak/mean over the recovery alone (from the storm's",
    "end, or from the first request after it, to the window's end).",
    "",
    "| Policy | Silent slots in the window | Peak / steady mean before the storm | Recovery: peak / mean |",
    "|---|---:|---:|---:|",
  );
  for (const s of r.herd) {
    const v = herdViews(s, h);
    p(`| ${s.label} | ${v.silent} of ${v.slots} | ${n2(v.peakOverSteady)} | ${n2(v.recoveryPeakOverMean)} |`);
  }
  p(
    "",
    "![herd](docs/bench/herd.svg)",
    "",
    "### The policies",
    "",
    "- smart-polling: the package in `pkg/`, loaded from one import (`PKG_ENTRY` in `bench/run.mjs`). In the",
    "  workloads with `preset` set to the job's kind, with the stream (default urls) or polling only",
    "  (`eventsUrl: null`); in the stress tests its defaults, polling only (as the baselines).",
    "- fixed 2 s loop (`bench/baselines/fixed-loop.js`): the product's hooks before smart-polling, from the seed:",
    "  poll, then again 2 s after every answer or error; no status check, no backoff, no stream.",
    "- seed manager (`bench/baselines/seed-manager.ts`, stripped by typescript's `transpileModule`): the seed's",
    "  description in plain TypeScript: 1 s x5, 2 s x5, 5 s x10, then 10 s; 20 attempts, 5 minutes; errors back",
    "  off 1 s doubling to 30 s, 429 waits `Retry-After` (60 s without), 403 stops; no stream.",
    "- TanStack Query (`bench/baselines/tanstack.js`, `@tanstack/query-core`): a `QueryObserver` per job with",
    "  `refetchInterval` 2 s until done; its default retry (3, exponential) on a non-2xx; no stream.",
    "- plain JS minimal (`bench/baselines/plain-minimal.js`): start/stop and memory reference only.",
  );
  if (r.pageErrors.length) p("", `Page errors during the run: ${r.pageErrors.length} (first: \`${esc(r.pageErrors[0]).slice(0, 200)}\`).`);
  return L.join("\n");
}

/** The section "Time to the first poll (issue 20)" of BENCHMARKS.md, from a run with the firstPoll phase. */
export function renderFirstPoll(r, { fmtMs }) {
  const f = r.firstPoll;
  const pr = f.profile;
  const kb = (v) => (v == null ? "?" : `${(v / 1024).toFixed(1)} KiB`);
  const L = [];
  const p = (...lines) => L.push(...lines);
  const ms = (v) => (v == null ? "-" : `${Math.round(v)} ms`);
  const signed = (v) => (v == null ? "" : `${v >= 0 ? "+" : "−"}${Math.round(Math.abs(v))} ms`);
  const la = (v) => v.map((x) => x.toFixed(1)).join(" / ");
  const load = r.meta.load?.start ? `, load average (1 / 5 / 15 min) ${la(r.meta.load.start)} at the start and ${la(r.meta.load.end)} at the end` : "";
  p(
    "## Time to the first poll (issue 20)",
    "",
    `Generated by \`node bench/run.mjs --only firstPoll\` (the phase \`firstPoll\` of \`npm run bench\`; \`--smoke\` runs it once per page) on ${r.meta.date}: headless Chromium ${r.meta.chromium} through playwright-core, ${r.meta.cpus} CPUs shared with other work${load}, Node ${r.meta.node}. The package as built in \`pkg/\` (tree at ${r.meta.pkg?.head ?? "?"}): \`smart_polling_bg.wasm\` ${kb(f.bytes.wasm)}, ${kb(f.bytes.wasmGzip)} gzipped; \`smart_polling.js\` ${kb(f.bytes.glueGzip)} and \`index.js\` ${kb(f.bytes.entryGzip)} gzipped. Raw numbers: [docs/bench/first-poll.json](docs/bench/first-poll.json).`,
    "",
    `Profile, a throttled mid-range phone, set through the DevTools protocol on each page's session before it loads: CPU ${pr.cpuSlowdown}x slower (\`Emulation.setCPUThrottlingRate\`), ${pr.downKbps / 1000} Mbit/s down, ${pr.upKbps} kbit/s up, ${pr.latencyMs} ms round trip (\`Network.emulateNetworkConditions\`). Every file is served gzipped (level 9) by a small static server in \`bench/run.mjs\` (127.0.0.1), which forwards \`/api/\` to the demo server, so pages and API share one origin. Each load is a fresh browser context (cold HTTP and compiled-code caches).`,
    "",
    `Measured: the time from the document's request to the first request for \`/api/file/{id}\` (both \`Network.requestWillBeSent\`, so the request as it leaves, whoever sends it); ${f.pages[0].runs.length} loads per page, the pages interleaved (each round loads every page once). "Over the reference" is the page's median minus its reference's median.`,
    "",
    "| Page | Median | Over the reference | Spread (min – max) | p25 – p75 | `.wasm` requested → loaded | loaded → first poll |",
    "|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const x of f.pages) {
    const wasm = x.wasmSent == null ? "-" : `${ms(x.wasmSent)} → ${ms(x.wasmDone)}`;
    p(`| ${x.label} | ${ms(x.median)} | ${x.ref ? `${signed(x.delta)} (${x.ref})` : "reference"} | ${ms(x.min)} – ${ms(x.max)} | ${ms(x.p25)} – ${ms(x.p75)} | ${wasm} | ${ms(x.afterWasm)} |`);
  }
  p("", "A load that stalls (no request for the job within 30 s; seen once, in a smoke run on a busy CI machine, with every file of the page still loading) is logged and loaded once more, at most twice per phase. The last two columns are medians too: when the `.wasm` was requested and its last byte came (from the document's request), and the time from that last byte to the first poll (compile, instantiate, the job's start).");
  const rows = f.pages.filter((x) => x.ref);
  p(
    "",
    "Target (item 3): at most +900 ms over a plain `fetch` at the same point, goal +600 ms:",
    "",
    ...rows.map((x) => `- ${x.label}: ${signed(x.delta)}: ${x.delta <= 600 ? "goal met" : x.delta <= 900 ? "within the limit, goal missed" : "**over the limit**"}`),
    "",
    "The pages (`FIRST_POLL_PAGES` in `bench/run.mjs`): each starts where a module script starts (the React app: in an",
    "effect after its first render, as the product's hooks do); \"unbundled\" loads the package's own files through",
    "an import map; the Vite builds are `vite build` with defaults, the package installed in `node_modules`;",
    "\"preload\" adds `<link rel=\"preload\" href=\"…/smart_polling_bg.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin>`",
    "to the HTML (in the Vite app's `index.html` it names `./node_modules/smart-polling/smart_polling_bg.wasm`,",
    "which Vite emits and rewrites), \"modulepreload\" also `<link rel=\"modulepreload\">` of the entry and the glue.",
  );
  const pe = r.pageErrors.filter((e) => e.startsWith("first poll"));
  if (pe.length) p("", `Page errors during the run: ${pe.length} (first: \`${pe[0].slice(0, 200)}\`).`);
  return L.join("\n");
}
