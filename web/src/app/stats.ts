/**
 * Per-frame figures of the page (what `window.liveseg.stats()` reports; see web/README.md): segmented and
 * distinct camera frames, medians per pipeline stage over the last frames, means for the panel, and memory.
 */

import type { Averages, Memory, Stage } from "./snapshot-schema";

type Stages = Record<Stage, number>;

export const STAGES = [
  "capture",
  "transfer",
  "preprocess",
  "inference",
  "readback",
  "render",
  "idle",
] as const satisfies readonly Stage[];

export interface FrameTimes extends Stages {
  /** preprocess + inference + readback, in the worker. */
  total: number;
  /** Wall time from capturing the frame to drawing it, including waits. */
  latency: number;
  /** The stabiliser's share of `total` (0 when it is off). */
  stabilise: number;
}

export interface Sample extends FrameTimes {
  at: number;
}

/** Frames behind `fps` and `avg`. */
export const WINDOW = 20;
/** Frames behind `stages` (medians). */
export const STAGE_WINDOW = 60;
const HISTORY = 120;
const AVERAGED = ["preprocess", "inference", "readback", "render", "total", "latency"] as const;

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export class Stats {
  frames = 0;
  dropped = 0;
  /** Results segmented from a camera or video frame other than the previous result's. */
  sourceFrames = 0;
  memory: Memory = { jsHeapMB: null, totalMB: null, workersMB: null };
  private samples: Sample[] = [];
  private lastFrame: number | null = null;
  private measuring = false;

  /** One drawn result; `frame` identifies the source frame it was segmented from. */
  add(times: FrameTimes, frame: number): void {
    this.frames++;
    if (frame !== this.lastFrame) this.sourceFrames++;
    this.lastFrame = frame;
    this.samples.push({ ...times, at: performance.now() });
    if (this.samples.length > HISTORY) this.samples.shift();
  }

  reset(): void {
    this.frames = 0;
    this.dropped = 0;
    this.sourceFrames = 0;
    this.lastFrame = null;
    this.samples = [];
  }

  averages(): Averages {
    const recent = this.samples.slice(-WINDOW);
    const avg = {} as Averages;
    for (const k of AVERAGED) avg[k] = recent.length ? recent.reduce((s, x) => s + x[k], 0) / recent.length : 0;
    return avg;
  }

  /** Median milliseconds per stage over the last STAGE_WINDOW frames. */
  stages(): Stages {
    const recent = this.samples.slice(-STAGE_WINDOW);
    const out = {} as Stages;
    for (const k of STAGES) out[k] = median(recent.map((s) => s[k]));
    return out;
  }

  /** Segmented frames per second over the last WINDOW frames. */
  fps(): number {
    const recent = this.samples.slice(-WINDOW);
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
