/**
 * Shared by the benchmark pages: the URL parameters, the fake webcam with its frame identity, the frame loop and
 * the figures that `liveseg bench browser` reads from `window.bench`.
 *
 * Fairness: every page counts a result only when it was segmented from a camera frame different from the
 * previous result's (frame identity from requestVideoFrameCallback's `presentedFrames`), the rule the app's
 * `stats().sourceFrames` follows, so no page gains by re-segmenting the frame it already did.
 */

/** Milliseconds per step of one frame; the names are the app's `stats().stages` plus the seeds' JS post-processing. */
export interface Stages {
  /** Getting the camera frame's pixels (drawImage/getImageData, createImageBitmap, fromPixels). */
  capture: number;
  /** Posting the frame to a worker and the result back (pages that use one). */
  transfer: number;
  preprocess: number;
  inference: number;
  /** Getting the output onto the CPU (a GPU download on webgl/webgpu). */
  readback: number;
  /** Argmax + colour loop in JavaScript (seed-style and TF.js pages). */
  postprocess: number;
  /** Drawing the result on the visible canvas. */
  render: number;
  /** Waiting for the next animation frame or camera frame before this frame started. */
  idle: number;
}

export interface FrameRecord extends Partial<Stages> {
  /** Busy time of the frame: every step but idle. */
  total: number;
  /** Identity of the camera frame it was segmented from (presentedFrames). */
  frame: number;
  /** True when `frame` differs from the previous result's: only these count. */
  fresh: boolean;
  /** performance.now() when the frame was finished. */
  at: number;
}

export interface BenchState {
  state: "loading" | "running" | "error";
  error: string | null;
  backend: string | null;
  threads: number | null;
  loadMs: number | null;
  frames: FrameRecord[];
  /** Milliseconds per call of the peak page's probe. */
  calls: number[];
}

declare global {
  interface Window {
    bench: BenchState;
  }
}

export const MEAN = [0.485, 0.456, 0.406];
export const STD = [0.229, 0.224, 0.225];

export const params = new URLSearchParams(location.search);

export function param(name: string, fallback: string): string {
  return params.get(name) ?? fallback;
}

/** `size=HxW` as [height, width]. */
export function sizeParam(): [number, number] {
  const [height, width] = param("size", "360x480").split("x").map(Number);
  return [height, width];
}

export const bench: BenchState = {
  state: "loading",
  error: null,
  backend: null,
  threads: null,
  loadMs: null,
  frames: [],
  calls: [],
};
window.bench = bench;

export function fail(error: unknown): void {
  bench.state = "error";
  bench.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The fake webcam, with the identity of the newest frame it presented. */
export class Camera {
  /** presentedFrames of the newest frame requestVideoFrameCallback announced; -1 before the first. */
  frameId = -1;
  private waiters: (() => void)[] = [];

  private constructor(readonly video: HTMLVideoElement) {
    const watch = (_now: number, meta: VideoFrameCallbackMetadata) => {
      this.frameId = meta.presentedFrames;
      this.waiters.splice(0).forEach((wake) => wake());
      video.requestVideoFrameCallback(watch);
    };
    video.requestVideoFrameCallback(watch);
  }

  static async open(width: number, height: number): Promise<Camera> {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width, height }, audio: false });
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play();
    const camera = new Camera(video);
    await camera.newerThan(-1);
    return camera;
  }

  /** Resolves once a frame newer than `seen` is showing. */
  newerThan(seen: number): Promise<void> {
    if (this.frameId > seen) return Promise.resolve();
    return new Promise((wake) => this.waiters.push(wake));
  }
}

export type Step = () => Promise<Partial<Stages>>;

/**
 * Run `step` over and over and record each frame, stopping on the first error. `pacing: "animation"` starts each
 * step on requestAnimationFrame as the seeds and MediaPipe's camera helper do (whatever frame is showing);
 * `"camera"` waits for a camera frame newer than the last one segmented, as the liveseg app does.
 */
export function loop(camera: Camera, pacing: "animation" | "camera", step: Step): void {
  bench.state = "running";
  let previous = -1;
  let finished = performance.now();
  const tick = async () => {
    try {
      const t0 = performance.now();
      const frame = camera.frameId;
      const times = await step();
      const at = performance.now();
      bench.frames.push({ ...times, idle: t0 - finished, total: at - t0, frame, fresh: frame !== previous, at });
      previous = frame;
      finished = at;
      schedule();
    } catch (error) {
      fail(error);
    }
  };
  const schedule = () => {
    if (pacing === "animation") requestAnimationFrame(() => void tick());
    else void camera.newerThan(previous).then(tick);
  };
  schedule();
}

/** Class colours for the JS colour loop: any fixed palette costs the same. */
export function palette(classes: number): Uint8Array {
  const colors = new Uint8Array(classes * 3);
  for (let c = 0; c < classes; c++) {
    colors[c * 3] = (c * 67) % 256;
    colors[c * 3 + 1] = (c * 131) % 256;
    colors[c * 3 + 2] = (c * 199) % 256;
  }
  return colors;
}

/** argmax over the class axis of CHW float logits, then colour each pixel: the seeds' per-pixel JS loop. */
export function argmaxColor(logits: Float32Array, classes: number, out: ImageData, colors: Uint8Array): void {
  const plane = out.width * out.height;
  const rgba = out.data;
  for (let p = 0; p < plane; p++) {
    let best = 0;
    let bestScore = logits[p];
    for (let c = 1; c < classes; c++) {
      const score = logits[c * plane + p];
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    const o = p * 4;
    rgba[o] = colors[best * 3];
    rgba[o + 1] = colors[best * 3 + 1];
    rgba[o + 2] = colors[best * 3 + 2];
    rgba[o + 3] = 255;
  }
}
