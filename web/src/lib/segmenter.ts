/** The page side of the module API: `createSegmenter`, backed by one worker. */

import { ortFiles, threadsOf, WorkerClient, workerFrame } from "./client";
import {
  bundleUrl,
  checkManifest,
  fetchManifest,
  graphOf,
  inputChannels,
  LOGITS_OUTPUT,
  logitsVariant,
  parseSize,
  pickVariant,
  sha256Hex,
} from "./manifest";
import { MASK_SIZES } from "./options";
import type { Backend, MaskSize } from "./options";
import { clock } from "./pixels";
import { refusePrebundled } from "./prebundled";
import type { InitSegmenter, ModelFile, Ready, SegmentDone, SegmentFrame } from "./protocol";
import { strengthOf } from "./stabilise";
import type {
  ClassInfo,
  FrameSource,
  LegendEntry,
  Manifest,
  SegmentationResult,
  Segmenter,
  SegmenterOptions,
  SegmentOptions,
  Timings,
  Variant,
} from "./types";

export function legendOf(counts: [number, number][], classes: ClassInfo[], pixels: number): LegendEntry[] {
  const byId = new Map(classes.map((c) => [c.id, c]));
  const legend: LegendEntry[] = [];
  for (const [id, count] of counts) {
    const info = byId.get(id);
    if (info) legend.push({ ...info, share: count / pixels });
  }
  return legend.sort((a, b) => b.share - a.share);
}

class Result implements SegmentationResult {
  private cached: LegendEntry[] | null = null;

  constructor(
    readonly labels: Uint8Array,
    readonly confidence: Uint8Array | undefined,
    readonly confidenceMasks: Float32Array[] | undefined,
    readonly width: number,
    readonly height: number,
    readonly timings: Timings,
    readonly timestampMs: number | null,
    private readonly counts: [number, number][],
    private readonly classes: ClassInfo[],
  ) {}

  /** Built on first use: a page that shows the legend a few times a second need not build it every frame. */
  get legend(): LegendEntry[] {
    this.cached ??= legendOf(this.counts, this.classes, this.width * this.height);
    return this.cached;
  }
}

class WorkerSegmenter implements Segmenter {
  readonly backend: Backend;
  readonly fallbacks: string[];
  readonly threads: number;
  readonly loadMs: number;
  private lastTimestamp = -Infinity;
  /** Set by `reset()`: the next video frame tells the worker to start a new stream. */
  private newStream = true;

  constructor(
    private readonly client: WorkerClient<Ready, SegmentDone>,
    ready: Ready,
    readonly manifest: Manifest,
    readonly variant: Variant,
    public stabilise: number,
    public maskSize: MaskSize,
  ) {
    this.backend = ready.backend;
    this.fallbacks = ready.fallbacks;
    this.threads = ready.threads;
    this.loadMs = ready.loadMs;
  }

  get classes(): ClassInfo[] {
    return this.manifest.classes;
  }

  get inFlight(): number {
    return this.client.inFlight;
  }

  get busy(): boolean {
    return this.client.inFlight > 0;
  }

  segment(frame: FrameSource, options?: SegmentOptions): Promise<SegmentationResult> {
    return this.run(frame, options, null);
  }

  segmentForVideo(frame: FrameSource, timestampMs: number, options?: SegmentOptions): Promise<SegmentationResult> {
    if (!(timestampMs > this.lastTimestamp)) {
      const why = `timestamp ${timestampMs} ms is not after the previous frame's (${this.lastTimestamp} ms)`;
      return Promise.reject(new Error(`segmentForVideo: ${why}; pass each frame's own, increasing time.`));
    }
    this.lastTimestamp = timestampMs;
    const video = { strength: this.stabilise, reset: this.newStream };
    this.newStream = false;
    return this.run(frame, options, timestampMs, video);
  }

  setOptions(options: Pick<SegmenterOptions, "stabilise" | "maskSize">): void {
    if (options.stabilise !== undefined) this.stabilise = strengthOf(options.stabilise);
    if (options.maskSize !== undefined) this.maskSize = maskSizeOf(options.maskSize);
  }

  reset(): void {
    this.lastTimestamp = -Infinity;
    this.newStream = true;
  }

  private async run(
    frame: FrameSource,
    options: SegmentOptions | undefined,
    timestampMs: number | null,
    video: SegmentFrame["video"] = null,
  ) {
    const handed = await workerFrame(frame, options?.transfer);
    const maskSize = this.maskSize;
    const done = await this.client.request(
      (id, recycle) => ({ type: "segment", id, frame: handed, sentAt: clock(), recycle, video, maskSize }),
      [handed],
    );
    const { transferIn, queue, ...work } = done.timings;
    const timings: Timings = { ...work, transfer: transferIn + Math.max(0, clock() - done.postedAt), queue };
    const { width, height } = done;
    const confidence = done.confidence ? new Uint8Array(done.confidence) : undefined;
    const masks = done.confidenceMasks ? planes(done.confidenceMasks, width * height) : undefined;
    const labels = new Uint8Array(done.labels);
    return new Result(labels, confidence, masks, width, height, timings, timestampMs, done.counts, this.classes);
  }

  recycle(result: SegmentationResult): void {
    this.client.recycle(result.labels.buffer, result.confidence?.buffer, result.confidenceMasks?.[0]?.buffer);
  }

  close(): void {
    this.client.close();
  }
}

/** One float32 view per class over the worker's buffer of class-by-class planes of `pixels` each. */
function planes(buffer: ArrayBuffer, pixels: number): Float32Array[] {
  const classes = buffer.byteLength / (pixels * Float32Array.BYTES_PER_ELEMENT);
  return Array.from({ length: classes }, (_, c) => new Float32Array(buffer, c * pixels * 4, pixels));
}

function maskSizeOf(size: MaskSize): MaskSize {
  if (!MASK_SIZES.includes(size)) throw new Error(`maskSize "${size}" is not one of ${MASK_SIZES.join(", ")}.`);
  return size;
}

/** What a segmenter runs: the variant asked for and the logits variant of its size, each by URL or as bytes. */
interface Model {
  manifest: Manifest;
  /** A labels variant, or the logits variant when the page gave a logits file's bytes. */
  variant: Variant;
  labels: ModelFile | null;
  logits: { variant: Variant; file: ModelFile } | null;
}

function urlFile(base: URL, variant: Variant): ModelFile {
  return { url: new URL(variant.file, base).href, sha256: variant.sha256, bytes: variant.bytes, data: null };
}

/** A bundle by URL or name: its manifest (fetched unless given) and the variant that options pick. */
async function modelAt(model: string, options: SegmenterOptions): Promise<Model> {
  const base = new URL(bundleUrl(model, options.modelBase), location.href);
  const manifest = options.manifest ?? (await fetchManifest(base.href));
  const variant = pickVariant(manifest, options.precision, parseSize(options.size));
  const logits = logitsVariant(manifest, [variant.height, variant.width]);
  const logitsFile = logits && { variant: logits, file: urlFile(base, logits) };
  return { manifest, variant, labels: urlFile(base, variant), logits: logitsFile };
}

/**
 * A variant file's bytes, copied (the caller's buffer stays usable): the manifest names the variant whose
 * sha256 they have, which fixes the precision, the size and the graph. A labels file runs on every backend but
 * WebGL; a logits file runs everywhere and gives confidence masks.
 */
async function modelOf(bytes: ArrayBuffer | Uint8Array, options: SegmenterOptions): Promise<Model> {
  if (!options.manifest) throw new Error("A model given as bytes needs its bundle's manifest as the manifest option.");
  const manifest = checkManifest(options.manifest, "The manifest option");
  if (!crypto.subtle) {
    throw new Error("Model bytes are matched to their variant by sha256, which needs an https or localhost page.");
  }
  const data = bytes instanceof Uint8Array ? bytes.slice().buffer : bytes.slice(0);
  const sha256 = await sha256Hex(data);
  const variant = manifest.variants.find((v) => v.sha256 === sha256);
  if (!variant) {
    throw new Error(`The bytes are none of ${manifest.name}'s variant files (no sha256 in its manifest matches).`);
  }
  const [height, width] = parseSize(options.size) ?? [variant.height, variant.width];
  const precision = options.precision ?? variant.precision;
  if (precision !== variant.precision || height !== variant.height || width !== variant.width) {
    const named = `${variant.precision} ${variant.height}x${variant.width}`;
    throw new Error(`The bytes are the ${named} variant; leave precision and size out or match them.`);
  }
  const file: ModelFile = { url: variant.file, sha256, bytes: variant.bytes, data };
  if (graphOf(variant) === "logits") return { manifest, variant, labels: null, logits: { variant, file } };
  return { manifest, variant, labels: file, logits: null };
}

/** One sentence for a confidence-mask request that the model cannot answer. */
function noLogits({ manifest: m, variant: v, labels }: Model): Error {
  if (labels?.data) {
    return new Error(`Confidence masks need the bytes of ${m.name}'s logits variant ("graph": "logits").`);
  }
  const at = `${v.height}x${v.width}`;
  return new Error(`${m.name} has no logits variant at ${at}, which confidence masks need; export it with one.`);
}

/**
 * Load a bundle variant (by the bundle's URL or name, or a variant file's bytes) in a worker and return a
 * segmenter for it.
 *
 * `backend: "auto"` tries WebGPU, then WebGL, then WASM (SIMD, threaded when the page is cross-origin
 * isolated), ranks GPU backends that run on the CPU (SwiftShader and the like) below WASM, and keeps the first
 * that creates the session and survives a warm-up run. WebGL runs the bundle's logits variant of the size.
 *
 * @param options - The model (`model`: a bundle's URL or name, or a variant file's bytes with its `manifest`),
 *   and optionally the variant (`precision`, `size`), the `backend`, WASM `threads`, where onnxruntime-web's
 *   files are (`wasmPaths`), the masks' size (`maskSize`) and per-class probabilities (`confidenceMasks`),
 *   `onProgress` for the download and the video stabiliser's strength (`stabilise`).
 * @returns A segmenter whose model is downloaded (checked against the manifest's sha256), compiled and warmed up.
 * @throws Rejects when the manifest or the model cannot be fetched or checked, or when no backend can run it.
 */
export async function createSegmenter(options: SegmenterOptions): Promise<Segmenter> {
  const strength = strengthOf(options.stabilise ?? true);
  const maskSize = maskSizeOf(options.maskSize ?? "model");
  const model =
    typeof options.model === "string" ? await modelAt(options.model, options) : await modelOf(options.model, options);
  const { manifest, variant, labels, logits } = model;
  if (options.confidenceMasks && !logits) throw noLogits(model);
  const init: InitSegmenter = {
    type: "init",
    width: variant.width,
    height: variant.height,
    channels: inputChannels(manifest),
    input: manifest.input.name,
    labels: labels && {
      file: labels,
      labels: manifest.outputs.labels.name,
      confidence: manifest.outputs.confidence?.name ?? null,
    },
    logits: logits && { file: logits.file, output: manifest.outputs.logits?.name ?? LOGITS_OUTPUT },
    confidenceMasks: options.confidenceMasks ?? false,
    backend: options.backend ?? "auto",
    threads: threadsOf(options.threads),
    ort: ortFiles(options.wasmPaths),
  };
  refusePrebundled(import.meta.url);
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "liveseg-segmenter" });
  const client = new WorkerClient<Ready, SegmentDone>(worker, options.onProgress);
  try {
    const bytes = labels?.data ?? logits?.file.data; // a copy of the caller's: handed over, not copied again
    const ready = await client.start(init, bytes ? [bytes] : []);
    const runs = ready.graph === "logits" && logits ? logits.variant : variant;
    return new WorkerSegmenter(client, ready, manifest, runs, strength, maskSize);
  } catch (error) {
    client.close();
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Could not load ${manifest.name} (${variant.precision} ${variant.height}x${variant.width}): ${why}`,
    );
  }
}
