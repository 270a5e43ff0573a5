/** The model pickers: model, precision, input size, backend and threads; any change asks for a reload. */

import { BACKEND_CHOICES, BACKEND_LABELS, pickVariant, sizesOf } from "../lib";
import type { Backend, BackendChoice, Precision } from "../lib";
import type { BackendWarning } from "./backend-check";
import { $, setOptions } from "./dom";
import { modelNote, modelOptions, precisionOptions, sizeKey, sizeOptions, streetOnlyHint } from "./models";
import type { ModelEntry } from "./models";
import type { Params } from "./params";

export interface ModelChoice {
  entry: ModelEntry;
  precision: Precision;
  size: string;
  backend: BackendChoice;
  threads: number;
}

export class ModelPickers {
  private models: ModelEntry[] = [];
  private entry: ModelEntry | null = null;
  private precision: Precision | null;
  private size: string | null;
  private backend: BackendChoice;
  private threads: number;
  private warnings: Partial<Record<Backend, BackendWarning>> = {};
  /** WASM threads beyond the cores only slow it down (BENCHMARKS.md, "Design measurements"). */
  private readonly maxThreads = Math.min(32, navigator.hardwareConcurrency || 32);

  constructor(
    params: Params,
    /** The model changed (before `reload`): class-dependent state starts over. */
    private readonly modelChanged: (entry: ModelEntry) => void,
    private readonly reload: (choice: ModelChoice) => void,
    /** The user picked `entry` in the model picker (it is then selected and loaded as any other choice). */
    private readonly picked: (entry: ModelEntry) => void,
  ) {
    this.precision = params.precision;
    this.size = params.size;
    this.backend = params.backend;
    this.threads = Math.min(this.maxThreads, params.threads);
    this.bind();
  }

  get choice(): ModelChoice | null {
    const { entry, precision, size, backend, threads } = this;
    return entry && precision && size ? { entry, precision, size, backend, threads } : null;
  }

  get entries(): readonly ModelEntry[] {
    return this.models;
  }

  get current(): ModelEntry | null {
    return this.entry;
  }

  /** Offer `models` and select `wanted` (else the first); an unknown id is an error the page shows. */
  setModels(models: ModelEntry[], wanted: string | null): void {
    const entry = wanted ? models.find((m) => m.id === wanted) : models[0];
    if (!entry) {
      const ids = models.map((m) => m.id).join(", ");
      throw new Error(`There is no model "${wanted}" on this server; choose one of: ${ids}.`);
    }
    this.list(models, entry.id);
    this.select(entry);
  }

  /** A fresh list from the server: offered from now on; the running model stays selected and loaded. */
  refresh(models: ModelEntry[]): void {
    const current = this.entry;
    const keep = current && !models.some((m) => m.id === current.id) ? [...models, current] : models;
    this.list(keep, current?.id ?? null);
  }

  /** Select the model `id` (when it is not the current one already) and load it. */
  choose(id: string): void {
    const entry = this.models.find((m) => m.id === id);
    if (!entry || entry.id === this.entry?.id) return;
    $<HTMLSelectElement>("model").value = entry.id;
    this.select(entry);
  }

  private list(models: ModelEntry[], selected: string | null): void {
    this.models = models;
    setOptions($<HTMLSelectElement>("model"), modelOptions(models), selected);
    const hint = streetOnlyHint(models);
    $("model-hint").hidden = hint === null;
    $("model-hint").textContent = hint ?? "";
  }

  private select(entry: ModelEntry): void {
    this.entry = entry;
    const m = entry.manifest;
    const precisions = precisionOptions(m, null).map((o) => o.value as Precision);
    if (!this.precision || !precisions.includes(this.precision)) {
      this.precision = precisions.includes(m.default_variant?.precision) ? m.default_variant.precision : precisions[0];
    }
    this.fixSize();
    $("model-note").textContent = modelNote(entry);
    this.modelChanged(entry);
    this.changed();
  }

  /** Keep the chosen size when the precision has it, else the precision's default size. */
  private fixSize(): void {
    if (!this.entry || !this.precision) return;
    const sizes = sizesOf(this.entry.manifest, this.precision).map(sizeKey);
    if (!this.size || !sizes.includes(this.size)) {
      const v = pickVariant(this.entry.manifest, this.precision);
      this.size = sizeKey([v.height, v.width]);
    }
  }

  private changed(): void {
    const choice = this.choice;
    if (!choice) return;
    const m = choice.entry.manifest;
    const [h, w] = choice.size.split("x").map(Number);
    setOptions($<HTMLSelectElement>("precision"), precisionOptions(m, [h, w]), choice.precision);
    const sizes = sizeOptions(m, choice.precision);
    setOptions($<HTMLSelectElement>("size"), sizes, choice.size);
    $<HTMLSelectElement>("size").disabled = sizes.length < 2;
    this.reload(choice);
  }

  private bind(): void {
    $("model").addEventListener("change", (e) => {
      const entry = this.models.find((m) => m.id === (e.target as HTMLSelectElement).value);
      if (!entry) return;
      this.picked(entry);
      this.select(entry);
    });
    $("precision").addEventListener("change", (e) => {
      this.precision = (e.target as HTMLSelectElement).value as Precision;
      this.fixSize();
      this.changed();
    });
    $("size").addEventListener("change", (e) => {
      this.size = (e.target as HTMLSelectElement).value;
      this.changed();
    });
    this.listBackends();
    const backend = $<HTMLSelectElement>("backend");
    backend.addEventListener("change", () => this.pickBackend(backend.value as BackendChoice));
    $("backend-confirm").addEventListener("click", () => this.useBackend(backend.value as BackendChoice));
    this.bindThreads();
  }

  /** Backends that would run on the CPU or not at all here (backend-check.ts): said at the picker. */
  setBackendWarnings(warnings: Partial<Record<Backend, BackendWarning>>): void {
    this.warnings = warnings;
    this.listBackends();
  }

  /** Run on `backend` from now on (the user confirmed it, or chose "Switch to Auto"). */
  useBackend(backend: BackendChoice): void {
    $("backend-warning").hidden = true;
    $<HTMLSelectElement>("backend").value = backend;
    this.backend = backend;
    this.changed();
  }

  private listBackends(): void {
    const options = BACKEND_CHOICES.map((b) => {
      const warning = b === "auto" ? undefined : this.warnings[b];
      return { value: b, label: warning ? `${BACKEND_LABELS[b]} (${warning.tag})` : BACKEND_LABELS[b] };
    });
    setOptions($<HTMLSelectElement>("backend"), options, this.backend);
  }

  /** A backend that would be slow or fail here is only switched to once the user has read why. */
  private pickBackend(backend: BackendChoice): void {
    const warning = backend === "auto" ? undefined : this.warnings[backend];
    if (!warning || backend === this.backend) {
      this.useBackend(backend);
      return;
    }
    $("backend-warning-text").textContent = warning.text;
    $("backend-warning").hidden = false;
  }

  private bindThreads(): void {
    const threads = $<HTMLInputElement>("threads");
    threads.max = String(this.maxThreads);
    threads.value = String(this.threads);
    threads.addEventListener("change", () => {
      const asked = Math.round(Number(threads.value) || 0);
      this.threads = Math.min(this.maxThreads, Math.max(0, asked));
      threads.value = String(this.threads);
      const note = $("threads-note");
      note.hidden = asked === this.threads;
      note.textContent = `Threads go from 0 (automatic) to ${this.maxThreads}, this device's cores; set to ${this.threads}.`;
      this.changed();
    });
  }
}
