// smart-polling on webpack 5: no setting for it (the glue's
// `new URL("smart_polling_bg.wasm", import.meta.url)` is an asset module).
// TypeScript through ts-loader (tsc checks the types apart), the page from
// html-webpack-plugin; src/main.tsx is the Vite app's.
import path from "node:path";
import { fileURLToPath } from "node:url";
import HtmlWebpackPlugin from "html-webpack-plugin";

const here = path.dirname(fileURLToPath(import.meta.url));

export default {
  mode: "production",
  entry: "./src/main.tsx",
  output: { path: path.join(here, "dist"), clean: true },
  resolve: { extensions: [".tsx", ".ts", ".js"] },
  module: {
    rules: [{ test: /\.tsx?$/, loader: "ts-loader", options: { transpileOnly: true, compilerOptions: { noEmit: false } } }],
  },
  plugins: [new HtmlWebpackPlugin({ template: "index.html" })],
};
