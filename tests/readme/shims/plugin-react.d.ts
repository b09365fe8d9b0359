// Stand-in for @vitejs/plugin-react's types (see vite.d.ts).
import type { Plugin } from "vite";

export default function react(options?: Record<string, unknown>): Plugin[];
