/**
 * onnxruntime-web inside a worker: one-time environment set-up, which backends can run here and in what order,
 * and session creation with fallback.
 *
 * The "all" build carries WebGPU, WebGL and WASM; its WebAssembly runtime is loaded from the files Vite copied
 * into the build (see vite.config.ts), so nothing is fetched from a CDN.
 */

import * as ort from "onnxruntime-web/all";

import { BACKENDS } from "./options";
import type { Backend, BackendChoice } from "./options";

export { ort };

/** Where onnxruntime-web finds its WebAssembly runtime (files shipped in the build, never a CDN). */
export interface OrtFiles {
  wasm: string;
  mjs: string;
}

export interface RuntimeRequest {
  backend: BackendChoice;
  threads: number;
  ort: OrtFiles;
}

/** Renderer, adapter or driver names of CPU implementations of WebGPU and WebGL. */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|warp/i;

let configured = false;

/** Must run before the first session: onnxruntime reads the thread count when it starts its WASM module. */
export function configureOrt(request: RuntimeRequest): number {
  const threads = crossOriginIsolated ? Math.max(1, request.threads) : 1;
  if (!configured) {
    ort.env.wasm.wasmPaths = { wasm: request.ort.wasm, mjs: request.ort.mjs };
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false; // this already is a worker
    // WebGL's default unpacked Conv caches its shader without the fused activation (1.30: ConvDotProduct sets
    // `cacheKey`, not `cacheHint`), so same-shaped Convs with and without a fused Relu all run whichever compiled
    // first. The packed Conv kernels key their shaders by the activation.
    ort.env.webgl.pack = true;
    ort.env.logLevel = "error";
    configured = true;
  }
  return ort.env.wasm.numThreads ?? threads;
}

/** What a backend would run on here: `reason` when it cannot, `software` when it emulates a GPU on the CPU. */
interface Probe {
  reason: string | null;
  software: string | null;
}

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
}

async function probeWebgpu(): Promise<Probe> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(o?: object): Promise<AdapterLike | null> } }).gpu;
  if (!gpu) return { reason: "WebGPU is not available in this browser", software: null };
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (error) {
    return { reason: `WebGPU adapter request failed (${message(error)})`, software: null };
  }
  if (!adapter) return { reason: "WebGPU has no adapter (no usable GPU)", software: null };
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(" ");
  const fallback = info.isFallbackAdapter || adapter.isFallbackAdapter;
  const software = fallback || SOFTWARE.test(name) ? name || "fallback adapter" : null;
  return { reason: null, software };
}

function probeWebgl(): Probe {
  const canvas = new OffscreenCanvas(1, 1);
  const gl = canvas.getContext("webgl2") ?? canvas.getContext("webgl");
  if (!gl) return { reason: "WebGL is not available", software: null };
  const debug = gl.getExtension("WEBGL_debug_renderer_info");
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension("WEBGL_lose_context")?.loseContext();
  return { reason: null, software: SOFTWARE.test(renderer) ? renderer : null };
}

function probe(backend: Backend): Promise<Probe> | Probe {
  if (backend === "webgpu") return probeWebgpu();
  if (backend === "webgl") return probeWebgl();
  return { reason: null, software: null };
}

export interface Plan {
  order: Backend[];
  /** "backend: why" for each backend left out or ranked below WASM. */
  notes: string[];
}

/**
 * The backends to try for `choice`. `auto` tries GPU backends first and WASM next; a GPU backend that runs on a
 * CPU implementation (SwiftShader, llvmpipe, a fallback adapter) is slower than WASM, so it comes after it. A
 * backend asked for by name is tried whatever it runs on.
 */
export async function plan(choice: BackendChoice): Promise<Plan> {
  if (choice !== "auto") {
    const { reason } = await probe(choice);
    return { order: reason ? [] : [choice], notes: reason ? [`${choice}: ${reason}`] : [] };
  }
  const fast: Backend[] = [];
  const slow: Backend[] = [];
  const notes: string[] = [];
  for (const backend of BACKENDS) {
    const { reason, software } = await probe(backend);
    if (reason) notes.push(`${backend}: ${reason}`);
    else if (software) {
      slow.push(backend);
      notes.push(`${backend}: runs on the CPU here (${software}), slower than WASM; choose it by name to use it`);
    } else fast.push(backend);
  }
  return { order: [...fast, ...slow], notes };
}

export interface Created<T> {
  session: ort.InferenceSession;
  backend: Backend;
  fallbacks: string[];
  /** What `prepare` returned for the backend that won. */
  prepared: T;
}

export interface Prepared {
  model: Uint8Array;
  /** Session options on top of the defaults (e.g. free dimension overrides). */
  options?: ort.InferenceSession.SessionOptions;
  /** A warm-up run: some backends accept a graph and only fail when it runs (data types, operators). */
  probe(session: ort.InferenceSession): Promise<void>;
}

/**
 * A session on the first backend of `choice`'s plan that both creates the session and survives its probe.
 * `prepare(backend)` returns the model for that backend (WebGL runs another graph than the rest).
 */
export async function createSession<T extends Prepared>(
  choice: BackendChoice,
  prepare: (backend: Backend) => Promise<T>,
): Promise<Created<T>> {
  const { order, notes } = await plan(choice);
  const fallbacks = [...notes];
  for (const backend of order) {
    let session: ort.InferenceSession | null = null;
    try {
      const prepared = await prepare(backend);
      session = await ort.InferenceSession.create(prepared.model, {
        executionProviders: [backend],
        graphOptimizationLevel: "all",
        // The native runtime's warnings (e.g. shape ops placed on the CPU by design) are not the page's errors.
        logSeverityLevel: 3,
        ...prepared.options,
      });
      await prepared.probe(session);
      return { session, backend, fallbacks: fallbacks.filter((f) => !f.startsWith(`${backend}:`)), prepared };
    } catch (error) {
      fallbacks.push(`${backend}: ${message(error)}`);
      await session?.release().catch(() => undefined);
    }
  }
  throw new Error(`No inference backend could run the model (${fallbacks.join("; ")}).`);
}

/** The first line of an error, without the C++ source location and signature onnxruntime puts in front. */
export function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .split("\n")[0]
    .replace(/\S+\.(?:cc|cpp|h):\d+ [\w:~<>]+\([^)]*\)(?: const)? /g, "")
    .slice(0, 400);
}
