/** Public types of the liveseg module API (see docs/ARCHITECTURE.md, "Bundles" and "Web"). */

export type Backend = "webgpu" | "webgl" | "wasm";
export type BackendChoice = Backend | "auto";
export type Precision = "fp32" | "fp16" | "int8";

export type RGB = [number, number, number];

export interface ClassInfo {
  id: number;
  name: string;
  color: RGB;
}

export interface Variant {
  precision: Precision;
  height: number;
  width: number;
  file: string;
  bytes: number;
  sha256: string;
  val_miou?: number | null;
  parity?: { images: number; pixel_agreement: number } | null;
}

/** `manifest.json` of a bundle (format `liveseg-bundle/1`). */
export interface Manifest {
  format: string;
  name: string;
  version?: string;
  task?: string;
  model?: { name: string; params?: number; gflops?: number };
  dataset?: string;
  classes: ClassInfo[];
  ignore_index?: number;
  input: { name: string; dtype: string; layout: string; channels: number[] };
  outputs: { labels: { name: string }; confidence?: { name: string } };
  variants: Variant[];
  default_variant: { precision: Precision; height: number; width: number };
}

export interface SegmenterOptions {
  /** Bundle URL, e.g. "/models/camvid-default/" (a trailing "manifest.json" is accepted too). */
  model: string;
  precision?: Precision;
  /** Input size as [height, width] or "HxW"; default: the bundle's default size for the precision. */
  size?: [number, number] | string;
  backend?: BackendChoice;
  /** WASM threads; default min(4, cores) when the page is cross-origin isolated, else 1. */
  threads?: number;
  /** The manifest, when the caller has it already (skips one request). */
  manifest?: Manifest;
  /** Download progress of the model file, bytes. */
  onProgress?: (loaded: number, total: number) => void;
}

/** One class present in a result, with its share of the pixels (0..1). */
export interface LegendEntry extends ClassInfo {
  share: number;
}

/** Milliseconds spent in the worker per step of one segmentation. */
export interface Timings {
  preprocess: number;
  inference: number;
  readback: number;
  total: number;
}

export interface SegmentationResult {
  /** Row-major class ids at the model's input size (width × height). */
  labels: Uint8Array;
  /** Row-major round(255 × top-class probability), same size, when the bundle provides it. */
  confidence?: Uint8Array;
  width: number;
  height: number;
  /** Classes present, most frequent first. */
  legend: LegendEntry[];
  timings: Timings;
}

/** What `segment()` accepts; an ImageBitmap is copied unless `{ transfer: true }` hands it over. */
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
  /** Transfer an ImageBitmap to the worker instead of copying it; the caller's bitmap is closed. */
  transfer?: boolean;
}

export interface Segmenter {
  /** The backend that runs the model (after `auto` resolved it). */
  readonly backend: Backend;
  /** Why other backends were skipped, when `auto` fell back. */
  readonly fallbacks: string[];
  readonly manifest: Manifest;
  readonly variant: Variant;
  readonly classes: ClassInfo[];
  readonly threads: number;
  /** True while a segmentation is running: callers that produce frames faster should drop, not queue. */
  readonly busy: boolean;
  /** Milliseconds spent downloading, compiling and warming up the model. */
  readonly loadMs: number;
  segment(frame: FrameSource, options?: SegmentOptions): Promise<SegmentationResult>;
  /** Give a result's buffers back so the next results reuse them instead of allocating. */
  recycle(result: SegmentationResult): void;
  close(): void;
}

/** A user-supplied image-to-image ONNX model (style transfer and the like); see `createImageModel`. */
export interface ImageModel {
  readonly backend: Backend;
  readonly width: number;
  readonly height: number;
  readonly inputLayout: "NCHW-float" | "NHWC-uint8";
  readonly busy: boolean;
  /** The output as RGBA pixels (its size may differ from the input's, e.g. for super-resolution). */
  run(
    frame: FrameSource,
    options?: SegmentOptions,
  ): Promise<{ pixels: Uint8ClampedArray; width: number; height: number; ms: number }>;
  recycle(pixels: Uint8ClampedArray): void;
  close(): void;
}

export interface ImageModelOptions {
  /** The .onnx file's bytes (transferred to the worker: the buffer is detached afterwards). */
  bytes: ArrayBuffer;
  backend?: BackendChoice;
  threads?: number;
  /** Value range of float inputs and outputs: 1 for 0..1 (default), 255 for 0..255. */
  scale?: 1 | 255;
  /** Size to use when the model's spatial dimensions are dynamic (default 256 × 256). */
  size?: [number, number];
}
