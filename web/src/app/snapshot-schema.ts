/**
 * The app's snapshot types (`window.liveseg.stats()`), generated from docs/snapshot.schema.json
 * (itself derived from liveseg.bench.snapshot): do not edit; rewrite with `python tests/test_contracts.py`.
 */

/** Means over the last 20 segmented frames, in ms: preprocess, inference, readback and total measured in the worker, render the view's draw on the page, latency from capturing the frame to drawing it. */
export interface Averages {
  preprocess: number;
  inference: number;
  readback: number;
  render: number;
  total: number;
  latency: number;
}

export type BackendChoice = "auto" | "webgpu" | "webgl" | "wasm";

export interface LegendEntry {
  id: number;
  name: string;
  share: number;
}

/** In MB, null where the browser has no API: jsHeapMB is the page's JS heap (Chrome's performance.memory), totalMB everything of the page incl. workers and the WASM heap (measureUserAgentSpecificMemory), workersMB the workers' share of it (onnxruntime and its WASM heap). */
export interface Memory {
  jsHeapMB: number | null;
  totalMB: number | null;
  workersMB: number | null;
}

export type Precision = "fp32" | "fp16" | "int8";

/** What `window.liveseg.stats()` returns (see web/README.md). */
export interface Snapshot {
  version: string;
  state: State;
  error: string | null;
  model: string | null;
  dataset: string | null;
  precision: Precision | null;
  size: string | null;
  backend: string | null;
  requestedBackend: BackendChoice;
  modelPicked: boolean;
  effect: string;
  overlayOpacity: number;
  fallbacks: string[];
  threads: number | null;
  loadMs: number | null;
  crossOriginIsolated: boolean;
  renderer: string | null;
  glRenderer: string | null;
  source: string | null;
  sourceSize: [number, number] | null;
  frames: number;
  sourceFrames: number;
  dropped: number;
  fps: number;
  avg: Averages;
  stages: Record<Stage, number>;
  effectMs: number | null;
  stabilise: Stabilise;
  legend: LegendEntry[];
  memory: Memory;
}

/** The stabiliser of camera and video frames: on, its strength (0 when off), median ms per frame. */
export interface Stabilise {
  on: boolean;
  strength: number;
  ms: number;
}

export type Stage = "capture" | "transfer" | "preprocess" | "inference" | "readback" | "render" | "idle";

export type State = "idle" | "loading" | "ready" | "error";
