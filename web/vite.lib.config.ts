/**
 * Builds the module API (src/lib) as the npm package in package/: an ES module that loads its workers and
 * onnxruntime-web's WebAssembly runtime from files next to it, so the package works served as it is (no CDN,
 * no bundler) and through bundlers that follow `new URL(..., import.meta.url)` (Vite, webpack 5, Rollup).
 *
 * Vite's library mode inlines every asset as a data URL, which would put the 28 MB .wasm inside the JavaScript
 * and break onnxruntime-web's pthread workers, so this is an ordinary build of one JavaScript entry with its
 * exports kept. The resolve conditions, worker format and asset rules are the web app's (vite.config.ts).
 */

import { resolve } from "node:path";

import { defineConfig } from "vite";

import app from "./vite.config";

const root = import.meta.dirname;
// Stable names: a published version never changes, and README.md can name the files a server must serve.
const names = { entryFileNames: "[name].js", chunkFileNames: "[name].js", assetFileNames: "[name][extname]" };

export default defineConfig({
  resolve: app.resolve,
  optimizeDeps: app.optimizeDeps,
  base: "./",
  publicDir: false,
  worker: { format: "es", rollupOptions: { output: { ...names, sourcemap: true } } },
  build: {
    outDir: resolve(root, "package/dist"),
    emptyOutDir: true,
    sourcemap: true, // the package's own code, for users' debuggers
    target: app.build?.target,
    assetsInlineLimit: app.build?.assetsInlineLimit,
    chunkSizeWarningLimit: app.build?.chunkSizeWarningLimit,
    modulePreload: false,
    copyPublicDir: false,
    rollupOptions: {
      input: { liveseg: resolve(root, "src/lib/index.ts") },
      preserveEntrySignatures: "strict",
      output: names,
    },
  },
});
