// A tiny PNG encoder in pure Node (zlib deflate + CRC32) and the prompt
// artwork the simulated generator "renders": a four-corner gradient with a
// soft disc, every colour derived from a SHA-256 of the prompt.

import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309 / PNG) of a buffer. */
export function crc32(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes 8-bit RGB pixels (`width * height * 3` bytes, row-major) as a PNG. */
export function encodePng(width, height, rgb) {
  if (rgb.length !== width * height * 3) throw new RangeError("pixel buffer size mismatch");
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    rgb.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter method
  ihdr[12] = 0; // no interlace
  return Buffer.concat([
    SIGNATURE,
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The picture for a prompt: deterministic, `width` x `height`. */
export function promptPng(prompt, width = 256, height = 256) {
  const h = createHash("sha256").update(String(prompt)).digest();
  const corner = (i) => [h[i], h[i + 1], h[i + 2]];
  const [tl, tr, bl, br] = [corner(0), corner(3), corner(6), corner(9)];
  const cx = (0.25 + (h[12] / 255) * 0.5) * width;
  const cy = (0.25 + (h[13] / 255) * 0.5) * height;
  const radius = (0.15 + (h[14] / 255) * 0.2) * Math.min(width, height);
  const disc = [h[15], h[16], h[17]];
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const v = height > 1 ? y / (height - 1) : 0;
    for (let x = 0; x < width; x++) {
      const u = width > 1 ? x / (width - 1) : 0;
      const d = Math.hypot(x - cx, y - cy);
      const a = Math.max(0, Math.min(1, (radius - d) / 6)) * 0.85; // soft edge
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = tl[c] + (tr[c] - tl[c]) * u;
        const bottom = bl[c] + (br[c] - bl[c]) * u;
        const g = top + (bottom - top) * v;
        rgb[o + c] = Math.round(g + (disc[c] - g) * a);
      }
    }
  }
  return encodePng(width, height, rgb);
}
