// `npm start` until the demo lands: say what was built and where.
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync("pkg/package.json", "utf8"));
console.log(`Built ${pkg.name}@${pkg.version} into pkg/ (wasm-pack --target web):`);
console.log(`  ${pkg.files.join(", ")}`);
await import("./size.mjs");
