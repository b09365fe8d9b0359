import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The demo API, for the dev server (the built app is served by the demo server itself).
const api = process.env.DEMO_API_URL;

export default defineConfig({
  plugins: [react()],
  // smart-polling on Vite 5, dev server: its pre-bundler would move the module away from its .wasm
  optimizeDeps: { exclude: ["smart-polling"] },
  server: { proxy: api ? { "/api": api, "/media": api } : undefined },
});
