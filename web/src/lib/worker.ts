/**
 * The segmentation worker: frames arrive as transferred VideoFrames or ImageBitmaps, are drawn at the model's size
 * on an OffscreenCanvas, run through onnxruntime-web, and the uint8 class maps go back as transferred buffers.
 *
 * Frames are segmented one at a time in arrival order; the page may post the next frame while one runs, so
 * that it is here when the session is free. Copies are the unavoidable ones: the canvas read, onnxruntime's copy
 * into and out of its heap; its output buffers are handed to the page as they are, not copied again.
 */

import { ClassProbabilities, LogitsDecoder } from "./logits";
import { sha256Hex } from "./manifest";
import type { Backend, Graph } from "./options";
import { BufferPool, clock, dropAlpha, FrameReader, frameSize } from "./pixels";
import type { FromWorker, InitSegmenter, ModelFile, Ready, SegmentDone, SegmentFrame, ToWorker } from "./protocol";
import { configureOrt, createSession, message, ort } from "./runtime";
import type { Prepared } from "./runtime";
import { NearestResizer } from "./resize";
import { Stabiliser } from "./stabilise";

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, { transfer });
}

async function download(file: ModelFile): Promise<Uint8Array> {
  const { url, bytes: expected, sha256 } = file;
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
  if (sha256 && crypto.subtle && (await sha256Hex(data)) !== sha256) {
    throw new Error(`${url} does not match its sha256 in the manifest; reload or re-export the bundle.`);
  }
  return data;
}

/** The class maps of one frame, in buffers that can be transferred. */
interface Maps {
  labels: Uint8Array;
  confidence: Uint8Array | null;
  /** Per-class probabilities, class by class, at the size asked for (logits graph only). */
  probabilities: Float32Array | null;
}

/** [height, width]. */
type Size = [number, number];

/** One graph kind: how its input is filled from RGBA pixels and how its outputs become class maps. */
interface GraphRunner {
  readonly kind: Graph;
  feed(rgba: Uint8ClampedArray): ort.Tensor;
  fetches: string[];
  /** Labels and confidences at the model's size; per-class probabilities at `masks` when it is given. */
  maps(out: ort.InferenceSession.ReturnType, pool: BufferPool, masks: Size | null): Promise<Maps>;
}

/** A CPU output's data as a buffer of its own (onnxruntime allocates one per run), else a pooled copy. */
function own(data: Uint8Array, pool: BufferPool): Uint8Array {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return data;
  const copy = new Uint8Array(pool.take(data.byteLength));
  copy.set(data);
  return copy;
}

/** uint8 NHWC pixels in; uint8 class ids and confidences out. */
class LabelsGraph implements GraphRunner {
  readonly kind = "labels";
  readonly fetches: string[];
  private readonly rgb: Uint8Array | null;

  constructor(
    private readonly init: InitSegmenter,
    private readonly spec: NonNullable<InitSegmenter["labels"]>,
  ) {
    this.fetches = spec.confidence ? [spec.labels, spec.confidence] : [spec.labels];
    this.rgb = init.channels === 3 ? new Uint8Array(init.width * init.height * 3) : null;
  }

  feed(rgba: Uint8ClampedArray): ort.Tensor {
    const { width, height, channels } = this.init;
    if (this.rgb) dropAlpha(rgba, this.rgb);
    const data = this.rgb ?? new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength);
    return new ort.Tensor("uint8", data, [1, height, width, channels]);
  }

  async maps(out: ort.InferenceSession.ReturnType, pool: BufferPool): Promise<Maps> {
    const labels = out[this.spec.labels];
    if (!labels || labels.type !== "uint8" || labels.size !== this.init.width * this.init.height) {
      throw new Error(
        `the graph's "${this.spec.labels}" output is not uint8 [1, ${this.init.height}, ${this.init.width}]`,
      );
    }
    const confidence = this.spec.confidence ? out[this.spec.confidence] : null;
    return {
      labels: own((await labels.getData()) as Uint8Array, pool),
      confidence: confidence ? own((await confidence.getData()) as Uint8Array, pool) : null,
      probabilities: null,
    };
  }
}

/** float32 NHWC pixels (0..255) in; the network's low-resolution logits out, decoded here. */
class LogitsGraph implements GraphRunner {
  readonly kind = "logits";
  readonly fetches: string[];
  private readonly input: Float32Array;
  private readonly tensor: ort.Tensor;
  private decoder: LogitsDecoder | null = null;
  private classProbabilities: ClassProbabilities | null = null;

  constructor(
    private readonly init: InitSegmenter,
    private readonly output: string,
  ) {
    const { width, height, channels } = init;
    this.fetches = [output];
    this.input = new Float32Array(width * height * channels);
    this.tensor = new ort.Tensor("float32", this.input, [1, height, width, channels]);
  }

  feed(rgba: Uint8ClampedArray): ort.Tensor {
    if (this.init.channels === 3) dropAlpha(rgba, this.input);
    else this.input.set(rgba);
    return this.tensor;
  }

  async maps(out: ort.InferenceSession.ReturnType, pool: BufferPool, masks: Size | null): Promise<Maps> {
    const logits = out[this.output];
    const dims = logits?.dims ?? [];
    if (!logits || logits.type !== "float32" || dims.length !== 4 || dims[0] !== 1) {
      throw new Error(`the graph's "${this.output}" output is not float32 [1, classes, h, w]`);
    }
    const decoder = this.decoderFor(dims[1], dims[2], dims[3]);
    const n = this.init.width * this.init.height;
    const labels = new Uint8Array(pool.take(n));
    const confidence = new Uint8Array(pool.take(n));
    const data = (await logits.getData()) as Float32Array;
    decoder.decode(data, labels, confidence);
    return { labels, confidence, probabilities: masks && this.probabilities(data, decoder, masks, pool) };
  }

  /** Softmax of the low-resolution logits, upsampled bilinearly to `masks`: one float plane per class. */
  private probabilities(data: Float32Array, d: LogitsDecoder, [height, width]: Size, pool: BufferPool): Float32Array {
    let p = this.classProbabilities;
    if (!p || p.classes !== d.classes || p.lowHeight !== d.lowHeight || p.lowWidth !== d.lowWidth) {
      p = this.classProbabilities = new ClassProbabilities(d.classes, d.lowHeight, d.lowWidth);
    }
    const out = new Float32Array(pool.take(d.classes * height * width * Float32Array.BYTES_PER_ELEMENT));
    p.fill(data, height, width, out);
    return out;
  }

  private decoderFor(classes: number, h: number, w: number): LogitsDecoder {
    const d = this.decoder;
    if (d && d.classes === classes && d.lowHeight === h && d.lowWidth === w) return d;
    this.decoder = new LogitsDecoder(classes, h, w, this.init.height, this.init.width);
    return this.decoder;
  }
}

class SegmentJob {
  private readonly reader: FrameReader;
  private readonly pool = new BufferPool();
  private readonly counts = new Uint32Array(256);
  /** The state of the `segmentForVideo` stream; `segment()` frames neither use nor change it. */
  private readonly stabiliser = new Stabiliser();
  private resizer: NearestResizer | null = null;
  /** `clock()` when the previous frame was answered. */
  private freeAt = 0;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly graph: GraphRunner,
    private readonly init: InitSegmenter,
  ) {
    this.reader = new FrameReader(init.width, init.height);
  }

  async run(msg: SegmentFrame, receivedAt: number): Promise<void> {
    const t0 = clock();
    this.pool.give(msg.recycle);
    const size: Size = msg.maskSize === "input" ? frameSize(msg.frame) : [this.init.height, this.init.width];
    const feed = this.graph.feed(this.reader.rgba(msg.frame));
    const t1 = clock();
    const out = await this.session.run({ [this.init.input]: feed }, this.graph.fetches);
    const t2 = clock();
    const atModel = await this.graph.maps(out, this.pool, this.init.confidenceMasks ? size : null);
    for (const t of Object.values(out)) t.dispose();
    const stabilise = this.stabilise(msg.video, atModel);
    const maps = this.resized(atModel, size);
    const counts = this.histogram(maps.labels);
    const t3 = clock();
    const done: SegmentDone = {
      type: "segment-done",
      id: msg.id,
      labels: maps.labels.buffer as ArrayBuffer,
      confidence: (maps.confidence?.buffer as ArrayBuffer | undefined) ?? null,
      confidenceMasks: (maps.probabilities?.buffer as ArrayBuffer | undefined) ?? null,
      width: size[1],
      height: size[0],
      counts,
      timings: {
        preprocess: t1 - t0,
        inference: t2 - t1,
        readback: t3 - t2 - stabilise,
        stabilise,
        total: t3 - t0,
        transferIn: Math.max(0, receivedAt - Math.max(msg.sentAt, this.freeAt)),
        queue: Math.max(0, t0 - receivedAt),
      },
      postedAt: clock(),
    };
    post(
      done,
      [done.labels, done.confidence, done.confidenceMasks].filter((b) => b !== null),
    );
    this.freeAt = clock();
  }

  /**
   * The maps at `size`: as they are at the model's size, else nearest-neighbour copies by the Python runtime's
   * rule (resize.ts), the model-size buffers going back to the pool. Probabilities are made at `size` already.
   */
  private resized(maps: Maps, [height, width]: Size): Maps {
    if (height === this.init.height && width === this.init.width) return maps;
    let r = this.resizer;
    if (!r || r.toHeight !== height || r.toWidth !== width) {
      r = this.resizer = new NearestResizer(this.init.height, this.init.width, height, width);
    }
    const resizer = r;
    const copy = (map: Uint8Array): Uint8Array => {
      const out = new Uint8Array(this.pool.take(height * width));
      resizer.resize(map, out);
      this.pool.give([map.buffer as ArrayBuffer]);
      return out;
    };
    const { labels, confidence, probabilities } = maps;
    return { labels: copy(labels), confidence: confidence && copy(confidence), probabilities };
  }

  /**
   * Steady a video frame's maps in place against the stream's past (the confidence is its evidence); returns the
   * milliseconds it took, 0 for `segment()` frames.
   */
  private stabilise(video: SegmentFrame["video"], maps: Maps): number {
    if (!video) return 0;
    const t0 = clock();
    if (video.reset || video.strength === 0 || !maps.confidence) this.stabiliser.reset();
    if (video.strength > 0 && maps.confidence) {
      this.stabiliser.apply(maps.labels, maps.confidence, this.init.width, video.strength);
    }
    return clock() - t0;
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

interface PreparedGraph extends Prepared {
  graph: GraphRunner;
}

/**
 * The graph `backend` runs: the labels graph, unless on WebGL (no ArgMax or uint8 there), for confidence masks (the
 * labels graph has no per-class output) or when the page gave only a logits file.
 */
function graphFor(init: InitSegmenter, backend: Backend): { graph: GraphRunner; file: ModelFile } {
  if (init.labels && backend !== "webgl" && !init.confidenceMasks) {
    return { graph: new LabelsGraph(init, init.labels), file: init.labels.file };
  }
  if (!init.logits) {
    const needs = backend === "webgl" ? "WebGL needs" : "confidence masks need";
    throw new Error(`the bundle has no logits variant at ${init.height}x${init.width}, which ${needs}; re-export it`);
  }
  return { graph: new LogitsGraph(init, init.logits.output), file: init.logits.file };
}

/** The graph that `backend` runs, downloaded (or as the page gave it), with a zero-frame warm-up run as its probe. */
async function prepare(init: InitSegmenter, backend: Backend): Promise<PreparedGraph> {
  const { graph, file } = graphFor(init, backend);
  const model = file.data ? new Uint8Array(file.data) : await download(file);
  const blank = new Uint8ClampedArray(init.width * init.height * 4);
  const masks: Size | null = init.confidenceMasks ? [init.height, init.width] : null;
  return {
    graph,
    model,
    // Static shapes let every backend fold the graph's shape arithmetic once, at load.
    options: { freeDimensionOverrides: { batch: 1, channels: init.channels } },
    probe: async (session) => {
      const out = await session.run({ [init.input]: graph.feed(blank) }, graph.fetches);
      await graph.maps(out, new BufferPool(), masks);
      for (const t of Object.values(out)) t.dispose();
    },
  };
}

let job: SegmentJob | null = null;
/** Frames are segmented strictly one after another, in the order they arrived. */
let queue: Promise<void> = Promise.resolve();

async function initSegmenter(init: InitSegmenter): Promise<Ready> {
  const t0 = performance.now();
  const threads = configureOrt(init);
  const created = await createSession(init.backend, (backend) => prepare(init, backend));
  job = new SegmentJob(created.session, created.prepared.graph, init);
  const { backend, fallbacks } = created;
  const graph = created.prepared.graph.kind;
  return { type: "ready", backend, graph, fallbacks, threads, loadMs: performance.now() - t0 };
}

function fail(id: number | null, error: unknown): void {
  post({ type: "error", id, message: message(error) });
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === "init") {
    initSegmenter(msg).then(post, (error: unknown) => fail(null, error));
    return;
  }
  const receivedAt = clock();
  queue = queue.then(async () => {
    try {
      if (!job) throw new Error("the model is not loaded yet");
      await job.run(msg, receivedAt);
    } catch (error) {
      msg.frame.close();
      fail(msg.id, error);
    }
  });
};
