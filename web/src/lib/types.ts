/** Public types of the liveseg module API (see docs/ARCHITECTURE.md, "Bundles" and "Web"). */

import type { ClassInfo, Manifest, VariantEntry as Variant } from "./manifest-schema";
import type { Backend, BackendChoice, MaskSize, Precision } from "./options";

export type { Backend, BackendChoice, Graph, MaskSize, Precision } from "./options";

export type RGB = [number, number, number];

/** The manifest's types come from the Python ones, through the JSON Schema (see `./manifest-schema`). */
export type { ClassInfo, Manifest, VariantEntry as Variant } from "./manifest-schema";

/**
 * Where onnxruntime-web's WebAssembly runtime comes from: a folder URL holding `ort-wasm-simd-threaded.jsep.wasm`
 * and `.mjs` (onnxruntime-web 1.30.0's), or each file's URL. Default: the copies shipped in this package.
 */
export type WasmPaths = string | { wasm: string; mjs: string };

export interface SegmenterOptions {
  /**
   * The model: a bundle's URL ("/models/camvid-default/", "https://cdn.example/bundle/manifest.json"), a bundle's
   * name (no "/": looked up under `modelBase`), or the bytes of one of its variant files (`manifest` required).
   */
  model: string | ArrayBuffer | Uint8Array;
  /** Where bundle names are looked up: `${modelBase}${name}/manifest.json`. Default "/models/" (`liveseg serve`). */
  modelBase?: string;
  precision?: Precision;
  /** Input size as [height, width] or "HxW"; default: the bundle's default size for the precision. */
  size?: [number, number] | string;
  backend?: BackendChoice;
  /** WASM threads; default min(4, cores) when the page is cross-origin isolated, else 1. */
  threads?: number;
  /** The bundle's manifest: saves a request for a URL or name, and is required with bytes. */
  manifest?: Manifest;
  /** onnxruntime-web's `.wasm` and `.mjs` from elsewhere (a CDN, your own static path) instead of this package's. */
  wasmPaths?: WasmPaths;
  /** The masks' size: "model" (default: the variant's, no resizing) or "input" (each frame's own size). */
  maskSize?: MaskSize;
  /** Per-class probabilities with every result (`confidenceMasks`); runs the bundle's logits variant. */
  confidenceMasks?: boolean;
  /** Download progress of the model file, bytes. */
  onProgress?: (loaded: number, total: number) => void;
  /**
   * Temporal stabilisation of `segmentForVideo`'s frames (never of `segment()`'s): true (default) for the default
   * strength, false or 0 for none, or a strength up to 1 (steadier, but uncertain pixels lag more).
   */
  stabilise?: boolean | number;
}

/** One class present in a result, with its share of the pixels (0..1). */
export interface LegendEntry extends ClassInfo {
  share: number;
}

/** Milliseconds per step of one segmentation. */
export interface Timings {
  /** Drawing the frame at the model's size and reading its pixels (in the worker). */
  preprocess: number;
  /** `session.run`. */
  inference: number;
  /**
   * Copying the outputs out (and, for the logits graph, upsampling and arg-max), resizing to the input's size,
   * the confidence masks and the class histogram.
   */
  readback: number;
  /** The stabiliser, for `segmentForVideo` frames when it is on (else 0). */
  stabilise: number;
  /** preprocess + inference + readback + stabilise. */
  total: number;
  /** Handing the frame to the worker and the result back, without the wait behind an earlier frame. */
  transfer: number;
  /** Time the frame waited in the worker while an earlier frame was being segmented. */
  queue: number;
}

/**
 * One frame's masks, all width × height, row-major. Its buffers are the page's own until `recycle(result)`: they
 * stay valid while you keep the result, and are detached (length 0) once a later call takes them back.
 */
export interface SegmentationResult {
  /** Class ids at the model's size, or the input's with `maskSize: "input"` (width × height). */
  readonly labels: Uint8Array;
  /** Round(255 × top-class probability), same size, when the bundle provides it. */
  readonly confidence?: Uint8Array;
  /**
   * With `confidenceMasks: true`: one plane per class id (`confidenceMasks[id]`), the class's probability 0..1,
   * same size; the planes are views into one buffer.
   */
  readonly confidenceMasks?: Float32Array[];
  readonly width: number;
  readonly height: number;
  /** Classes present, most frequent first (computed when first read). */
  readonly legend: LegendEntry[];
  readonly timings: Timings;
  /** The timestamp given to `segmentForVideo`, else null. */
  readonly timestampMs: number | null;
}

/** What `segment()` accepts. */
export type FrameSource =
  | ImageBitmap
  | HTMLVideoElement
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | ImageData
  | VideoFrame
  | Blob;

export interface SegmentOptions {
  /** Hand a VideoFrame or ImageBitmap over to the worker instead of copying it; the caller's one is closed. */
  transfer?: boolean;
}

export interface Segmenter {
  /** The backend that runs the model (after `auto` resolved it). */
  readonly backend: Backend;
  /** Why other backends were skipped, when `auto` fell back. */
  readonly fallbacks: string[];
  readonly manifest: Manifest;
  /** The variant that runs (on WebGL, the bundle's logits variant of the chosen size). */
  readonly variant: Variant;
  readonly classes: ClassInfo[];
  readonly threads: number;
  /** Frames handed over and not answered yet; a caller that produces frames faster should drop, not queue. */
  readonly inFlight: number;
  /** True while any frame is in flight. */
  readonly busy: boolean;
  /** Milliseconds spent downloading, compiling and warming up the model. */
  readonly loadMs: number;
  /**
   * Segment one image or frame, on its own (never stabilised); several calls may be in flight, answered in order.
   *
   * @param frame - The image: any `FrameSource`, of any size; the worker draws it at the model's input size.
   * @param options - `transfer: true` hands a VideoFrame or ImageBitmap over instead of copying it.
   * @returns The class ids (and confidences, when the bundle has them; per-class probabilities with
   *   `confidenceMasks`) at the model's size or, with `maskSize: "input"`, the frame's, the classes present and
   *   the time each step took.
   * @throws Rejects when the frame cannot be read, the model fails on it, or the segmenter was closed.
   */
  segment(frame: FrameSource, options?: SegmentOptions): Promise<SegmentationResult>;
  /**
   * Segment the next frame of one video or camera stream. Stateful: the stabiliser (when on) steadies it against
   * the frames before; `reset()` starts another stream.
   *
   * @param frame - The frame: any `FrameSource`, of any size.
   * @param timestampMs - The frame's time, e.g. requestVideoFrameCallback's presentationTime; it must increase.
   * @param options - `transfer: true` hands a VideoFrame or ImageBitmap over instead of copying it.
   * @returns What `segment` returns, stabilised, with `timestampMs` in the result.
   * @throws Rejects when `timestampMs` is not after the previous frame's, and as `segment` does.
   */
  segmentForVideo(frame: FrameSource, timestampMs: number, options?: SegmentOptions): Promise<SegmentationResult>;
  /** The stabiliser's strength for `segmentForVideo` (0: off). */
  readonly stabilise: number;
  /** The size of the masks of the next results. */
  readonly maskSize: MaskSize;
  /** Change options while running; a new `stabilise` or `maskSize` applies from the next frame. */
  setOptions(options: Pick<SegmenterOptions, "stabilise" | "maskSize">): void;
  /** Start a new stream: the next `segmentForVideo` frame forgets the frames before it and may have any timestamp. */
  reset(): void;
  /** Give a result's buffers back so the next results reuse them instead of allocating. */
  recycle(result: SegmentationResult): void;
  close(): void;
}

/** A user-supplied image-to-image ONNX model (style transfer and the like); see `createImageModel`. */
export interface ImageModel {
  readonly backend: Backend;
  readonly width: number;
  readonly height: number;
  readonly inputLayout: ImageLayout;
  readonly busy: boolean;
  /** The output as RGBA pixels (its size may differ from the input's, e.g. for super-resolution). */
  run(frame: FrameSource, options?: SegmentOptions): Promise<ImageModelOutput>;
  recycle(pixels: Uint8ClampedArray): void;
  close(): void;
}

export type ImageLayout = "NCHW-float" | "NHWC-uint8";

export interface ImageModelOutput {
  pixels: Uint8ClampedArray;
  width: number;
  height: number;
  ms: number;
}

export interface ImageModelOptions {
  /** The .onnx file's bytes (transferred to the worker: the buffer is detached afterwards). */
  bytes: ArrayBuffer;
  /** onnxruntime-web's `.wasm` and `.mjs` from elsewhere, as `createSegmenter`'s option. */
  wasmPaths?: WasmPaths;
  backend?: BackendChoice;
  threads?: number;
  /** Value range of float inputs and outputs: 1 for 0..1 (default), 255 for 0..255. */
  scale?: 1 | 255;
  /** Size to use when the model's spatial dimensions are dynamic (default 256 × 256). */
  size?: [number, number];
}
