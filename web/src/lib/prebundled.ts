/**
 * Vite's dev server pre-bundles dependencies into node_modules/.vite/deps/, away from the files this module loads
 * by URL next to itself (its workers, onnxruntime-web's runtime): the worker then fails to load and crashes with no
 * message. Saying so, with the line to add, is the only useful answer.
 */

const PREBUNDLED = /\/node_modules\/\.vite\/deps(?:_temp_[^/]*)?\//;

/** Throw one sentence naming the fix when `moduleUrl` (this module's `import.meta.url`) is a pre-bundled copy. */
export function refusePrebundled(moduleUrl: string): void {
  if (PREBUNDLED.test(new URL(moduleUrl).pathname)) {
    throw new Error(
      'Vite\'s dev server pre-bundled liveseg, which moves it away from its worker and WebAssembly files: add optimizeDeps: { exclude: ["liveseg"] } to your vite.config and restart the dev server.',
    );
  }
}
