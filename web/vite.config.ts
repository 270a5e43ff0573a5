/**
 * Builds the web app into the Python package (src/liveseg/serve/static/), where `liveseg serve` serves it.
 *
 * Every `bench/*.html` page (the browser benchmarks) is built as an extra entry. onnxruntime-web's WebAssembly
 * runtime (.wasm and its .mjs loader) is imported with `?url`, so it is copied into assets/ with a content hash
 * and loaded from this server, never from a CDN.
 */

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

import { defaultClientConditions, defineConfig } from "vite";
import type { Plugin } from "vite";

const root = import.meta.dirname;
const liveseg = process.env.LIVESEG_URL ?? "http://127.0.0.1:8000";
// The one version: liveseg.__version__ (the Python package's metadata reads it from there too).
const init = readFileSync(resolve(root, "../src/liveseg/__init__.py"), "utf8");
const version = /^__version__ = "([^"]+)"$/m.exec(init)?.[1];
if (!version) throw new Error("src/liveseg/__init__.py has no __version__ line.");
const benchDir = resolve(root, "bench");
const benchPages = existsSync(benchDir)
  ? Object.fromEntries(
      readdirSync(benchDir)
        .filter((f) => f.endsWith(".html"))
        .map((f) => [`bench/${f.replace(/\.html$/, "")}`, resolve(benchDir, f)]),
    )
  : {};

/**
 * Writes `NAME.br` and `NAME.gz` beside each compressible build output once, at build time, for `liveseg serve`
 * to send by Accept-Encoding (src/liveseg/serve/files.py): onnxruntime's 28 MB .wasm is 6.7 MB gzipped and
 * 4.6 MB in brotli. Node's own zlib, so no dependency; brotli quality 11 only below 4 MB (it takes minutes on the
 * .wasm for 15% less). A file that compresses by less than a tenth is left as it is.
 */
function precompress(outDir: string): Plugin {
  const compressible = /\.(wasm|m?js|css|html|json|svg)$/;
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(resolve(dir, e.name)) : [resolve(dir, e.name)],
    );
  return {
    name: "liveseg-precompress",
    apply: "build",
    closeBundle() {
      for (const file of walk(outDir).filter((f) => compressible.test(f))) {
        const data = readFileSync(file);
        if (data.length < 1024) continue;
        const quality = data.length < 4e6 ? 11 : 9;
        const br = brotliCompressSync(data, {
          params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
        });
        const gz = gzipSync(data, { level: 9 });
        if (br.length < 0.9 * data.length) writeFileSync(`${file}.br`, br);
        if (gz.length < 0.9 * data.length) writeFileSync(`${file}.gz`, gz);
      }
    },
  };
}

const outDir = resolve(root, "../src/liveseg/serve/static");

export default defineConfig({
  base: "./",
  define: { __LIVESEG_VERSION__: JSON.stringify(version) },
  resolve: {
    // The unbundled onnxruntime-web build loads its .mjs runtime from `ort.env.wasm.wasmPaths`; the default
    // "bundle" build inlines it, which breaks the pthread workers it spawns from inside a Vite chunk.
    conditions: ["onnxruntime-web-use-extern-wasm", ...defaultClientConditions],
  },
  optimizeDeps: { exclude: ["onnxruntime-web"] },
  worker: { format: "es" },
  plugins: [precompress(outDir)],
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 2048,
    assetsInlineLimit: (file) => (/\.(wasm|mjs)$/.test(file) ? false : undefined),
    rollupOptions: {
      input: { main: resolve(root, "index.html"), ...benchPages },
    },
  },
  server: {
    headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" },
    // `npm run dev` talks to a running `liveseg serve` for the models (LIVESEG_URL, default port 8000).
    proxy: { "/api": liveseg, "/models": liveseg },
  },
});
