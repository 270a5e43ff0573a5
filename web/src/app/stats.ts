/** Per-frame timings, averages over the last frames, memory, and a small live chart. */

import type { Timings } from "../lib";

export const WINDOW = 20;
const HISTORY = 120;

export interface FrameTimes extends Timings {
  render: number;
  /** Wall time from capture to display, including waiting for the worker. */
  latency: number;
}

export interface Averages {
  preprocess: number;
  inference: number;
  readback: number;
  render: number;
  total: number;
  latency: number;
}

export interface Memory {
  /** JS heap of the page (Chrome's performance.memory), MB. */
  jsHeapMB: number | null;
  /** Everything of this page incl. workers and the WASM heap (measureUserAgentSpecificMemory), MB. */
  totalMB: number | null;
  /** The workers' share of that total (onnxruntime and its WASM heap), MB. */
  workersMB: number | null;
}

interface Sample extends FrameTimes {
  at: number;
}

const KEYS = ["preprocess", "inference", "readback", "render", "total", "latency"] as const;

export class Stats {
  frames = 0;
  dropped = 0;
  private samples: Sample[] = [];
  memory: Memory = { jsHeapMB: null, totalMB: null, workersMB: null };
  private measuring = false;

  add(times: FrameTimes): void {
    this.frames++;
    this.samples.push({ ...times, at: performance.now() });
    if (this.samples.length > HISTORY) this.samples.shift();
  }

  reset(): void {
    this.frames = 0;
    this.dropped = 0;
    this.samples = [];
  }

  private recent(): Sample[] {
    return this.samples.slice(-WINDOW);
  }

  averages(): Averages {
    const recent = this.recent();
    const avg = {} as Averages;
    for (const k of KEYS) avg[k] = recent.length ? recent.reduce((s, x) => s + x[k], 0) / recent.length : 0;
    return avg;
  }

  /** Segmented frames per second over the last WINDOW frames. */
  fps(): number {
    const recent = this.recent();
    if (recent.length < 2) return 0;
    const span = recent[recent.length - 1].at - recent[0].at;
    return span > 0 ? ((recent.length - 1) * 1000) / span : 0;
  }

  history(): readonly Sample[] {
    return this.samples;
  }

  /** Refresh memory figures; the UA-specific measurement is slow and asynchronous, so call it rarely. */
  async measureMemory(): Promise<void> {
    if (this.measuring) return;
    this.measuring = true;
    try {
      await this.readMemory();
    } finally {
      this.measuring = false;
    }
  }

  private async readMemory(): Promise<void> {
    const perf = performance as Performance & {
      memory?: { usedJSHeapSize: number };
      measureUserAgentSpecificMemory?: () => Promise<{
        bytes: number;
        breakdown: { bytes: number; attribution: { scope?: string }[] }[];
      }>;
    };
    const mb = (bytes: number) => bytes / 2 ** 20;
    this.memory.jsHeapMB = perf.memory ? mb(perf.memory.usedJSHeapSize) : null;
    if (perf.measureUserAgentSpecificMemory && crossOriginIsolated) {
      try {
        const m = await perf.measureUserAgentSpecificMemory();
        const workers = m.breakdown
          .filter((b) => b.attribution.some((a) => a.scope === "DedicatedWorkerGlobalScope"))
          .reduce((s, b) => s + b.bytes, 0);
        this.memory.totalMB = mb(m.bytes);
        this.memory.workersMB = mb(workers);
      } catch {
        // Not allowed in this context (e.g. a browsing context group with other pages); keep the heap figure.
      }
    }
  }
}

export const CHART_COLORS: Record<"preprocess" | "inference" | "readback" | "render", string> = {
  preprocess: "#f7b955",
  inference: "#5aa9ff",
  readback: "#b48cff",
  render: "#4fd1a5",
};

/** Stacked bars of the per-frame step times, newest on the right, with a 33 ms (30 fps) guide. */
export function drawChart(canvas: HTMLCanvasElement, samples: readonly Sample[]): void {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio);
  const height = Math.round(canvas.clientHeight * ratio);
  if (width === 0 || height === 0) return;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  ctx.clearRect(0, 0, width, height);
  const peak = Math.max(50, ...samples.map((s) => s.preprocess + s.inference + s.readback + s.render));
  const scale = (height - 4 * ratio) / peak;
  const bar = width / HISTORY;
  const offset = HISTORY - samples.length;
  samples.forEach((s, i) => {
    let y = height;
    for (const key of ["preprocess", "inference", "readback", "render"] as const) {
      const h = s[key] * scale;
      ctx.fillStyle = CHART_COLORS[key];
      ctx.fillRect((offset + i) * bar, y - h, Math.max(1, bar - ratio), h);
      y -= h;
    }
  });
  const guide = height - 33.3 * scale;
  ctx.strokeStyle = "rgba(255,255,255,0.35)";
  ctx.setLineDash([4 * ratio, 4 * ratio]);
  ctx.beginPath();
  ctx.moveTo(0, guide);
  ctx.lineTo(width, guide);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = "rgba(255,255,255,0.6)";
  ctx.font = `${10 * ratio}px system-ui, sans-serif`;
  ctx.fillText("33 ms", 4 * ratio, guide - 3 * ratio);
}
