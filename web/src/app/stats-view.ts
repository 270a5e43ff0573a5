/** The Performance panel: figures updated in place a few times a second, and a chart of the recent frames. */

import type { SourceKind } from "./sources";
import type { Sample, Stats } from "./stats";

/** The stages the chart stacks, with their colours (idle is a wait, not work, so it is not drawn). */
export const CHART_COLORS = {
  capture: "#ff8fa3",
  transfer: "#8e9aaf",
  preprocess: "#f7b955",
  inference: "#5aa9ff",
  readback: "#b48cff",
  render: "#4fd1a5",
} as const;
type Charted = keyof typeof CHART_COLORS;
const CHARTED = Object.keys(CHART_COLORS) as Charted[];
const HISTORY = 120;

/** What the source's frames are called in the panel. */
const SOURCE_FRAMES: Record<SourceKind, string> = { camera: "Camera frames", video: "Video frames", image: "Images" };

export interface PanelFigures {
  /** The source (null: none); an image shows "still" for the rate, which means nothing for one frame. */
  source: SourceKind | null;
  effectMs: number | null;
  loadMs: number | null;
}

function fmt(ms: number): string {
  return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

export class StatsView {
  private readonly cells = new Map<string, HTMLElement>();

  constructor(
    private readonly list: HTMLElement,
    private readonly chart: HTMLCanvasElement,
    private readonly memory: HTMLElement,
    private readonly fps: HTMLElement,
    chartLegend: HTMLElement,
  ) {
    chartLegend.replaceChildren(
      ...CHARTED.map((name) => {
        const li = document.createElement("li");
        li.style.setProperty("--dot", CHART_COLORS[name]);
        li.textContent = name;
        return li;
      }),
    );
  }

  update(stats: Stats, extra: PanelFigures): void {
    const fps = stats.fps();
    const s = stats.stages();
    // Nothing ran yet (no source, or no frame segmented): no rate to show, not "0.0 fps".
    const idle = extra.source === null || stats.frames === 0;
    this.fps.textContent = idle ? "—" : extra.source === "image" ? "still" : `${fps.toFixed(1)} fps`;
    const rows: [string, string, string?][] = [
      ["Frames/s", idle ? "—" : fps.toFixed(1)],
      ["Segmented", String(stats.frames)],
      ["Source frames", String(stats.sourceFrames)],
      ["Dropped", String(stats.dropped)],
      ...CHARTED.map((k): [string, string, string] => [k[0].toUpperCase() + k.slice(1), fmt(s[k]), CHART_COLORS[k]]),
      ["Waiting for frames", fmt(s.idle)],
      ["Latency", fmt(stats.averages().latency)],
    ];
    if (extra.effectMs !== null) rows.push(["Effect model", fmt(extra.effectMs)]);
    if (extra.loadMs !== null) rows.push(["Model load", fmt(extra.loadMs)]);
    for (const [name, value, color] of rows) this.cell(name, color).textContent = value;
    this.label("Source frames", SOURCE_FRAMES[extra.source ?? "camera"]);
    drawChart(this.chart, stats.history());
    const m = stats.memory;
    const parts: string[] = [];
    if (m.jsHeapMB !== null) parts.push(`JS heap ${m.jsHeapMB.toFixed(0)} MB`);
    if (m.totalMB !== null)
      parts.push(`page total ${m.totalMB.toFixed(0)} MB (workers + WASM ${m.workersMB?.toFixed(0)} MB)`);
    this.memory.textContent = parts.length ? `Memory: ${parts.join(" · ")}` : "";
  }

  /** Rename row `name` (its key stays). */
  private label(name: string, text: string): void {
    const dt = this.cells.get(name)?.previousElementSibling;
    if (dt && dt.textContent !== text) dt.textContent = text;
  }

  /** The value cell of row `name`, created once (rows only ever get added). */
  private cell(name: string, color?: string): HTMLElement {
    let dd = this.cells.get(name);
    if (!dd) {
      const dt = document.createElement("dt");
      dt.textContent = name;
      if (color) {
        dt.style.setProperty("--dot", color);
        dt.classList.add("dot");
      }
      dd = document.createElement("dd");
      this.list.append(dt, dd);
      this.cells.set(name, dd);
    }
    return dd;
  }
}

/** Stacked bars of the per-frame step times, newest on the right, with a 33 ms (30 fps) guide. */
function drawChart(canvas: HTMLCanvasElement, samples: readonly Sample[]): void {
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
  const sum = (s: Sample) => CHARTED.reduce((t, k) => t + s[k], 0);
  const peak = Math.max(50, ...samples.map(sum));
  const scale = (height - 4 * ratio) / peak;
  const bar = width / HISTORY;
  const offset = HISTORY - samples.length;
  samples.forEach((s, i) => {
    let y = height;
    for (const key of CHARTED) {
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
