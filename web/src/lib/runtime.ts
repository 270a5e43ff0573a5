/**
 * onnxruntime-web inside the worker: one-time environment set-up and session creation with backend fallback.
 *
 * The "all" build carries WebGPU, WebGL and WASM; its WebAssembly runtime is loaded from the files Vite copied
 * into the build (see vite.config.ts), so nothing is fetched from a CDN.
 */

import * as ort from "onnxruntime-web/all";

import type { RuntimeRequest } from "./protocol";
import type { Backend } from "./types";

export { ort };

export const AUTO_ORDER: Backend[] = ["webgpu", "webgl", "wasm"];

let configured = false;

/** Must run before the first session: onnxruntime reads the thread count when it starts its WASM module. */
export function configureOrt(request: RuntimeRequest): number {
  const threads = crossOriginIsolated ? Math.max(1, request.threads) : 1;
  if (!configured) {
    ort.env.wasm.wasmPaths = { wasm: request.ort.wasm, mjs: request.ort.mjs };
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false; // this already is a worker
    ort.env.logLevel = "error";
    configured = true;
  }
  return ort.env.wasm.numThreads ?? threads;
}

/** Why `backend` cannot run here, or null when it may. */
async function unavailable(backend: Backend): Promise<string | null> {
  if (backend === "webgpu") {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (!gpu) return "WebGPU is not available in this browser";
    try {
      if (!(await gpu.requestAdapter())) return "WebGPU has no adapter (no usable GPU)";
    } catch (error) {
      return `WebGPU adapter request failed (${message(error)})`;
    }
  }
  if (backend === "webgl") {
    const canvas = new OffscreenCanvas(1, 1);
    if (!canvas.getContext("webgl2") && !canvas.getContext("webgl")) return "WebGL is not available";
  }
  return null;
}

export interface Created {
  session: ort.InferenceSession;
  backend: Backend;
  fallbacks: string[];
}

/**
 * A session on the first backend (in order) that both creates the session and survives `probe`, a warm-up run:
 * some backends accept a graph and only fail when it runs (unsupported data types or operators).
 */
export async function createSession(
  model: Uint8Array,
  order: Backend[],
  probe: (session: ort.InferenceSession) => Promise<void>,
): Promise<Created> {
  const fallbacks: string[] = [];
  for (const backend of order) {
    const reason = await unavailable(backend);
    if (reason) {
      fallbacks.push(`${backend}: ${reason}`);
      continue;
    }
    let session: ort.InferenceSession | null = null;
    try {
      session = await ort.InferenceSession.create(model, {
        executionProviders: [backend],
        graphOptimizationLevel: "all",
      });
      await probe(session);
      return { session, backend, fallbacks };
    } catch (error) {
      fallbacks.push(`${backend}: ${message(error)}`);
      await session?.release().catch(() => undefined);
    }
  }
  const tried = fallbacks.join("; ");
  throw new Error(`No inference backend could run the model (${tried}).`);
}

/** The first line of an error, without the C++ source location and signature onnxruntime puts in front. */
export function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .split("\n")[0]
    .replace(/\S+\.(?:cc|cpp|h):\d+ [\w:~<>]+\([^)]*\)(?: const)? /g, "")
    .slice(0, 400);
}
