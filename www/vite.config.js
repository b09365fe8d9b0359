// Vite config of the demo page. Run from the repo root:
//   npx vite --config www/vite.config.js          (dev server, proxies /api and /media)
//   npx vite build --config www/vite.config.js    (static build into www/dist)
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = fileURLToPath(new URL("..", import.meta.url));
const api = process.env.API_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: here,
  base: "./",
  plugins: [react()],
  resolve: {
    alias: {
      // the package entry (pkg/index.js over the wasm-pack output); init() loads ./smart_polling_bg.wasm via
      // new URL(..., import.meta.url), which Vite emits as an asset
      "smart-polling": fileURLToPath(new URL("../pkg/index.js", import.meta.url)),
      "@react": fileURLToPath(new URL("../react", import.meta.url)),
    },
    dedupe: ["react", "react-dom"],
  },
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0, // keep the .wasm a separate file (streaming compile)
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    fs: { allow: [repo] },
    proxy: {
      "/api": { target: api, changeOrigin: true },
      "/media": { target: api, changeOrigin: true },
    },
  },
  preview: {
    proxy: {
      "/api": { target: api, changeOrigin: true },
      "/media": { target: api, changeOrigin: true },
    },
  },
});
