// Generate -> pending -> completed, media, project records, durations, errors, static files.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer, getJson, sendJson, generate, waitDone, parsePng, ID_RE } from "../test-support.mjs";

let api;
before(async () => {
  api = await startServer({ speed: 50 });
});
after(() => api.close());

test("image job: pending record, then completed with a real PNG", async () => {
  const { fileId, projectId } = await generate(api, "image", { prompt: "a red fox", duration: 150 }); // 3 s: pending when first read, however slow the machine
  assert.match(fileId, ID_RE);
  assert.match(projectId, ID_RE);
  assert.match(fileId, /^img_/);

  const pending = await getJson(`${api.url}/api/file/${fileId}`);
  assert.equal(pending.status, 200);
  assert.match(pending.headers.get("content-type"), /^application\/json/);
  const rec = pending.body;
  assert.equal(rec.id, fileId);
  assert.equal(rec.url, null);
  assert.equal(rec.thumbnail_url, null);
  assert.equal(rec.type, "image");
  assert.equal(rec.contentType, "image/png");
  assert.equal(typeof rec.image_generation_id, "string");
  assert.equal(rec.video_generation_id, null);
  assert.ok("duration" in rec && "created_at" in rec && typeof rec.meta === "object");
  assert.equal(rec.tasks.length, 1);
  assert.equal(rec.tasks[0].status, "in_progress");
  assert.equal(rec.tasks[0].project_id, projectId);

  const done = await waitDone(api, fileId);
  assert.equal(done.tasks[0].status, "completed");
  assert.equal(done.url, `/media/${fileId}.png`);

  const img = await fetch(api.url + done.url);
  assert.equal(img.status, 200);
  assert.equal(img.headers.get("content-type"), "image/png");
  const png = parsePng(Buffer.from(await img.arrayBuffer()));
  assert.equal(png.width, 256);
  assert.equal(png.height, 256);
  assert.equal(png.colorType, 2);
  assert.equal(png.rawLength, (256 * 3 + 1) * 256);

  const thumb = await fetch(api.url + done.thumbnail_url);
  assert.equal(thumb.headers.get("content-type"), "image/png");
  parsePng(Buffer.from(await thumb.arrayBuffer()));
});

test("the picture derives from the prompt and is cached per job", async () => {
  const a = await generate(api, "image", { prompt: "same prompt", duration: 1 });
  const b = await generate(api, "image", { prompt: "same prompt", duration: 1 });
  const c = await generate(api, "image", { prompt: "another prompt", duration: 1 });
  const bytes = async (id) => {
    await waitDone(api, id);
    return Buffer.from(await (await fetch(`${api.url}/media/${id}.png`)).arrayBuffer());
  };
  const [pa, pb, pc] = [await bytes(a.fileId), await bytes(b.fileId), await bytes(c.fileId)];
  assert.ok(pa.equals(pb));
  assert.ok(!pa.equals(pc));
  assert.ok(pa.equals(await bytes(a.fileId)));
});

test("video job: upper-case statuses, completed with a real WebM", async () => {
  const { fileId } = await generate(api, "video", { duration: 150 }); // 3 s: pending when first read
  assert.match(fileId, /^vid_/);
  const pending = (await getJson(`${api.url}/api/file/${fileId}`)).body;
  assert.equal(pending.url, null);
  assert.equal(pending.type, "video");
  assert.equal(pending.contentType, "video/webm");
  assert.equal(pending.image_generation_id, null);
  assert.equal(typeof pending.video_generation_id, "string");
  assert.equal(pending.tasks[0].status, "IN_PROGRESS");

  const done = await waitDone(api, fileId);
  assert.equal(done.tasks[0].status, "COMPLETED");
  assert.equal(done.url, `/media/${fileId}.webm`);
  assert.equal(typeof done.duration, "number");

  const res = await fetch(api.url + done.url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "video/webm");
  assert.equal(res.headers.get("accept-ranges"), "bytes");
  const buf = Buffer.from(await res.arrayBuffer());
  assert.equal(buf.readUInt32BE(0), 0x1a45dfa3); // EBML magic
  assert.ok(buf.includes(Buffer.from("webm")));
  assert.ok(buf.length < 150 * 1024);

  const part = await fetch(api.url + done.url, { headers: { range: "bytes=0-3" } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), `bytes 0-3/${buf.length}`);
  assert.deepEqual([...new Uint8Array(await part.arrayBuffer())], [0x1a, 0x45, 0xdf, 0xa3]);

  const thumb = await fetch(api.url + done.thumbnail_url);
  const t = parsePng(Buffer.from(await thumb.arrayBuffer()));
  assert.deepEqual([t.width, t.height], [160, 90]);
});

test("media is 404 until the job is done, and for the wrong kind", async () => {
  const { fileId } = await generate(api, "image", { duration: 150 }); // 3 s: not done when first asked
  assert.equal((await fetch(`${api.url}/media/${fileId}.png`)).status, 404);
  assert.equal((await fetch(`${api.url}/media/nope.png`)).status, 404);
  const v = await generate(api, "video", { duration: 1 });
  await waitDone(api, v.fileId);
  assert.equal((await fetch(`${api.url}/media/${v.fileId}.png`)).status, 404);
});

test("project record: empty data until done, then the result", async () => {
  const { fileId, projectId } = await generate(api, "image", { duration: 150 }); // 3 s: pending when first read
  const pending = await getJson(`${api.url}/api/project/${projectId}`);
  assert.equal(pending.status, 200);
  assert.equal(pending.body.id, projectId);
  assert.deepEqual(pending.body.data, []);
  assert.equal(pending.body.tasks[0].status, "in_progress");

  await waitDone(api, fileId);
  const done = (await getJson(`${api.url}/api/project/${projectId}`)).body;
  assert.equal(done.data.length, 1);
  assert.equal(done.data[0].type, "image");
  assert.deepEqual(
    { url: done.data[0].value.url, contentType: done.data[0].value.contentType, file_id: done.data[0].value.file_id },
    { url: `/media/${fileId}.png`, contentType: "image/png", file_id: fileId },
  );
  assert.equal(done.tasks[0].status, "completed");

  const v = await generate(api, "video", { duration: 1 });
  await waitDone(api, v.fileId);
  const vp = (await getJson(`${api.url}/api/project/${v.projectId}`)).body;
  assert.equal(vp.data[0].type, "video");
  assert.equal(vp.data[0].value.contentType, "video/webm");
  assert.equal(vp.tasks[0].status, "COMPLETED");
});

test("durations are log-normal around the medians, clamped, scaled by speed, seeded", async () => {
  const durations = async (seed) => {
    const s = await startServer({ speed: 1, seed });
    try {
      const ids = [];
      for (let i = 0; i < 41; i++) ids.push((await generate(s, "image")).fileId);
      for (let i = 0; i < 41; i++) ids.push((await generate(s, "video")).fileId);
      const jobs = (await getJson(`${s.url}/api/jobs`)).body;
      assert.equal(jobs.length, 82);
      return { ids, jobs };
    } finally {
      await s.close();
    }
  };
  const { ids, jobs } = await durations(7);
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const img = jobs.filter((j) => j.kind === "image").map((j) => j.duration);
  const vid = jobs.filter((j) => j.kind === "video").map((j) => j.duration);
  assert.ok(img.every((d) => d >= 2000 && d <= 30000), "image clamp");
  assert.ok(vid.every((d) => d >= 8000 && d <= 90000), "video clamp");
  const mi = median(img);
  const mv = median(vid);
  assert.ok(mi > 4000 && mi < 9000, `image median ${mi}`);
  assert.ok(mv > 17000 && mv < 37000, `video median ${mv}`);
  const j = jobs[0];
  for (const k of ["fileId", "projectId", "kind", "prompt", "status", "createdAt", "duration"]) assert.ok(k in j, k);
  assert.equal(j.status, "in_progress");

  const again = await durations(7);
  assert.deepEqual(again.ids, ids, "same seed, same ids");
  assert.deepEqual(again.jobs.map((x) => x.duration), jobs.map((x) => x.duration));

  // speed divides the durations
  const fast = await startServer({ speed: 20, seed: 7 });
  try {
    await generate(fast, "image");
    const [first] = (await getJson(`${fast.url}/api/jobs`)).body;
    assert.equal(first.duration, Math.round(jobs[0].duration / 20));
  } finally {
    await fast.close();
  }
});

test("errors: unknown ids, bad bodies, unknown routes, wrong methods", async () => {
  for (const p of ["/api/file/nope", "/api/project/nope", "/api/events/file.nope"]) {
    const r = await getJson(api.url + p);
    assert.equal(r.status, 404, p);
    assert.deepEqual(r.body, { error: "not found" });
  }
  const bad = await sendJson(`${api.url}/api/generate/image`, "POST", "{not json");
  assert.equal(bad.status, 400);
  assert.equal(typeof bad.body.error, "string");
  assert.equal((await sendJson(`${api.url}/api/generate/image`, "POST", "[1,2]")).status, 400);
  assert.equal((await sendJson(`${api.url}/api/generate/image`, "POST", {})).status, 400); // no prompt
  assert.equal((await sendJson(`${api.url}/api/generate/video`, "POST", { prompt: 3 })).status, 400);
  assert.equal((await sendJson(`${api.url}/api/generate/image`, "POST", { prompt: "x", faults: { nope: 1 } })).status, 400);
  assert.equal((await sendJson(`${api.url}/api/generate/image`, "POST", { prompt: "x", faults: { hang: 2 } })).status, 400);
  assert.equal((await sendJson(`${api.url}/api/generate/audio`, "POST", { prompt: "x" })).status, 404);

  const unknown = await getJson(`${api.url}/api/whatever/else`);
  assert.equal(unknown.status, 404);
  assert.match(unknown.headers.get("content-type"), /json/);
  assert.deepEqual(unknown.body, { error: "not found" });
  assert.equal((await getJson(`${api.url}/api/generate/image`)).status, 405);
  assert.equal((await getJson(`${api.url}/api/file/bad%20id`)).status, 400);

  assert.deepEqual((await getJson(`${api.url}/api/health`)).body, { ok: true });
});

test("a client that disconnects mid-request does not crash the server", async () => {
  await new Promise((resolve) => {
    const req = http.request(`${api.url}/api/generate/image`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "100" },
    });
    req.on("error", () => {});
    req.write('{"prompt":');
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 50);
  });
  assert.deepEqual((await getJson(`${api.url}/api/health`)).body, { ok: true });
});

test("static files: content types, SPA fallback, no escape from the folder", async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), "sp-static-"));
  const dist = path.join(root, "dist");
  mkdirSync(path.join(dist, "assets"), { recursive: true });
  writeFileSync(path.join(root, "secret.txt"), "top secret");
  writeFileSync(path.join(dist, "index.html"), "<!doctype html><title>demo</title>");
  writeFileSync(path.join(dist, "assets", "app.js"), "console.log(1)");
  writeFileSync(path.join(dist, "assets", "app.css"), "body{}");
  writeFileSync(path.join(dist, "assets", "m.wasm"), Buffer.from([0, 0x61, 0x73, 0x6d]));
  const s = await startServer({ staticDir: dist });
  t.after(async () => {
    await s.close();
    rmSync(root, { recursive: true, force: true });
  });

  const expect = async (p, type, text) => {
    const r = await fetch(s.url + p);
    assert.equal(r.status, 200, p);
    assert.equal(r.headers.get("content-type"), type, p);
    const body = await r.text();
    if (text) assert.equal(body, text, p);
  };
  await expect("/", "text/html; charset=utf-8", "<!doctype html><title>demo</title>");
  await expect("/jobs/123", "text/html; charset=utf-8", "<!doctype html><title>demo</title>");
  await expect("/assets/app.js", "text/javascript; charset=utf-8", "console.log(1)");
  await expect("/assets/app.css", "text/css; charset=utf-8");
  await expect("/assets/m.wasm", "application/wasm");

  for (const p of ["/../secret.txt", "/%2e%2e%2fsecret.txt", "/assets/..%2f..%2fsecret.txt", "/%2e%2e/secret.txt"]) {
    const raw = await new Promise((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port: s.port, path: p }, (res) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve(body));
        })
        .on("error", reject);
    });
    assert.ok(!raw.includes("top secret"), p);
  }

  // API routes never fall back to the page
  assert.equal((await fetch(`${s.url}/api/nothing`)).status, 404);

  // no build yet: a short page saying to run npm start
  const page = await fetch(`${api.url}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /npm start/);
});
