/**
 * The page: wires the pickers, sources, pipeline, view, legend, effects and stats together, and keeps the
 * state that `window.liveseg` reports (its `Snapshot` type is generated from the Python one, see
 * `./snapshot-schema`).
 */

import { BACKEND_LABELS, createSegmenter } from "../lib";
import type { Segmenter } from "../lib";
import {
  autoModel,
  isPersonModel,
  isStreetModel,
  rememberedModel,
  rememberModel,
  sceneModels,
  sceneOf,
} from "./choice";
import type { Scene } from "./choice";
import { backendWarnings } from "./backend-check";
import { fetchEffects, ViewControls } from "./controls";
import { $, errorText } from "./dom";
import { defaultForeground, EffectModel, fillForeground } from "./effects";
import { LegendView } from "./legend";
import { Guidance } from "./guidance";
import { Message } from "./message";
import type { MessageExtras } from "./message";
import { fetchModels } from "./models";
import type { ModelEntry } from "./models";
import { readParams } from "./params";
import { ModelPickers } from "./pickers";
import type { ModelChoice } from "./pickers";
import { Pipeline } from "./pipeline";
import { SceneSwitch } from "./scene";
import { download, maskFile, MASK_FORMATS, resizeNearest, timestamp } from "./save";
import type { MaskFormat } from "./save";
import { SourceControls } from "./source-controls";
import { StabiliseControl } from "./stabilise-control";
import type { Source } from "./sources";
import type { Snapshot, State } from "./snapshot-schema";
import { median, STAGE_WINDOW, Stats } from "./stats";
import { StatsView } from "./stats-view";
import { VideoControls } from "./video-controls";
import { overlayOpacity } from "./view/options";
import type { ClassStyle, ViewSettings } from "./view/options";
import { createView, glRenderer } from "./view/view";
import type { View } from "./view/view";

/** liveseg.__version__, put in by the build (vite.config.ts) so the page and the Python package never differ. */
declare const __LIVESEG_VERSION__: string;
export const VERSION = __LIVESEG_VERSION__;
const STATS_REFRESH_MS = 250;
const NO_SOURCE = "No source: start the camera or open an image or video.";
const MEMORY_REFRESH_MS = 3000;

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

export class App {
  private readonly params = readParams();
  private readonly stats = new Stats();
  private readonly style: ClassStyle = { hidden: new Set(), highlighted: new Set(), foreground: new Set() };
  private readonly settings: ViewSettings;
  private readonly legend: LegendView;
  private readonly effectModel = new EffectModel($("effect-note"));
  private readonly glRenderer = glRenderer();
  private readonly message = new Message();
  private readonly videoControls = new VideoControls();
  private view: View | null = null;
  private pipeline: Pipeline | null = null;
  private controls: ViewControls | null = null;
  private sources: SourceControls | null = null;
  private statsView: StatsView | null = null;
  private pickers: ModelPickers | null = null;
  private scenes: SceneSwitch | null = null;
  private guidance: Guidance | null = null;
  private stabiliser: StabiliseControl | null = null;
  /** The user (or the URL) picked the model: sources no longer switch it. */
  private picked = false;
  private listing: Promise<void> | null = null;
  private model: ModelEntry | null = null;
  private choice: ModelChoice | null = null;
  private segmenter: Segmenter | null = null;
  private loads = 0;
  private state: State = "idle";
  private error: string | null = null;
  private readyWaiters: { resolve(s: Snapshot): void; reject(e: Error): void }[] = [];
  private source: Source | null = null;
  private sourceToken = 0;
  private renderQueued = false;

  constructor() {
    const p = this.params;
    this.settings = {
      mode: p.mode,
      opacity: p.opacity,
      smooth: true,
      effect: p.effect,
      color: [47, 125, 255],
      blur: 18,
      strength: 1,
    };
    this.legend = new LegendView(
      $("legend"),
      $("legend-reset"),
      this.style,
      () => this.classesChanged(),
      $("legend-action"),
    );
  }

  async start(): Promise<void> {
    try {
      this.view = createView($<HTMLCanvasElement>("view"), this.params.renderer, this.glRenderer);
      const backdrop = defaultBackdrop();
      this.view.setBackground(backdrop, backdrop.width, backdrop.height);
    } catch (error) {
      this.fail(errorText(error), true);
      return;
    }
    $("active-renderer").textContent = this.view.kind === "webgl" ? "WebGL" : "2D canvas";
    $("active-renderer").title = this.glRenderer ?? "no WebGL2";
    this.pipeline = new Pipeline(this.view, this.stats, this.settings, {
      shown: (result) => {
        this.legend.update(result.legend);
        this.controls?.enableSaving(true);
      },
      failed: (text) => this.fail(text),
      styled: (frame) => (this.settings.effect === "model" ? this.effectModel.run(frame) : null),
      recycleStyled: (output) => this.effectModel.recycle(output),
    });
    this.controls = new ViewControls(
      this.settings,
      {
        render: () => this.requestRender(),
        background: (file) => void this.setBackground(file),
        imageModel: (file, scale) => void this.loadImageModel(file, scale),
        saveMask: () => void this.saveMask(),
        saveView: () => void this.saveView(),
      },
      this.params.effectGiven,
    );
    this.stabiliser = new StabiliseControl(() => this.applyStabiliser());
    this.statsView = new StatsView(
      $("stats"),
      $<HTMLCanvasElement>("chart"),
      $("memory"),
      $("status-fps"),
      $("chart-legend"),
    );
    this.sources = new SourceControls(
      this.params,
      (open) => this.useSource(open),
      () => this.stopSource(),
    );
    setInterval(() => this.refreshStats(), STATS_REFRESH_MS);
    setInterval(() => void this.stats.measureMemory(), MEMORY_REFRESH_MS);
    this.pickers = new ModelPickers(
      this.params,
      (entry) => this.modelChanged(entry),
      (choice) => void this.loadSegmenter(choice),
      (entry) => this.remember(entry),
    );
    this.scenes = new SceneSwitch($("scene-start"), $("scene"), (scene) => this.chooseScene(scene));
    this.guidance = new Guidance((entry) => this.use(entry));
    this.bindModelList();
    void backendWarnings(this.glRenderer).then((w) => this.pickers?.setBackendWarnings(w));
    try {
      const models = await fetchModels();
      this.pickers.setModels(models, this.initialModel(models));
      this.controls.setEffectModels(await fetchEffects());
    } catch (error) {
      this.fail(errorText(error), true);
      return;
    }
    this.sources.openInitial();
  }

  // ----- model -------------------------------------------------------------------------------------------

  /** The URL's model, else the one the user picked last time (if still here), else the rule for the source. */
  private initialModel(models: ModelEntry[]): string {
    if (this.params.model) {
      this.picked = true;
      return this.params.model;
    }
    const remembered = rememberedModel();
    if (remembered && models.some((m) => m.id === remembered)) {
      this.picked = true;
      return remembered;
    }
    return autoModel(models, this.params.source).id;
  }

  /** The user picked `entry` (picker, scene switch, guidance): remembered, and sources no longer switch it. */
  private remember(entry: ModelEntry): void {
    this.picked = true;
    rememberModel(entry.id);
  }

  private use(entry: ModelEntry): void {
    this.remember(entry);
    this.pickers?.choose(entry.id);
  }

  private chooseScene(scene: Scene): void {
    const entry = sceneModels(this.pickers?.entries ?? [])[scene];
    if (entry) this.use(entry);
  }

  /** Unless the user picked a model, each source gets the model its rule gives (choice.ts). */
  private followSource(source: Source): void {
    const models = this.pickers?.entries ?? [];
    if (!this.picked && models.length) this.pickers?.choose(autoModel(models, source.kind).id);
  }

  /** The model list is read again whenever the picker is opened, so a model pulled meanwhile appears. */
  private bindModelList(): void {
    const select = $<HTMLSelectElement>("model");
    const reread = () => void this.rereadModels();
    select.addEventListener("pointerdown", reread);
    select.addEventListener("focus", reread);
    $("model-section").addEventListener("toggle", reread);
  }

  private rereadModels(): Promise<void> {
    this.listing ??= fetchModels()
      .then((models) => {
        this.pickers?.refresh(models);
        this.showChoice();
      })
      .catch((error: unknown) => this.fail(errorText(error)))
      .finally(() => (this.listing = null));
    return this.listing;
  }

  /** The scene switch and the street-model guidance, for the current model and source. */
  private showChoice(): void {
    const models = this.pickers?.entries ?? [];
    const current = this.pickers?.current ?? null;
    const scenes = sceneModels(models);
    this.scenes?.show(Boolean(scenes.people && scenes.street), sceneOf(current, models), this.source === null);
    const street = current && isStreetModel(current.manifest) ? current : null;
    const camera = this.source?.kind === "camera";
    const personOnFile = Boolean(current && isPersonModel(current.manifest) && this.source && !camera);
    this.guidance?.update(street, camera, scenes.people ?? null, personOnFile);
  }

  private modelChanged(entry: ModelEntry): void {
    this.model = entry;
    const classes = entry.manifest.classes;
    this.style.hidden.clear();
    this.style.highlighted.clear();
    this.style.foreground = defaultForeground(classes);
    this.legend.clear();
    fillForeground($("foreground"), classes, this.style, () => this.classesChanged());
    // A person model is for cutting the person out: its class colours add nothing to that, a blurred
    // background shows it at once (one click away from None). Other models start with the class colours.
    this.controls?.suggestEffect(isPersonModel(entry.manifest) ? "blur" : "none");
    this.showChoice();
  }

  private async loadSegmenter(choice: ModelChoice): Promise<void> {
    const load = ++this.loads;
    this.choice = choice;
    this.segmenter = null;
    this.pipeline?.setSegmenter(null);
    this.setState("loading");
    const label = `${choice.entry.id} · ${choice.precision} · ${choice.size.replace("x", "×")}`;
    $("status-model").textContent = label;
    $("status-model").title = `Model: ${label}`;
    this.showBackend();
    this.showLoading(`Loading ${label}…`, 0);
    try {
      const segmenter = await createSegmenter({
        model: choice.entry.url,
        manifest: choice.entry.manifest,
        precision: choice.precision,
        size: choice.size,
        backend: choice.backend,
        threads: choice.threads,
        stabilise: this.stabiliser?.strength ?? true,
        onProgress: (loaded, total) =>
          this.showLoading(
            `Loading ${label}… ${(loaded / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB`,
            loaded / total,
          ),
      });
      if (load !== this.loads) {
        segmenter.close();
        return;
      }
      this.segmenter = segmenter;
      this.view?.setClasses(segmenter.classes, this.style);
      this.pipeline?.setSegmenter(segmenter);
      this.hideLoading();
      this.setState("ready");
      this.showBackend();
    } catch (error) {
      if (load !== this.loads) return;
      this.hideLoading();
      this.failedToLoad(choice, errorText(error));
    }
  }

  /** A backend chosen by name that cannot run here: one sentence, the runtime's words as details, and the way
   * out (Auto) one click away. */
  private failedToLoad(choice: ModelChoice, text: string): void {
    const prefix = "No inference backend could run the model (";
    const at = text.indexOf(prefix);
    if (choice.backend === "auto" || at < 0) {
      this.fail(text, true);
      return;
    }
    const name = BACKEND_LABELS[choice.backend];
    this.fail(
      `${name} cannot run this model in this browser; switch to Auto to use the fastest backend that works.`,
      true,
      {
        action: { label: "Switch to Auto", run: () => this.pickers?.useBackend("auto") },
        details: text.slice(at + prefix.length).replace(/\)\.$/, ""),
      },
    );
  }

  private showBackend(): void {
    const s = this.segmenter;
    const name = s ? BACKEND_LABELS[s.backend] : "—";
    const detail = s?.backend === "wasm" ? `${name} · ${s.threads} thread${s.threads > 1 ? "s" : ""}` : name;
    $("status-backend").textContent = detail;
    $("active-backend").textContent = detail;
    const fallbacks = s?.fallbacks ?? [];
    const note = $("fallback-note");
    note.textContent = fallbacks.length ? ` (passed over: ${fallbacks.map((f) => f.split(":")[0]).join(", ")})` : "";
    note.title = fallbacks.join("\n");
  }

  // ----- sources -----------------------------------------------------------------------------------------

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
    this.source = source;
    this.stabiliser?.follow(source.kind);
    this.applyStabiliser();
    this.followSource(source);
    this.legend.clear("No frame segmented yet.");
    this.showStage(source);
    this.sources?.showSource(source);
    this.pipeline?.setSource(source);
    this.showChoice();
  }

  private stopSource(): void {
    this.sourceToken++;
    this.source = null;
    this.pipeline?.setSource(null);
    this.legend.clear(NO_SOURCE);
    this.showStage(null);
    this.sources?.showSource(null);
    this.controls?.enableSaving(false);
    this.showChoice();
  }

  private applyStabiliser(): void {
    if (this.stabiliser) this.segmenter?.setOptions({ stabilise: this.stabiliser.strength });
  }

  /** The view shows only while there is a source: after Stop the start screen is shown over an empty stage,
   * not over the last frame. A video file gets play, pause and seek. */
  private showStage(source: Source | null): void {
    $("view").style.visibility = source ? "" : "hidden";
    this.videoControls.attach(
      source?.kind === "video" && source.element instanceof HTMLVideoElement ? source.element : null,
    );
  }

  // ----- view and effects --------------------------------------------------------------------------------

  private requestRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.view?.render(this.settings);
    });
  }

  private classesChanged(): void {
    if (this.model) this.view?.setClasses(this.model.manifest.classes, this.style);
    this.requestRender();
  }

  private async setBackground(file: File): Promise<void> {
    try {
      const bitmap = await createImageBitmap(file);
      this.view?.setBackground(bitmap, bitmap.width, bitmap.height);
      this.requestRender();
    } catch {
      this.fail(`${file.name} is not an image this browser can decode; try a PNG or JPEG.`);
    }
  }

  private async loadImageModel(file: File | null, scale: 1 | 255): Promise<void> {
    const v = this.segmenter?.variant;
    const request =
      file && this.choice ? { file, scale, backend: this.choice.backend, threads: this.choice.threads } : null;
    const ready = await this.effectModel.load(request && { ...request, size: v ? [v.height, v.width] : undefined });
    if (ready) this.pipeline?.refresh();
  }

  /** The mask at the source's size (nearest: no new ids), in the format picked beside the button. */
  private async saveMask(): Promise<void> {
    const result = this.pipeline?.result;
    if (!result || !this.model) return;
    const picked = $<HTMLSelectElement>("mask-format").value as MaskFormat;
    const format = MASK_FORMATS.includes(picked) ? picked : "color";
    const map = this.source ? resizeNearest(result, this.source.width, this.source.height) : result;
    const [blob, suffix] = await maskFile(format, map, this.model.manifest.classes, this.style.hidden);
    download(blob, `liveseg-mask-${timestamp()}${suffix}`);
  }

  private async saveView(): Promise<void> {
    if (!this.view) return;
    download(await this.view.snapshot(this.settings), `liveseg-view-${timestamp()}.png`);
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
  private fail(text: string, fatal = false, extras: MessageExtras = {}): void {
    this.message.show(text, extras);
    if (fatal) {
      this.state = "error";
      this.error = text;
      this.readyWaiters.splice(0).forEach((w) => w.reject(new Error(text)));
    }
  }

  private hideMessage(): void {
    this.message.hide();
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
    const c = this.choice;
    return {
      version: VERSION,
      state: this.state,
      error: this.error,
      model: c?.entry.id ?? null,
      dataset: c?.entry.manifest.dataset ?? null,
      precision: c?.precision ?? null,
      size: c?.size ?? null,
      backend: s?.backend ?? null,
      requestedBackend: c?.backend ?? this.params.backend,
      modelPicked: this.picked,
      effect: this.settings.effect,
      overlayOpacity: overlayOpacity(this.settings),
      fallbacks: s?.fallbacks ?? [],
      threads: s?.threads ?? null,
      loadMs: s?.loadMs ?? null,
      crossOriginIsolated,
      renderer: this.view?.kind ?? null,
      glRenderer: this.glRenderer,
      source: this.source?.kind ?? null,
      sourceSize: this.source ? [this.source.width, this.source.height] : null,
      frames: this.stats.frames,
      sourceFrames: this.stats.sourceFrames,
      dropped: this.stats.dropped,
      fps: this.stats.fps(),
      avg: this.stats.averages(),
      stages: this.stats.stages(),
      effectMs: this.effectModel.lastMs,
      stabilise: {
        on: this.stabiliser?.on ?? false,
        strength: this.stabiliser?.strength ?? 0,
        ms: median(
          this.stats
            .history()
            .slice(-STAGE_WINDOW)
            .map((s) => s.stabilise),
        ),
      },
      legend: this.legend.current.map((e) => ({ id: e.id, name: e.name, share: e.share })),
      memory: { ...this.stats.memory },
    };
  }

  private refreshStats(): void {
    this.statsView?.update(this.stats, {
      source: this.source?.kind ?? null,
      effectMs: this.effectModel.lastMs,
      loadMs: this.segmenter?.loadMs ?? null,
    });
  }
}
