/**
 * The liveseg page: sources → segmenter (worker) → WebGL2 renderer, plus pickers, legend, effects and stats.
 *
 * At most one frame is in flight: frames that arrive while the worker is busy are dropped (counted), never
 * queued. The frame being segmented is uploaded when it is captured and shown together with its labels.
 */

import "../style.css";

import { createImageModel, createSegmenter, pickVariant, sizesOf } from "../lib";
import type { BackendChoice, ImageModel, Precision, RGB, SegmentationResult, Segmenter } from "../lib";
import { LegendView } from "./legend";
import { fetchModels, modelLabel, modelNote, precisionOptions, sizeKey, sizeOptions } from "./models";
import type { ModelEntry, Options } from "./models";
import { readParams } from "./params";
import { Renderer } from "./renderer";
import type { ClassStyle, EffectKind, ViewMode, ViewSettings } from "./renderer";
import { download, maskPng, timestamp } from "./save";
import { listCameras, openCamera, openFile, openImage, openVideo, RESOLUTIONS } from "./sources";
import type { Source } from "./sources";
import { CHART_COLORS, drawChart, Stats } from "./stats";
import type { Averages, Memory } from "./stats";

const VERSION = "0.1.0";
const FOREGROUND_NAMES = /\b(person|people|pedestrian|rider|bicyclist|cyclist|human|car)s?\b/i;

type State = "idle" | "loading" | "ready" | "error";

/** What `window.liveseg.stats()` returns. */
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
  fallbacks: string[];
  threads: number | null;
  loadMs: number | null;
  crossOriginIsolated: boolean;
  source: string | null;
  sourceSize: [number, number] | null;
  frames: number;
  dropped: number;
  fps: number;
  avg: Averages;
  effectMs: number | null;
  legend: { id: number; name: string; share: number }[];
  memory: Memory;
}

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

function setOptions(select: HTMLSelectElement, options: Options[], value: string | null): void {
  select.replaceChildren(...options.map((o) => new Option(o.label, o.value)));
  if (value !== null && options.some((o) => o.value === value)) select.value = value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function hexToRgb(hex: string): RGB {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function fmt(ms: number): string {
  return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

/** A soft default backdrop for "replace background: image" until the user picks one. */
function defaultBackdrop(): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.width = 640;
  canvas.height = 480;
  // A CPU-backed canvas: WebGL then uploads it without reading pixels back from the GPU.
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) return canvas;
  const sky = ctx.createLinearGradient(0, 0, 0, 480);
  sky.addColorStop(0, "#1d2b64");
  sky.addColorStop(0.6, "#7b4397");
  sky.addColorStop(1, "#f8b195");
  ctx.fillStyle = sky;
  ctx.fillRect(0, 0, 640, 480);
  for (let i = 0; i < 18; i++) {
    const x = (i * 137) % 640;
    const y = 60 + ((i * 89) % 300);
    const r = 18 + ((i * 29) % 50);
    const glow = ctx.createRadialGradient(x, y, 0, x, y, r);
    glow.addColorStop(0, "rgba(255,255,255,0.35)");
    glow.addColorStop(1, "rgba(255,255,255,0)");
    ctx.fillStyle = glow;
    ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
  }
  return canvas;
}

class App {
  private readonly params = readParams();
  private readonly stats = new Stats();
  private readonly style: ClassStyle = { hidden: new Set(), highlighted: new Set(), foreground: new Set() };
  private readonly view: ViewSettings;
  private readonly legend: LegendView;
  private renderer: Renderer | null = null;
  private models: ModelEntry[] = [];
  private model: ModelEntry | null = null;
  private precision: Precision | null;
  private size: string | null;
  private backend: BackendChoice;
  private threads: number;
  private segmenter: Segmenter | null = null;
  private generation = 0;
  private state: State = "idle";
  private error: string | null = null;
  private readyWaiters: { resolve(s: Snapshot): void; reject(e: Error): void }[] = [];
  private source: Source | null = null;
  private sourceToken = 0;
  private inFlight = false;
  private last: SegmentationResult | null = null;
  private imageModel: ImageModel | null = null;
  private imageModelFile: File | null = null;
  private effectMs: number | null = null;
  private renderQueued = false;

  constructor() {
    const p = this.params;
    this.precision = p.precision;
    this.size = p.size;
    this.backend = p.backend;
    this.threads = p.threads;
    this.view = {
      mode: p.mode,
      opacity: p.opacity,
      smooth: true,
      effect: p.effect,
      color: hexToRgb($<HTMLInputElement>("effect-color").value),
      blur: Number($<HTMLInputElement>("blur").value),
      strength: 1,
    };
    this.legend = new LegendView($("legend"), $("legend-reset"), this.style, () => this.classesChanged());
  }

  async start(): Promise<void> {
    this.bindControls();
    try {
      this.renderer = new Renderer($<HTMLCanvasElement>("view"));
      const backdrop = defaultBackdrop();
      this.renderer.setBackground(backdrop, backdrop.width, backdrop.height);
    } catch (error) {
      this.fail(errorText(error), true);
      return;
    }
    setInterval(() => this.refreshStats(), 250);
    setInterval(() => void this.stats.measureMemory(), 3000);
    void this.fillCameras();
    try {
      this.models = await fetchModels();
    } catch (error) {
      this.fail(errorText(error), true);
      return;
    }
    const wanted = this.params.model;
    const entry = wanted ? this.models.find((m) => m.id === wanted) : this.models[0];
    if (!entry) {
      const ids = this.models.map((m) => m.id).join(", ");
      this.fail(`There is no model "${wanted}" on this server; choose one of: ${ids}.`, true);
      return;
    }
    setOptions(
      $<HTMLSelectElement>("model"),
      this.models.map((m) => ({ value: m.id, label: modelLabel(m) })),
      entry.id,
    );
    this.selectModel(entry);
    void this.openInitialSource();
  }

  // ----- model -------------------------------------------------------------------------------------------

  private selectModel(entry: ModelEntry): void {
    this.model = entry;
    const m = entry.manifest;
    const precisions = precisionOptions(m, null).map((o) => o.value);
    if (!this.precision || !precisions.includes(this.precision)) {
      this.precision = precisions.includes(m.default_variant?.precision) ? m.default_variant.precision : (precisions[0] as Precision);
    }
    this.fixSize();
    this.style.hidden.clear();
    this.style.highlighted.clear();
    this.style.foreground = new Set(m.classes.filter((c) => FOREGROUND_NAMES.test(c.name)).map((c) => c.id));
    this.fillForeground();
    this.refreshModelPickers();
    $("model-note").textContent = modelNote(entry);
    void this.loadSegmenter();
  }

  /** Keep the chosen size when the precision has it, else the precision's default size. */
  private fixSize(): void {
    if (!this.model || !this.precision) return;
    const sizes = sizesOf(this.model.manifest, this.precision).map(sizeKey);
    if (!this.size || !sizes.includes(this.size)) {
      const v = pickVariant(this.model.manifest, this.precision);
      this.size = sizeKey([v.height, v.width]);
    }
  }

  private refreshModelPickers(): void {
    if (!this.model || !this.precision || !this.size) return;
    const m = this.model.manifest;
    const [h, w] = this.size.split("x").map(Number);
    setOptions($<HTMLSelectElement>("precision"), precisionOptions(m, [h, w]), this.precision);
    const sizes = sizeOptions(m, this.precision);
    setOptions($<HTMLSelectElement>("size"), sizes, this.size);
    $<HTMLSelectElement>("size").disabled = sizes.length < 2;
  }

  private async loadSegmenter(): Promise<void> {
    if (!this.model || !this.precision || !this.size) return;
    const generation = ++this.generation;
    this.segmenter?.close();
    this.segmenter = null;
    this.inFlight = false;
    this.last = null;
    this.renderer?.clearLabels();
    this.stats.reset();
    this.setState("loading");
    const label = `${this.model.id} · ${this.precision} · ${this.size.replace("x", "×")}`;
    $("status-model").textContent = label;
    this.showLoading(`Loading ${label}…`, 0);
    try {
      const segmenter = await createSegmenter({
        model: this.model.url,
        manifest: this.model.manifest,
        precision: this.precision,
        size: this.size,
        backend: this.backend,
        threads: this.threads,
        onProgress: (loaded, total) =>
          this.showLoading(`Loading ${label}… ${(loaded / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB`, loaded / total),
      });
      if (generation !== this.generation) {
        segmenter.close();
        return;
      }
      this.segmenter = segmenter;
      this.renderer?.setClasses(segmenter.classes, this.style);
      this.hideLoading();
      this.setState("ready");
      this.showBackend();
      if (this.source?.kind === "image") void this.process(this.source);
    } catch (error) {
      if (generation !== this.generation) return;
      this.hideLoading();
      this.fail(errorText(error), true);
    }
  }

  private showBackend(): void {
    const s = this.segmenter;
    const name = s ? { webgpu: "WebGPU", webgl: "WebGL", wasm: "WASM" }[s.backend] : "—";
    const detail = s?.backend === "wasm" ? `${name} · ${s.threads} thread${s.threads > 1 ? "s" : ""}` : name;
    $("status-backend").textContent = detail;
    $("active-backend").textContent = detail;
    const fallbacks = s?.fallbacks ?? [];
    const note = $("fallback-note");
    note.textContent = fallbacks.length ? ` (fell back: ${fallbacks.map((f) => f.split(":")[0]).join(", ")} unavailable)` : "";
    note.title = fallbacks.join("\n");
  }

  // ----- sources -----------------------------------------------------------------------------------------

  private async openInitialSource(): Promise<void> {
    const { source, src, autostart, resolution } = this.params;
    if (source === "camera" && autostart) await this.useSource(() => openCamera(this.cameraId(), resolution));
    else if (source === "video" && src) await this.useSource(() => openVideo(src, src));
    else if (source === "image" && src) await this.useSource(() => openImage(src, src));
  }

  private cameraId(): string | null {
    return $<HTMLSelectElement>("camera").value || null;
  }

  private resolution(): [number, number] {
    const [w, h] = $<HTMLSelectElement>("resolution").value.split("x").map(Number);
    return [w, h];
  }

  private async fillCameras(): Promise<void> {
    const select = $<HTMLSelectElement>("camera");
    const current = select.value;
    const cameras = await listCameras().catch(() => []);
    const options = [{ value: "", label: "Default camera" }];
    cameras.forEach((c, i) => {
      if (c.deviceId) options.push({ value: c.deviceId, label: c.label || `Camera ${i + 1}` });
    });
    setOptions(select, options, current);
  }

  private async useSource(open: () => Promise<Source>): Promise<void> {
    const token = ++this.sourceToken;
    this.hideMessage();
    let source: Source;
    try {
      source = await open();
    } catch (error) {
      if (token === this.sourceToken) this.fail(errorText(error));
      return;
    }
    if (token !== this.sourceToken) {
      source.stop();
      return;
    }
    this.source?.stop();
    this.source = source;
    this.inFlight = false;
    this.stats.reset();
    this.legend.clear();
    this.renderer?.clearLabels();
    $("placeholder").hidden = true;
    $<HTMLButtonElement>("source-stop").disabled = false;
    $("source-label").textContent = `${source.kind}: ${source.label} (${source.width} × ${source.height})`;
    if (source.kind === "camera") void this.fillCameras();
    source.start(() => this.onFrame(source));
  }

  private stopSource(): void {
    this.sourceToken++;
    this.source?.stop();
    this.source = null;
    this.legend.clear();
    this.renderer?.clearLabels();
    $("placeholder").hidden = false;
    $<HTMLButtonElement>("source-stop").disabled = true;
    $("source-label").textContent = "No source.";
    this.enableSaving(false);
  }

  private onFrame(source: Source): void {
    if (source !== this.source || !this.renderer) return;
    if (this.inFlight) {
      this.stats.dropped++;
      return;
    }
    if (this.segmenter) {
      void this.process(source);
      return;
    }
    // No model yet: show the frames as they come.
    this.renderer.capture(source.element, source.width, source.height);
    this.renderer.commit(null);
    this.requestRender();
  }

  private async process(source: Source): Promise<void> {
    const segmenter = this.segmenter;
    const renderer = this.renderer;
    if (!segmenter || !renderer) return;
    const generation = this.generation;
    this.inFlight = true;
    const t0 = performance.now();
    try {
      renderer.capture(source.element, source.width, source.height);
      const bitmap = await createImageBitmap(source.element);
      const model = this.view.effect === "model" ? this.imageModel : null;
      const [result, styled] = await Promise.all([
        segmenter.segment(bitmap, { transfer: true }),
        model ? model.run(source.element) : null,
      ]);
      if (generation !== this.generation || source !== this.source) {
        segmenter.recycle(result);
        return;
      }
      renderer.commit(result);
      if (styled && model) {
        renderer.setStyled(styled.pixels, styled.width, styled.height);
        model.recycle(styled.pixels);
        this.effectMs = styled.ms;
      }
      if (this.last) segmenter.recycle(this.last);
      this.last = result;
      const render = renderer.render(this.view);
      this.stats.add({ ...result.timings, render, latency: performance.now() - t0 });
      this.legend.update(result.legend);
      this.enableSaving(true);
    } catch (error) {
      if (generation === this.generation && source === this.source) this.fail(`Segmentation failed: ${errorText(error)}`);
    } finally {
      if (generation === this.generation) this.inFlight = false;
    }
  }

  // ----- view, legend and effects ------------------------------------------------------------------------

  private requestRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.renderer?.render(this.view);
    });
  }

  private classesChanged(): void {
    if (this.model) this.renderer?.setClasses(this.model.manifest.classes, this.style);
    this.requestRender();
  }

  private fillForeground(): void {
    const box = $("foreground");
    const chips = (this.model?.manifest.classes ?? []).map((c) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.setAttribute("aria-pressed", String(this.style.foreground.has(c.id)));
      chip.dataset.id = String(c.id);
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = `rgb(${c.color.join(",")})`;
      chip.append(swatch, c.name);
      chip.addEventListener("click", () => {
        const on = !this.style.foreground.has(c.id);
        if (on) this.style.foreground.add(c.id);
        else this.style.foreground.delete(c.id);
        chip.setAttribute("aria-pressed", String(on));
        this.classesChanged();
      });
      return chip;
    });
    box.replaceChildren(...chips);
  }

  private setEffect(effect: EffectKind): void {
    this.view.effect = effect;
    $<HTMLSelectElement>("effect").value = effect;
    for (const el of document.querySelectorAll<HTMLElement>("[data-effects]")) {
      el.hidden = !(el.dataset.effects ?? "").split(" ").includes(effect);
    }
    this.requestRender();
  }

  private setMode(mode: ViewMode): void {
    this.view.mode = mode;
    $("stage").dataset.mode = mode;
    for (const b of document.querySelectorAll<HTMLButtonElement>("#mode button")) {
      b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    }
    this.requestRender();
  }

  private async loadImageModel(): Promise<void> {
    const file = this.imageModelFile;
    this.imageModel?.close();
    this.imageModel = null;
    this.effectMs = null;
    if (!file) return;
    const note = $("effect-note");
    note.textContent = `Loading ${file.name}…`;
    try {
      const scale = Number($<HTMLSelectElement>("effect-scale").value) === 255 ? 255 : 1;
      const v = this.segmenter?.variant;
      const model = await createImageModel({
        bytes: await file.arrayBuffer(),
        scale,
        backend: this.backend,
        threads: this.threads,
        size: v ? [v.height, v.width] : undefined,
      });
      if (file !== this.imageModelFile) {
        model.close();
        return;
      }
      this.imageModel = model;
      note.textContent = `${file.name}: ${model.inputLayout} at ${model.height} × ${model.width}, on ${model.backend}.`;
      if (this.source?.kind === "image" && this.segmenter && !this.inFlight) void this.process(this.source);
    } catch (error) {
      note.textContent = errorText(error);
    }
  }

  // ----- saving ------------------------------------------------------------------------------------------

  private enableSaving(on: boolean): void {
    $<HTMLButtonElement>("save-mask").disabled = !on;
    $<HTMLButtonElement>("save-view").disabled = !on;
  }

  private async saveMask(): Promise<void> {
    if (!this.last || !this.model) return;
    download(await maskPng(this.last, this.model.manifest.classes, this.style.hidden), `liveseg-mask-${timestamp()}.png`);
  }

  private async saveView(): Promise<void> {
    if (!this.renderer) return;
    download(await this.renderer.snapshot(this.view), `liveseg-view-${timestamp()}.png`);
  }

  // ----- state, messages and stats -----------------------------------------------------------------------

  private setState(state: State): void {
    this.state = state;
    if (state === "ready") {
      this.error = null;
      this.hideMessage();
      const snapshot = this.snapshot();
      this.readyWaiters.splice(0).forEach((w) => w.resolve(snapshot));
    }
  }

  /** Show an error; `fatal` ones (model, backend, renderer) also put the page in the error state. */
  private fail(text: string, fatal = false): void {
    $("message-text").textContent = text;
    $("message").hidden = false;
    if (fatal) {
      this.state = "error";
      this.error = text;
      this.readyWaiters.splice(0).forEach((w) => w.reject(new Error(text)));
    }
  }

  private hideMessage(): void {
    $("message").hidden = true;
  }

  private showLoading(text: string, fraction: number): void {
    $("loading").hidden = false;
    $("loading-text").textContent = text;
    $("loading-bar").style.width = `${Math.round(Math.min(1, fraction) * 100)}%`;
  }

  private hideLoading(): void {
    $("loading").hidden = true;
  }

  whenReady(): Promise<Snapshot> {
    if (this.state === "ready") return Promise.resolve(this.snapshot());
    if (this.state === "error") return Promise.reject(new Error(this.error ?? "error"));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  snapshot(): Snapshot {
    const s = this.segmenter;
    return {
      version: VERSION,
      state: this.state,
      error: this.error,
      model: this.model?.id ?? null,
      dataset: this.model?.manifest.dataset ?? null,
      precision: this.precision,
      size: this.size,
      backend: s?.backend ?? null,
      requestedBackend: this.backend,
      fallbacks: s?.fallbacks ?? [],
      threads: s?.threads ?? null,
      loadMs: s?.loadMs ?? null,
      crossOriginIsolated,
      source: this.source?.kind ?? null,
      sourceSize: this.source ? [this.source.width, this.source.height] : null,
      frames: this.stats.frames,
      dropped: this.stats.dropped,
      fps: this.stats.fps(),
      avg: this.stats.averages(),
      effectMs: this.effectMs,
      legend: this.legend.current.map((e) => ({ id: e.id, name: e.name, share: e.share })),
      memory: { ...this.stats.memory },
    };
  }

  private refreshStats(): void {
    const a = this.stats.averages();
    const fps = this.stats.fps();
    // A still image is segmented once: a rate means nothing there.
    $("status-fps").textContent = this.source?.kind === "image" ? "still" : `${fps.toFixed(1)} fps`;
    const rows: [string, string, string?][] = [
      ["Frames/s", fps.toFixed(1)],
      ["Segmented", String(this.stats.frames)],
      ["Dropped", String(this.stats.dropped)],
      ["Preprocess", fmt(a.preprocess), CHART_COLORS.preprocess],
      ["Inference", fmt(a.inference), CHART_COLORS.inference],
      ["Readback", fmt(a.readback), CHART_COLORS.readback],
      ["Render", fmt(a.render), CHART_COLORS.render],
      ["Latency", fmt(a.latency)],
    ];
    if (this.effectMs !== null) rows.push(["Effect model", fmt(this.effectMs)]);
    if (this.segmenter) rows.push(["Model load", fmt(this.segmenter.loadMs)]);
    $("stats").replaceChildren(
      ...rows.flatMap(([k, v, color]) => {
        const dt = document.createElement("dt");
        dt.textContent = k;
        if (color) dt.style.setProperty("--dot", color);
        dt.classList.toggle("dot", Boolean(color));
        const dd = document.createElement("dd");
        dd.textContent = v;
        return [dt, dd];
      }),
    );
    drawChart($<HTMLCanvasElement>("chart"), this.stats.history());
    const m = this.stats.memory;
    const parts: string[] = [];
    if (m.jsHeapMB !== null) parts.push(`JS heap ${m.jsHeapMB.toFixed(0)} MB`);
    if (m.totalMB !== null) parts.push(`page total ${m.totalMB.toFixed(0)} MB (workers + WASM ${m.workersMB?.toFixed(0)} MB)`);
    $("memory").textContent = parts.length ? `Memory: ${parts.join(" · ")}` : "";
  }

  // ----- controls ----------------------------------------------------------------------------------------

  private bindControls(): void {
    const camera = () => void this.useSource(() => openCamera(this.cameraId(), this.resolution()));
    $("start-camera").addEventListener("click", camera);
    $("source-camera").addEventListener("click", camera);
    $("source-stop").addEventListener("click", () => this.stopSource());
    const fileInput = (id: string) => {
      const input = $<HTMLInputElement>(id);
      input.addEventListener("change", () => {
        const file = input.files?.[0];
        input.value = "";
        if (file) void this.useSource(() => openFile(file));
      });
    };
    ["open-file", "source-video", "source-image"].forEach(fileInput);

    const res = $<HTMLSelectElement>("resolution");
    setOptions(
      res,
      RESOLUTIONS.map(([w, h]) => ({ value: `${w}x${h}`, label: `${w} × ${h}` })),
      this.params.resolution.join("x"),
    );
    const restartCamera = () => {
      if (this.source?.kind === "camera") camera();
    };
    res.addEventListener("change", restartCamera);
    $("camera").addEventListener("change", restartCamera);

    $("model").addEventListener("change", (e) => {
      const entry = this.models.find((m) => m.id === (e.target as HTMLSelectElement).value);
      if (entry) this.selectModel(entry);
    });
    $("precision").addEventListener("change", (e) => {
      this.precision = (e.target as HTMLSelectElement).value as Precision;
      this.fixSize();
      this.refreshModelPickers();
      void this.loadSegmenter();
    });
    $("size").addEventListener("change", (e) => {
      this.size = (e.target as HTMLSelectElement).value;
      this.refreshModelPickers();
      void this.loadSegmenter();
    });
    const backend = $<HTMLSelectElement>("backend");
    backend.value = this.backend;
    backend.addEventListener("change", () => {
      this.backend = backend.value as BackendChoice;
      void this.loadSegmenter();
    });
    const threads = $<HTMLInputElement>("threads");
    threads.value = String(this.threads);
    threads.addEventListener("change", () => {
      this.threads = Math.max(0, Math.round(Number(threads.value) || 0));
      void this.loadSegmenter();
    });

    for (const b of document.querySelectorAll<HTMLButtonElement>("#mode button")) {
      b.addEventListener("click", () => this.setMode(b.dataset.mode as ViewMode));
    }
    this.setMode(this.view.mode);
    this.bindSlider("opacity", (v) => `${Math.round(v * 100)}%`, (v) => (this.view.opacity = v), this.view.opacity);
    this.bindSlider("blur", (v) => `${v} px`, (v) => (this.view.blur = v), this.view.blur);
    this.bindSlider("strength", (v) => `${Math.round(v * 100)}%`, (v) => (this.view.strength = v), 1);
    const smooth = $<HTMLInputElement>("smooth");
    smooth.addEventListener("change", () => {
      this.view.smooth = smooth.checked;
      this.requestRender();
    });
    const effect = $<HTMLSelectElement>("effect");
    effect.addEventListener("change", () => this.setEffect(effect.value as EffectKind));
    this.setEffect(this.view.effect);
    $<HTMLInputElement>("effect-color").addEventListener("input", (e) => {
      this.view.color = hexToRgb((e.target as HTMLInputElement).value);
      this.requestRender();
    });
    const background = $<HTMLInputElement>("background");
    background.addEventListener("change", async () => {
      const file = background.files?.[0];
      if (!file || !this.renderer) return;
      try {
        const bitmap = await createImageBitmap(file);
        this.renderer.setBackground(bitmap, bitmap.width, bitmap.height);
        bitmap.close();
        this.requestRender();
      } catch {
        this.fail(`${file.name} is not an image this browser can decode.`);
      }
    });
    const modelFile = $<HTMLInputElement>("effect-model");
    modelFile.addEventListener("change", () => {
      this.imageModelFile = modelFile.files?.[0] ?? null;
      void this.loadImageModel();
    });
    $("effect-scale").addEventListener("change", () => void this.loadImageModel());

    $("save-mask").addEventListener("click", () => void this.saveMask());
    $("save-view").addEventListener("click", () => void this.saveView());
    $("message-close").addEventListener("click", () => this.hideMessage());
    $("chart-legend").replaceChildren(
      ...Object.entries(CHART_COLORS).map(([name, color]) => {
        const li = document.createElement("li");
        li.style.setProperty("--dot", color);
        li.textContent = name;
        return li;
      }),
    );
    this.bindDrop();
  }

  private bindSlider(id: string, label: (v: number) => string, set: (v: number) => void, initial: number): void {
    const input = $<HTMLInputElement>(id);
    const output = $(`${id}-value`);
    input.value = String(initial);
    output.textContent = label(initial);
    input.addEventListener("input", () => {
      const v = Number(input.value);
      set(v);
      output.textContent = label(v);
      this.requestRender();
    });
  }

  private bindDrop(): void {
    const stage = $("stage");
    const hint = $("drop-hint");
    stage.addEventListener("dragover", (e) => {
      e.preventDefault();
      hint.hidden = false;
    });
    stage.addEventListener("dragleave", () => (hint.hidden = true));
    stage.addEventListener("drop", (e) => {
      e.preventDefault();
      hint.hidden = true;
      const file = e.dataTransfer?.files[0];
      if (file) void this.useSource(() => openFile(file));
    });
    document.addEventListener("paste", (e) => {
      const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith("image/"));
      if (file) void this.useSource(() => openFile(file));
    });
  }
}

const app = new App();

/** The page's automation hook: tests and `liveseg bench browser` read stats and use the module API here. */
const hook = {
  version: VERSION,
  createSegmenter,
  createImageModel,
  stats: (): Snapshot => app.snapshot(),
  ready: (): Promise<Snapshot> => app.whenReady(),
};

declare global {
  interface Window {
    liveseg: typeof hook;
  }
}

window.liveseg = hook;
void app.start();
