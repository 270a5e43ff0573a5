/** The page side of the module API: `createSegmenter` and `createImageModel`, each backed by one worker. */

import ortMjs from "onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url";
import ortWasm from "onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url";

import { bundleBase, fetchManifest, parseSize, pickVariant } from "./manifest";
import type { FromWorker, ImageDone, InitImageModel, InitSegmenter, Ready, SegmentDone, ToWorker } from "./protocol";
import type {
  Backend,
  ClassInfo,
  FrameSource,
  ImageModel,
  ImageModelOptions,
  LegendEntry,
  Manifest,
  SegmentationResult,
  Segmenter,
  SegmenterOptions,
  SegmentOptions,
  Variant,
} from "./types";

const SPARE_LIMIT = 4;

/** min(4, cores) threads when SharedArrayBuffer is allowed (cross-origin isolated pages), else 1. */
export function defaultThreads(): number {
  return crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
}

function ortFiles(): { wasm: string; mjs: string } {
  return { wasm: new URL(ortWasm, location.href).href, mjs: new URL(ortMjs, location.href).href };
}

async function toBitmap(frame: FrameSource, options?: SegmentOptions): Promise<ImageBitmap> {
  if (frame instanceof ImageBitmap && options?.transfer) return frame;
  return createImageBitmap(frame);
}

type Reply = SegmentDone | ImageDone;

/** Request/response over one worker; at most one frame is in flight per client. */
class WorkerClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
  private nextId = 1;
  private starting: { resolve(r: Ready): void; reject(e: Error): void } | null = null;
  private spare: ArrayBuffer[] = [];
  busy = false;

  constructor(private readonly onProgress?: (loaded: number, total: number) => void) {
    this.worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "liveseg-inference" });
    this.worker.onmessage = (event: MessageEvent<FromWorker>) => this.receive(event.data);
    this.worker.onerror = (event) => this.fail(new Error(`The inference worker crashed: ${event.message}`));
  }

  start(init: ToWorker, transfer: Transferable[] = []): Promise<Ready> {
    return new Promise<Ready>((resolve, reject) => {
      this.starting = { resolve, reject };
      this.worker.postMessage(init, transfer);
    });
  }

  async request(type: "segment" | "run-image", frame: FrameSource, options?: SegmentOptions): Promise<Reply> {
    this.busy = true;
    try {
      const bitmap = await toBitmap(frame, options);
      const id = this.nextId++;
      const recycle = this.spare;
      this.spare = [];
      return await new Promise<Reply>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.worker.postMessage({ type, id, frame: bitmap, recycle }, [bitmap, ...recycle]);
      });
    } finally {
      this.busy = false;
    }
  }

  recycle(...buffers: (ArrayBufferLike | undefined)[]): void {
    for (const b of buffers) {
      if (b instanceof ArrayBuffer && b.byteLength > 0 && this.spare.length < SPARE_LIMIT) this.spare.push(b);
    }
  }

  close(): void {
    this.worker.terminate();
    this.fail(new Error("The segmenter was closed."));
  }

  private receive(msg: FromWorker): void {
    if (msg.type === "progress") this.onProgress?.(msg.loaded, msg.total);
    else if (msg.type === "ready") {
      this.starting?.resolve(msg);
      this.starting = null;
    } else if (msg.type === "error" && msg.id === null) {
      this.starting?.reject(new Error(msg.message));
      this.starting = null;
    } else if (msg.id !== null) {
      const waiter = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.type === "error") waiter?.reject(new Error(msg.message));
      else waiter?.resolve(msg);
    }
  }

  private fail(error: Error): void {
    this.starting?.reject(error);
    this.starting = null;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

class WorkerSegmenter implements Segmenter {
  readonly backend: Backend;
  readonly fallbacks: string[];
  readonly threads: number;
  readonly loadMs: number;

  constructor(
    private readonly client: WorkerClient,
    ready: Ready,
    readonly manifest: Manifest,
    readonly variant: Variant,
  ) {
    this.backend = ready.backend;
    this.fallbacks = ready.fallbacks;
    this.threads = ready.threads;
    this.loadMs = ready.loadMs;
  }

  get classes(): ClassInfo[] {
    return this.manifest.classes;
  }

  get busy(): boolean {
    return this.client.busy;
  }

  async segment(frame: FrameSource, options?: SegmentOptions): Promise<SegmentationResult> {
    const done = (await this.client.request("segment", frame, options)) as SegmentDone;
    const { width, height } = this.variant;
    return {
      labels: new Uint8Array(done.labels),
      confidence: done.confidence ? new Uint8Array(done.confidence) : undefined,
      width,
      height,
      legend: legendOf(done.counts, this.manifest.classes, width * height),
      timings: done.timings,
    };
  }

  recycle(result: SegmentationResult): void {
    this.client.recycle(result.labels.buffer, result.confidence?.buffer);
  }

  close(): void {
    this.client.close();
  }
}

export function legendOf(counts: [number, number][], classes: ClassInfo[], pixels: number): LegendEntry[] {
  const byId = new Map(classes.map((c) => [c.id, c]));
  const legend: LegendEntry[] = [];
  for (const [id, count] of counts) {
    const info = byId.get(id);
    if (info) legend.push({ ...info, share: count / pixels });
  }
  return legend.sort((a, b) => b.share - a.share);
}

/**
 * Load a bundle variant in a worker and return a segmenter for it.
 *
 * `backend: "auto"` tries WebGPU, then WebGL, then WASM (SIMD, threaded when the page is cross-origin
 * isolated) and keeps the first that creates the session and survives a warm-up run.
 */
export async function createSegmenter(options: SegmenterOptions): Promise<Segmenter> {
  const base = new URL(bundleBase(options.model), location.href);
  const manifest = options.manifest ?? (await fetchManifest(base.href));
  const variant = pickVariant(manifest, options.precision, parseSize(options.size));
  const init: InitSegmenter = {
    type: "init-segmenter",
    url: new URL(variant.file, base).href,
    sha256: variant.sha256,
    bytes: variant.bytes,
    width: variant.width,
    height: variant.height,
    channels: manifest.input.channels?.includes(4) ? 4 : 3,
    input: manifest.input.name,
    labels: manifest.outputs.labels.name,
    confidence: manifest.outputs.confidence?.name ?? null,
    backend: options.backend ?? "auto",
    threads: options.threads && options.threads > 0 ? options.threads : defaultThreads(),
    ort: ortFiles(),
  };
  const client = new WorkerClient(options.onProgress);
  try {
    return new WorkerSegmenter(client, await client.start(init), manifest, variant);
  } catch (error) {
    client.close();
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`Could not load ${manifest.name} (${variant.precision} ${variant.height}x${variant.width}): ${why}`);
  }
}

class WorkerImageModel implements ImageModel {
  readonly backend: Backend;
  readonly width: number;
  readonly height: number;
  readonly inputLayout: "NCHW-float" | "NHWC-uint8";

  constructor(
    private readonly client: WorkerClient,
    ready: Ready,
  ) {
    this.backend = ready.backend;
    this.width = ready.width ?? 0;
    this.height = ready.height ?? 0;
    this.inputLayout = ready.layout ?? "NCHW-float";
  }

  get busy(): boolean {
    return this.client.busy;
  }

  async run(frame: FrameSource, options?: SegmentOptions) {
    const done = (await this.client.request("run-image", frame, options)) as ImageDone;
    return { pixels: new Uint8ClampedArray(done.pixels), width: done.width, height: done.height, ms: done.ms };
  }

  recycle(pixels: Uint8ClampedArray): void {
    this.client.recycle(pixels.buffer);
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Load a user's image-to-image ONNX model (style transfer, filters). Accepted: input float32 NCHW [1,3,H,W]
 * (values 0..1, or 0..255 with `scale: 255`) or uint8 NHWC [1,H,W,3|4]; output float32 NCHW [1,3,H,W] in the same
 * range, or uint8 NHWC [1,H,W,3|4]. Dynamic H and W take `size` (default 256 × 256).
 */
export async function createImageModel(options: ImageModelOptions): Promise<ImageModel> {
  const init: InitImageModel = {
    type: "init-image-model",
    model: options.bytes,
    scale: options.scale ?? 1,
    size: options.size ?? [256, 256],
    backend: options.backend ?? "auto",
    threads: options.threads && options.threads > 0 ? options.threads : defaultThreads(),
    ort: ortFiles(),
  };
  const client = new WorkerClient();
  try {
    return new WorkerImageModel(client, await client.start(init, [options.bytes]));
  } catch (error) {
    client.close();
    throw new Error(`Could not load the image model: ${error instanceof Error ? error.message : String(error)}`);
  }
}
