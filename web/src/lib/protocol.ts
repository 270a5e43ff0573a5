/** Messages between the page and the segmentation worker (and the parts the image-model worker shares). */

import type { Backend, Graph, MaskSize } from "./options";
import type { WorkerFrame } from "./pixels";
import type { RuntimeRequest } from "./runtime";

/** A variant's file: fetched from `url`, or `data` when the page was given its bytes (already checked). */
export interface ModelFile {
  url: string;
  sha256: string;
  bytes: number;
  data: ArrayBuffer | null;
}

export interface InitSegmenter extends RuntimeRequest {
  type: "init";
  width: number;
  height: number;
  /** 4 when the graphs accept RGBA (no repacking), else 3. */
  channels: 3 | 4;
  input: string;
  /** The labels graph: uint8 pixels in, uint8 class ids (and confidences) out; null when given a logits file only. */
  labels: { file: ModelFile; labels: string; confidence: string | null } | null;
  /** The logits graph of the same size, for WebGL and confidence masks; null when the bundle has none. */
  logits: { file: ModelFile; output: string } | null;
  /** Per-class probabilities with every frame: the logits graph runs on every backend. */
  confidenceMasks: boolean;
}

export interface SegmentFrame {
  type: "segment";
  id: number;
  frame: WorkerFrame;
  /** `clock()` when the page posted it. */
  sentAt: number;
  /** Buffers of earlier results handed back for reuse. */
  recycle: ArrayBuffer[];
  /** A `segmentForVideo` frame: the stabiliser's strength (0: off) and whether a new stream starts; else null. */
  video: { strength: number; reset: boolean } | null;
  /** The size of the masks sent back. */
  maskSize: MaskSize;
}

export type ToWorker = InitSegmenter | SegmentFrame;

export interface Ready {
  type: "ready";
  backend: Backend;
  graph: Graph;
  fallbacks: string[];
  threads: number;
  loadMs: number;
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

/** The worker's side of a frame's timings; `transfer` and `queue` are completed by the page. */
export interface WorkerTimings {
  preprocess: number;
  inference: number;
  readback: number;
  stabilise: number;
  total: number;
  /** From the page's post to the worker picking the frame up, less any wait behind the previous frame. */
  transferIn: number;
  queue: number;
}

export interface SegmentDone {
  type: "segment-done";
  id: number;
  labels: ArrayBuffer;
  confidence: ArrayBuffer | null;
  /** float32 per-class probabilities, one width × height plane per class id, when asked for. */
  confidenceMasks: ArrayBuffer | null;
  /** The masks' size: the model's, or the frame's with `maskSize: "input"`. */
  width: number;
  height: number;
  /** [class id, pixel count] for every class present. */
  counts: [number, number][];
  timings: WorkerTimings;
  /** `clock()` when the worker posted this. */
  postedAt: number;
}

export type FromWorker = Ready | Progress | Failure | SegmentDone;
