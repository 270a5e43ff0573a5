/**
 * The inference worker: frames arrive as transferred ImageBitmaps, are drawn at the model's size on an
 * OffscreenCanvas, run through onnxruntime-web, and the uint8 maps go back as transferred buffers.
 *
 * Steady state allocates no growing memory: the input tensor is created once, result buffers cycle between
 * page and worker (`recycle`), and onnxruntime's output tensors are disposed after each run.
 */

import type {
  FromWorker,
  InitImageModel,
  InitSegmenter,
  Ready,
  RunFrame,
  SegmentDone,
  ToWorker,
} from "./protocol";
import { AUTO_ORDER, configureOrt, createSession, message, ort } from "./runtime";
import type { Backend, BackendChoice } from "./types";

const POOL_LIMIT = 4;

type Reply = [FromWorker, Transferable[]];

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, { transfer });
}

function order(choice: BackendChoice): Backend[] {
  return choice === "auto" ? AUTO_ORDER : [choice];
}

/** Draws frames at a fixed size and reads their RGBA pixels back. */
class Resizer {
  private readonly ctx: OffscreenCanvasRenderingContext2D;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    const ctx = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true, alpha: false });
    if (!ctx) throw new Error("This browser cannot draw on an OffscreenCanvas in a worker.");
    ctx.imageSmoothingQuality = "medium";
    this.ctx = ctx;
  }

  pixels(frame: ImageBitmap): Uint8ClampedArray {
    this.ctx.drawImage(frame, 0, 0, this.width, this.height);
    frame.close();
    return this.ctx.getImageData(0, 0, this.width, this.height).data;
  }
}

function dropAlpha(rgba: Uint8ClampedArray, rgb: Uint8Array): void {
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
}

/** Result buffers handed back by the page, reused for the next results. */
class Pool {
  private readonly free: ArrayBuffer[] = [];

  take(bytes: number): ArrayBuffer {
    const index = this.free.findIndex((b) => b.byteLength === bytes);
    return index >= 0 ? this.free.splice(index, 1)[0] : new ArrayBuffer(bytes);
  }

  give(buffers: ArrayBuffer[]): void {
    for (const b of buffers) if (this.free.length < POOL_LIMIT && b.byteLength > 0) this.free.push(b);
  }
}

async function download(url: string, expected: number, sha256: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}.`);
  const total = Number(response.headers.get("content-length")) || expected;
  let data = new Uint8Array(Math.max(total, expected, 1));
  let loaded = 0;
  let lastPost = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > data.length) {
      const grown = new Uint8Array(Math.max(data.length * 2, loaded + value.length));
      grown.set(data.subarray(0, loaded));
      data = grown;
    }
    data.set(value, loaded);
    loaded += value.length;
    if (performance.now() - lastPost > 100) {
      post({ type: "progress", loaded, total });
      lastPost = performance.now();
    }
  }
  post({ type: "progress", loaded, total: loaded });
  data = data.subarray(0, loaded);
  if (expected && loaded !== expected) {
    throw new Error(`${url} has ${loaded} bytes but the manifest says ${expected}; reload or re-export.`);
  }
  if (sha256 && crypto.subtle) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    if (hex !== sha256) {
      throw new Error(`${url} does not match its sha256 in the manifest; reload or re-export the bundle.`);
    }
  }
  return data;
}

class SegmentJob {
  private readonly input: ort.Tensor;
  private readonly inputData: Uint8Array;
  private readonly resizer: Resizer;
  private readonly pool = new Pool();
  private readonly counts = new Uint32Array(256);

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly init: InitSegmenter,
  ) {
    const { width, height, channels } = init;
    this.inputData = new Uint8Array(width * height * channels);
    this.input = new ort.Tensor("uint8", this.inputData, [1, height, width, channels]);
    this.resizer = new Resizer(width, height);
  }

  static async probe(session: ort.InferenceSession, init: InitSegmenter): Promise<void> {
    const { width, height, channels } = init;
    const input = new ort.Tensor("uint8", new Uint8Array(width * height * channels), [1, height, width, channels]);
    const out = await session.run({ [init.input]: input });
    const labels = out[init.labels];
    if (!labels || labels.type !== "uint8" || labels.size !== width * height) {
      throw new Error(`the graph's "${init.labels}" output is not uint8 [1, ${height}, ${width}]`);
    }
    for (const t of Object.values(out)) t.dispose();
  }

  async run(msg: RunFrame): Promise<Reply> {
    const { width, height, channels } = this.init;
    this.pool.give(msg.recycle);
    const t0 = performance.now();
    const rgba = this.resizer.pixels(msg.frame);
    if (channels === 4) this.inputData.set(rgba);
    else dropAlpha(rgba, this.inputData);
    const t1 = performance.now();
    const fetches = [this.init.labels, ...(this.init.confidence ? [this.init.confidence] : [])];
    const out = await this.session.run({ [this.init.input]: this.input }, fetches);
    const t2 = performance.now();
    const n = width * height;
    const labels = new Uint8Array(this.pool.take(n));
    labels.set((await out[this.init.labels].getData()) as Uint8Array);
    let confidence: Uint8Array | null = null;
    if (this.init.confidence) {
      confidence = new Uint8Array(this.pool.take(n));
      confidence.set((await out[this.init.confidence].getData()) as Uint8Array);
    }
    for (const t of Object.values(out)) t.dispose();
    const counts = this.histogram(labels);
    const t3 = performance.now();
    const done: SegmentDone = {
      type: "segment-done",
      id: msg.id,
      labels: labels.buffer as ArrayBuffer,
      confidence: (confidence?.buffer as ArrayBuffer) ?? null,
      counts,
      timings: { preprocess: t1 - t0, inference: t2 - t1, readback: t3 - t2, total: t3 - t0 },
    };
    return [done, confidence ? [labels.buffer, confidence.buffer] : [labels.buffer]];
  }

  private histogram(labels: Uint8Array): [number, number][] {
    const counts = this.counts;
    counts.fill(0);
    for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
    const present: [number, number][] = [];
    for (let id = 0; id < 256; id++) if (counts[id]) present.push([id, counts[id]]);
    return present;
  }
}

type Layout = "NCHW-float" | "NHWC-uint8";

/** A user's image-to-image model: float NCHW [1,3,H,W] or uint8 NHWC [1,H,W,3|4] in and out. */
class ImageJob {
  private readonly input: ort.Tensor;
  private readonly resizer: Resizer;
  private readonly pool = new Pool();

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly spec: ImageSpec,
    private readonly scale: number,
  ) {
    const { width: w, height: h, layout, channels } = spec;
    this.input =
      layout === "NCHW-float"
        ? new ort.Tensor("float32", new Float32Array(3 * h * w), [1, 3, h, w])
        : new ort.Tensor("uint8", new Uint8Array(h * w * channels), [1, h, w, channels]);
    this.resizer = new Resizer(w, h);
  }

  async run(msg: RunFrame): Promise<Reply> {
    this.pool.give(msg.recycle);
    const t0 = performance.now();
    const rgba = this.resizer.pixels(msg.frame);
    fillInput(this.input, rgba, this.spec, this.scale);
    const out = await this.session.run({ [this.spec.input]: this.input });
    const tensor = out[this.session.outputNames[0]];
    const { pixels, width, height } = toRgba(tensor, await tensor.getData(), this.scale, this.pool);
    for (const t of Object.values(out)) t.dispose();
    return [{ type: "image-done", id: msg.id, pixels, width, height, ms: performance.now() - t0 }, [pixels]];
  }
}

interface ImageSpec {
  input: string;
  layout: Layout;
  width: number;
  height: number;
  channels: 3 | 4;
}

function imageSpec(session: ort.InferenceSession, size: [number, number]): ImageSpec {
  const meta = session.inputMetadata[0];
  if (!meta?.isTensor) throw new Error("the model's first input is not a tensor");
  const dims = meta.shape.map((d) => (typeof d === "number" && d > 0 ? d : null));
  const fixed = (d: number | null, fallback: number) => d ?? fallback;
  if (meta.type === "uint8") {
    if (dims.length !== 4) throw new Error("a uint8 input must be NHWC [1, H, W, 3 or 4]");
    const channels = dims[3] === 4 ? 4 : 3;
    return {
      input: meta.name,
      layout: "NHWC-uint8",
      height: fixed(dims[1], size[0]),
      width: fixed(dims[2], size[1]),
      channels,
    };
  }
  if (meta.type === "float32") {
    if (dims.length !== 4 || (dims[1] !== null && dims[1] !== 3)) {
      throw new Error("a float input must be NCHW [1, 3, H, W]");
    }
    return {
      input: meta.name,
      layout: "NCHW-float",
      height: fixed(dims[2], size[0]),
      width: fixed(dims[3], size[1]),
      channels: 3,
    };
  }
  throw new Error(`input type ${meta.type} is not supported; use float32 NCHW or uint8 NHWC`);
}

function fillInput(input: ort.Tensor, rgba: Uint8ClampedArray, spec: ImageSpec, scale: number): void {
  const plane = spec.width * spec.height;
  if (spec.layout === "NCHW-float") {
    const data = input.data as Float32Array;
    const k = scale / 255;
    for (let p = 0, i = 0; p < plane; p++, i += 4) {
      data[p] = rgba[i] * k;
      data[plane + p] = rgba[i + 1] * k;
      data[2 * plane + p] = rgba[i + 2] * k;
    }
  } else {
    const data = input.data as Uint8Array;
    if (spec.channels === 4) data.set(rgba);
    else dropAlpha(rgba, data);
  }
}

function toRgba(
  tensor: ort.Tensor,
  data: ort.Tensor.DataType,
  scale: number,
  pool: Pool,
): { pixels: ArrayBuffer; width: number; height: number } {
  const dims = tensor.dims;
  const nchw = tensor.type === "float32" && dims.length === 4 && dims[1] === 3;
  const nhwc = tensor.type === "uint8" && dims.length === 4 && (dims[3] === 3 || dims[3] === 4);
  if (!nchw && !nhwc) {
    throw new Error(`output ${tensor.type} [${dims.join(", ")}] is neither float NCHW [1,3,H,W] nor uint8 NHWC`);
  }
  const height = nchw ? dims[2] : dims[1];
  const width = nchw ? dims[3] : dims[2];
  const plane = width * height;
  const pixels = pool.take(plane * 4);
  const out = new Uint8ClampedArray(pixels);
  if (nchw) {
    const src = data as Float32Array;
    const k = 255 / scale;
    for (let p = 0, i = 0; p < plane; p++, i += 4) {
      out[i] = src[p] * k; // Uint8ClampedArray clamps and rounds
      out[i + 1] = src[plane + p] * k;
      out[i + 2] = src[2 * plane + p] * k;
      out[i + 3] = 255;
    }
  } else {
    const src = data as Uint8Array;
    const c = dims[3];
    for (let p = 0, i = 0, j = 0; p < plane; p++, i += 4, j += c) {
      out[i] = src[j];
      out[i + 1] = src[j + 1];
      out[i + 2] = src[j + 2];
      out[i + 3] = 255;
    }
  }
  return { pixels, width, height };
}

let job: SegmentJob | ImageJob | null = null;

async function initSegmenter(init: InitSegmenter): Promise<Ready> {
  const t0 = performance.now();
  const threads = configureOrt(init);
  const model = await download(init.url, init.bytes, init.sha256);
  const created = await createSession(model, order(init.backend), (s) => SegmentJob.probe(s, init));
  job = new SegmentJob(created.session, init);
  const { backend, fallbacks } = created;
  return { type: "ready", backend, fallbacks, threads, loadMs: performance.now() - t0 };
}

async function initImageModel(init: InitImageModel): Promise<Ready> {
  const t0 = performance.now();
  const threads = configureOrt(init);
  let spec: ImageSpec | null = null;
  const probe = async (session: ort.InferenceSession) => {
    spec = imageSpec(session, init.size);
    const trial = new ImageJob(session, spec, init.scale);
    const bitmap = await createImageBitmap(new ImageData(spec.width, spec.height));
    await trial.run({ type: "run-image", id: -1, frame: bitmap, recycle: [] });
  };
  const created = await createSession(new Uint8Array(init.model), order(init.backend), probe);
  if (!spec) throw new Error("the model could not be inspected");
  const s: ImageSpec = spec;
  job = new ImageJob(created.session, s, init.scale);
  return {
    type: "ready",
    backend: created.backend,
    fallbacks: created.fallbacks,
    threads,
    loadMs: performance.now() - t0,
    layout: s.layout,
    width: s.width,
    height: s.height,
  };
}

async function handle(msg: ToWorker): Promise<void> {
  if (msg.type === "init-segmenter") post(await initSegmenter(msg));
  else if (msg.type === "init-image-model") post(await initImageModel(msg));
  else if (!job) throw new Error("the model is not loaded yet");
  else post(...(await job.run(msg)));
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  const id = msg.type === "segment" || msg.type === "run-image" ? msg.id : null;
  handle(msg).catch((error: unknown) => post({ type: "error", id, message: message(error) }));
};
