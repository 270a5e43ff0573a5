/** Messages between the page and the inference worker. */

import type { Backend, BackendChoice, Timings } from "./types";

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

export interface InitSegmenter extends RuntimeRequest {
  type: "init-segmenter";
  url: string;
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  /** 4 when the graph accepts RGBA (no repacking), else 3. */
  channels: 3 | 4;
  input: string;
  labels: string;
  confidence: string | null;
}

export interface InitImageModel extends RuntimeRequest {
  type: "init-image-model";
  model: ArrayBuffer;
  scale: 1 | 255;
  size: [number, number];
}

export interface RunFrame {
  type: "segment" | "run-image";
  id: number;
  frame: ImageBitmap;
  /** Buffers of earlier results handed back for reuse. */
  recycle: ArrayBuffer[];
}

export type ToWorker = InitSegmenter | InitImageModel | RunFrame;

export interface Ready {
  type: "ready";
  backend: Backend;
  fallbacks: string[];
  threads: number;
  loadMs: number;
  /** Image models: the input layout and the size frames are resized to. */
  layout?: "NCHW-float" | "NHWC-uint8";
  width?: number;
  height?: number;
}

export interface Progress {
  type: "progress";
  loaded: number;
  total: number;
}

export interface Failure {
  type: "error";
  id: number | null;
  message: string;
}

export interface SegmentDone {
  type: "segment-done";
  id: number;
  labels: ArrayBuffer;
  confidence: ArrayBuffer | null;
  /** [class id, pixel count] for every class present. */
  counts: [number, number][];
  timings: Timings;
}

export interface ImageDone {
  type: "image-done";
  id: number;
  pixels: ArrayBuffer;
  width: number;
  height: number;
  ms: number;
}

export type FromWorker = Ready | Progress | Failure | SegmentDone | ImageDone;
