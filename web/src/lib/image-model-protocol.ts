/** Messages between the page and the image-model worker (a user's image-to-image ONNX model). */

import type { Backend } from "./options";
import type { WorkerFrame } from "./pixels";
import type { Failure, Progress } from "./protocol";
import type { RuntimeRequest } from "./runtime";
import type { ImageLayout } from "./types";

export interface InitImageModel extends RuntimeRequest {
  type: "init";
  model: ArrayBuffer;
  scale: 1 | 255;
  size: [number, number];
}

export interface RunImage {
  type: "run";
  id: number;
  frame: WorkerFrame;
  recycle: ArrayBuffer[];
}

export type ToImageWorker = InitImageModel | RunImage;

export interface ImageReady {
  type: "ready";
  backend: Backend;
  fallbacks: string[];
  loadMs: number;
  layout: ImageLayout;
  /** The size frames are drawn at. */
  width: number;
  height: number;
}

export interface ImageDone {
  type: "image-done";
  id: number;
  pixels: ArrayBuffer;
  width: number;
  height: number;
  ms: number;
}

export type FromImageWorker = ImageReady | Progress | Failure | ImageDone;
