import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The demo API, for the dev server (the built app is served by the demo server itself).
const api = process.env.DEMO_API_URL;

// smart-polling on Vite 8: no setting.
export default defineConfig({
  plugins: [react()],
  server: { proxy: api ? { "/api": api, "/media": api } : undefined },
});
