/**
 * Shared by the benchmark pages: the URL parameters, the fake webcam, the frame loop and the figures that
 * `liveseg bench browser` reads from `window.bench`.
 */

export interface FrameTimes {
  /** Draw the video frame and turn its pixels into the model's input. */
  preprocess: number;
  inference: number;
  /** Getting the output onto the CPU (a GPU download on webgl). */
  readback: number;
  /** Argmax + colour loop in JavaScript. */
  postprocess: number;
  /** putImageData onto the visible canvas. */
  render: number;
  total: number;
  /** performance.now() when the frame was finished. */
  at: number;
}

export interface BenchState {
  state: "loading" | "running" | "error";
  error: string | null;
  backend: string | null;
  threads: number | null;
  loadMs: number | null;
  notes: string[];
  frames: FrameTimes[];
  heapMB: { at: number; mb: number }[];
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

export const bench: BenchState = {
  state: "loading",
  error: null,
  backend: null,
  threads: null,
  loadMs: null,
  notes: [],
  frames: [],
  heapMB: [],
};
window.bench = bench;

export function fail(error: unknown): void {
  bench.state = "error";
  bench.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The fake webcam the harness gives Chromium, at the model's size. */
export async function openCamera(width: number, height: number): Promise<HTMLVideoElement> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width, height }, audio: false });
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  await video.play();
  return video;
}

function sampleHeap(): void {
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  if (memory) bench.heapMB.push({ at: performance.now(), mb: memory.usedJSHeapSize / 2 ** 20 });
}

/** Run `step` once per animation frame, as the seeds do, recording what it returns; stops on the first error. */
export function loop(step: () => Promise<Omit<FrameTimes, "total" | "at">>): void {
  bench.state = "running";
  sampleHeap();
  setInterval(sampleHeap, 1000);
  const tick = async () => {
    try {
      const t0 = performance.now();
      const times = await step();
      const at = performance.now();
      bench.frames.push({ ...times, total: at - t0, at });
      requestAnimationFrame(() => void tick());
    } catch (error) {
      fail(error);
    }
  };
  requestAnimationFrame(() => void tick());
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
