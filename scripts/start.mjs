// `npm start`: after the package and the page are built, say what was built
// and serve the demo (the simulated generation API plus the page) on PORT.
import { readFileSync } from "node:fs";
import { createApiServer, optionsFromEnv } from "../server/index.mjs";

const pkg = JSON.parse(readFileSync("pkg/package.json", "utf8"));
console.log(`Built ${pkg.name}@${pkg.version} into pkg/ (wasm-pack --target web).`);
await import("./size.mjs");

const api = await createApiServer(optionsFromEnv());
console.log(`\nDemo: open ${api.url}/ in a browser (Ctrl-C to stop).`);
const stop = () => api.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
