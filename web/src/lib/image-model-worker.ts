/**
 * The image-model worker: a user's image-to-image ONNX model (style transfer, filters) on the frames the page
 * sends, float NCHW [1,3,H,W] or uint8 NHWC [1,H,W,3|4] in and out, returned as RGBA pixels.
 */

import type {
  FromImageWorker,
  ImageDone,
  ImageReady,
  InitImageModel,
  RunImage,
  ToImageWorker,
} from "./image-model-protocol";
import { BufferPool, dropAlpha, FrameReader } from "./pixels";
import { configureOrt, createSession, message, ort } from "./runtime";
import type { ImageLayout } from "./types";

function post(msg: FromImageWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, { transfer });
}

interface ImageSpec {
  input: string;
  layout: ImageLayout;
  width: number;
  height: number;
  channels: 3 | 4;
}

function imageSpec(session: ort.InferenceSession, size: [number, number]): ImageSpec {
  const meta = session.inputMetadata[0];
  if (!meta?.isTensor) throw new Error("the model's first input is not a tensor");
  const dims = meta.shape.map((d) => (typeof d === "number" && d > 0 ? d : null));
  if (meta.type === "uint8") {
    if (dims.length !== 4) throw new Error("a uint8 input must be NHWC [1, H, W, 3 or 4]");
    const channels = dims[3] === 4 ? 4 : 3;
    return { input: meta.name, layout: "NHWC-uint8", height: dims[1] ?? size[0], width: dims[2] ?? size[1], channels };
  }
  if (meta.type === "float32") {
    if (dims.length !== 4 || (dims[1] !== null && dims[1] !== 3)) {
      throw new Error("a float input must be NCHW [1, 3, H, W]");
    }
    return {
      input: meta.name,
      layout: "NCHW-float",
      height: dims[2] ?? size[0],
      width: dims[3] ?? size[1],
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
  pool: BufferPool,
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

class ImageJob {
  private readonly input: ort.Tensor;
  private readonly reader: FrameReader;
  private readonly pool = new BufferPool();

  constructor(
    private readonly session: ort.InferenceSession,
    readonly spec: ImageSpec,
    private readonly scale: number,
  ) {
    const { width: w, height: h, layout, channels } = spec;
    this.input =
      layout === "NCHW-float"
        ? new ort.Tensor("float32", new Float32Array(3 * h * w), [1, 3, h, w])
        : new ort.Tensor("uint8", new Uint8Array(h * w * channels), [1, h, w, channels]);
    this.reader = new FrameReader(w, h);
  }

  async run(msg: RunImage): Promise<ImageDone> {
    this.pool.give(msg.recycle);
    const t0 = performance.now();
    fillInput(this.input, this.reader.rgba(msg.frame), this.spec, this.scale);
    const out = await this.session.run({ [this.spec.input]: this.input });
    const tensor = out[this.session.outputNames[0]];
    const { pixels, width, height } = toRgba(tensor, await tensor.getData(), this.scale, this.pool);
    for (const t of Object.values(out)) t.dispose();
    return { type: "image-done", id: msg.id, pixels, width, height, ms: performance.now() - t0 };
  }
}

let job: ImageJob | null = null;
let queue: Promise<void> = Promise.resolve();

async function init(msg: InitImageModel): Promise<ImageReady> {
  const t0 = performance.now();
  configureOrt(msg);
  const model = new Uint8Array(msg.model);
  const created = await createSession(msg.backend, async () => ({
    model,
    probe: async (session) => {
      const trial = new ImageJob(session, imageSpec(session, msg.size), msg.scale);
      const blank = await createImageBitmap(new ImageData(trial.spec.width, trial.spec.height));
      await trial.run({ type: "run", id: -1, frame: blank, recycle: [] });
    },
  }));
  job = new ImageJob(created.session, imageSpec(created.session, msg.size), msg.scale);
  const { width, height, layout } = job.spec;
  const { backend, fallbacks } = created;
  return { type: "ready", backend, fallbacks, loadMs: performance.now() - t0, layout, width, height };
}

self.onmessage = (event: MessageEvent<ToImageWorker>) => {
  const msg = event.data;
  if (msg.type === "init") {
    init(msg).then(post, (error: unknown) => post({ type: "error", id: null, message: message(error) }));
    return;
  }
  queue = queue.then(async () => {
    try {
      if (!job) throw new Error("the model is not loaded yet");
      const done = await job.run(msg);
      post(done, [done.pixels]);
    } catch (error) {
      msg.frame.close();
      post({ type: "error", id: msg.id, message: message(error) });
    }
  });
};
