/** The page side of the module API: `createSegmenter`, backed by one worker. */

import { ortFiles, threadsOf, WorkerClient, workerFrame } from "./client";
import { bundleBase, fetchManifest, inputChannels, LOGITS_OUTPUT, logitsVariant, parseSize, pickVariant } from "./manifest";
import type { Backend } from "./options";
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

  setOptions(options: Pick<SegmenterOptions, "stabilise">): void {
    if (options.stabilise !== undefined) this.stabilise = strengthOf(options.stabilise);
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
    const done = await this.client.request(
      (id, recycle) => ({ type: "segment", id, frame: handed, sentAt: clock(), recycle, video }),
      [handed],
    );
    const { transferIn, queue, ...work } = done.timings;
    const timings: Timings = { ...work, transfer: transferIn + Math.max(0, clock() - done.postedAt), queue };
    const { width, height } = this.variant;
    const confidence = done.confidence ? new Uint8Array(done.confidence) : undefined;
    const labels = new Uint8Array(done.labels);
    return new Result(labels, confidence, width, height, timings, timestampMs, done.counts, this.classes);
  }

  recycle(result: SegmentationResult): void {
    this.client.recycle(result.labels.buffer, result.confidence?.buffer);
  }

  close(): void {
    this.client.close();
  }
}

function modelFile(base: URL, variant: Variant): ModelFile {
  return { url: new URL(variant.file, base).href, sha256: variant.sha256, bytes: variant.bytes };
}

/**
 * Load a bundle variant in a worker and return a segmenter for it.
 *
 * `backend: "auto"` tries WebGPU, then WebGL, then WASM (SIMD, threaded when the page is cross-origin
 * isolated), ranks GPU backends that run on the CPU (SwiftShader and the like) below WASM, and keeps the first
 * that creates the session and survives a warm-up run. WebGL runs the bundle's logits variant of the size.
 */
export async function createSegmenter(options: SegmenterOptions): Promise<Segmenter> {
  const strength = strengthOf(options.stabilise ?? true);
  const base = new URL(bundleBase(options.model), location.href);
  const manifest = options.manifest ?? (await fetchManifest(base.href));
  const variant = pickVariant(manifest, options.precision, parseSize(options.size));
  const logits = logitsVariant(manifest, [variant.height, variant.width]);
  const init: InitSegmenter = {
    type: "init",
    width: variant.width,
    height: variant.height,
    channels: inputChannels(manifest),
    input: manifest.input.name,
    labels: {
      file: modelFile(base, variant),
      labels: manifest.outputs.labels.name,
      confidence: manifest.outputs.confidence?.name ?? null,
    },
    logits: logits ? { file: modelFile(base, logits), output: manifest.outputs.logits?.name ?? LOGITS_OUTPUT } : null,
    backend: options.backend ?? "auto",
    threads: threadsOf(options.threads),
    ort: ortFiles(),
  };
  refusePrebundled(import.meta.url);
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "liveseg-segmenter" });
  const client = new WorkerClient<Ready, SegmentDone>(worker, options.onProgress);
  try {
    const ready = await client.start(init);
    const runs = ready.graph === "logits" && logits ? logits : variant;
    return new WorkerSegmenter(client, ready, manifest, runs, strength);
  } catch (error) {
    client.close();
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`Could not load ${manifest.name} (${variant.precision} ${variant.height}x${variant.width}): ${why}`);
  }
}
