/** The page side of a worker: start-up, requests answered in order by id, and buffers handed back for reuse. */

import ortMjs from "onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url";
import ortWasm from "onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url";

import type { WorkerFrame } from "./pixels";
import type { Failure, Progress } from "./protocol";
import type { OrtFiles } from "./runtime";
import type { FrameSource, WasmPaths } from "./types";

/** The file names of onnxruntime-web's WebAssembly runtime in a `wasmPaths` folder. */
const WASM_FILES = { wasm: "ort-wasm-simd-threaded.jsep.wasm", mjs: "ort-wasm-simd-threaded.jsep.mjs" };

/**
 * onnxruntime-web's WebAssembly runtime as absolute URLs (the worker has another base): the files this build ships,
 * or those of `wasmPaths`.
 */
export function ortFiles(wasmPaths?: WasmPaths): OrtFiles {
  const absolute = (url: string) => new URL(url, location.href).href;
  if (wasmPaths === undefined) return { wasm: absolute(ortWasm), mjs: absolute(ortMjs) };
  if (typeof wasmPaths !== "string") return { wasm: absolute(wasmPaths.wasm), mjs: absolute(wasmPaths.mjs) };
  const folder = new URL(wasmPaths.endsWith("/") ? wasmPaths : `${wasmPaths}/`, location.href);
  return { wasm: new URL(WASM_FILES.wasm, folder).href, mjs: new URL(WASM_FILES.mjs, folder).href };
}

/** min(4, cores) threads when SharedArrayBuffer is allowed (cross-origin isolated pages), else 1. */
export function defaultThreads(): number {
  return crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
}

export function threadsOf(requested: number | undefined): number {
  return requested && requested > 0 ? requested : defaultThreads();
}

const SPARE_LIMIT = 6;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

export class WorkerClient<R extends { type: "ready" }, D extends { type: string; id: number }> {
  private readonly pending = new Map<number, Waiter<D>>();
  private starting: Waiter<R> | null = null;
  private nextId = 1;
  private spare: ArrayBuffer[] = [];
  private closed = false;

  constructor(
    private readonly worker: Worker,
    private readonly onProgress?: (loaded: number, total: number) => void,
  ) {
    worker.onmessage = (event: MessageEvent<R | D | Progress | Failure>) => this.receive(event.data);
    worker.onerror = (event) => this.fail(new Error(`The worker crashed (${event.message}); reload the page.`));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  start(init: object, transfer: Transferable[] = []): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.starting = { resolve, reject };
      this.worker.postMessage(init, transfer);
    });
  }

  /** Post the message `build(id, recycled buffers)` returns, with `transfer`, and wait for its reply. */
  request(build: (id: number, recycle: ArrayBuffer[]) => object, transfer: Transferable[]): Promise<D> {
    if (this.closed) return Promise.reject(new Error("The segmenter was closed."));
    const id = this.nextId++;
    const recycle = this.spare;
    this.spare = [];
    return new Promise<D>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(build(id, recycle), [...transfer, ...recycle]);
    });
  }

  recycle(...buffers: (ArrayBufferLike | undefined)[]): void {
    for (const b of buffers) {
      if (b instanceof ArrayBuffer && b.byteLength > 0 && this.spare.length < SPARE_LIMIT) this.spare.push(b);
    }
  }

  close(): void {
    this.closed = true;
    this.worker.terminate();
    this.fail(new Error("The segmenter was closed."));
  }

  private receive(msg: R | D | Progress | Failure): void {
    if (msg.type === "progress") {
      const p = msg as Progress;
      this.onProgress?.(p.loaded, p.total);
    } else if (msg.type === "ready") {
      this.starting?.resolve(msg as R);
      this.starting = null;
    } else if (msg.type === "error" && (msg as Failure).id === null) {
      this.starting?.reject(new Error((msg as Failure).message));
      this.starting = null;
    } else {
      const id = (msg as D | Failure).id as number;
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (msg.type === "error") waiter?.reject(new Error((msg as Failure).message));
      else waiter?.resolve(msg as D);
    }
  }

  private fail(error: Error): void {
    this.starting?.reject(error);
    this.starting = null;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/**
 * A frame in a form that can be transferred to a worker without copying its pixels: a video's current frame
 * becomes a VideoFrame (a handle to the decoder's buffer), a VideoFrame or ImageBitmap is handed over when
 * `transfer` is set (else cloned); other sources are decoded into an ImageBitmap.
 */
export async function workerFrame(frame: FrameSource, transfer = false): Promise<WorkerFrame> {
  if (typeof VideoFrame !== "undefined") {
    if (frame instanceof VideoFrame) return transfer ? frame : frame.clone();
    if (frame instanceof HTMLVideoElement) return new VideoFrame(frame);
  }
  if (frame instanceof ImageBitmap && transfer) return frame;
  return createImageBitmap(frame as ImageBitmapSource);
}
