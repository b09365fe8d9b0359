// Prints the download size of the built package: the .wasm plus the JS glue,
// raw and gzipped (level 9), against the 20 KB budget.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const files = ["pkg/smart_polling_bg.wasm", "pkg/smart_polling.js"];
let total = 0;
for (const f of files) {
  const raw = readFileSync(f);
  const gz = gzipSync(raw, { level: 9 }).length;
  total += gz;
  console.log(`${f}: ${raw.length} B raw, ${gz} B gzipped`);
}
const budget = 20 * 1024;
console.log(`total gzipped: ${total} B (${(total / 1024).toFixed(1)} KB); budget ${budget} B: ${total <= budget ? "within" : "OVER"}`);
