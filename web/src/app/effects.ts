/** The effects' state outside the renderers: which classes they apply to, and the user's image model. */

import { createImageModel } from "../lib";
import type { BackendChoice, ClassInfo, ImageModel, ImageModelOutput } from "../lib";
import { errorText } from "./dom";
import type { ClassStyle } from "./view/options";
import type { Frame } from "./view/surface";

/** Classes an effect starts on, by name: people and vehicles, the usual subjects of a camera effect. */
const SUBJECTS = /\b(person|people|pedestrian|rider|bicyclist|cyclist|human|car)s?\b/i;

export function defaultForeground(classes: ClassInfo[]): Set<number> {
  return new Set(classes.filter((c) => SUBJECTS.test(c.name)).map((c) => c.id));
}

/** Chips that choose the classes an effect applies to. */
export function fillForeground(box: HTMLElement, classes: ClassInfo[], style: ClassStyle, changed: () => void): void {
  const chips = classes.map((c) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.setAttribute("aria-pressed", String(style.foreground.has(c.id)));
    chip.dataset.id = String(c.id);
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = `rgb(${c.color.join(",")})`;
    chip.append(swatch, c.name);
    chip.addEventListener("click", () => {
      const on = !style.foreground.has(c.id);
      if (on) style.foreground.add(c.id);
      else style.foreground.delete(c.id);
      chip.setAttribute("aria-pressed", String(on));
      changed();
    });
    return chip;
  });
  box.replaceChildren(...chips);
}

export interface ImageModelRequest {
  file: File;
  scale: 1 | 255;
  backend: BackendChoice;
  threads: number;
  /** The segmentation model's size, for models with dynamic H and W. */
  size?: [number, number];
}

/** The "ONNX image model" effect: a user's model in its own worker, run on the frames being segmented. */
export class EffectModel {
  private model: ImageModel | null = null;
  private loading: File | null = null;
  /** Milliseconds of the last run. */
  lastMs: number | null = null;

  constructor(private readonly note: HTMLElement) {}

  /** Load `request.file` (null: unload); resolves true when a model is ready. */
  async load(request: ImageModelRequest | null): Promise<boolean> {
    this.model?.close();
    this.model = null;
    this.lastMs = null;
    this.loading = request?.file ?? null;
    if (!request) return false;
    const { file, scale, backend, threads, size } = request;
    this.note.classList.remove("is-error");
    this.note.textContent = `Loading ${file.name}…`;
    try {
      const model = await createImageModel({ bytes: await file.arrayBuffer(), scale, backend, threads, size });
      if (file !== this.loading) {
        model.close();
        return false;
      }
      this.model = model;
      this.note.textContent = `${file.name}: ${model.inputLayout} at ${model.height} × ${model.width}, on ${model.backend}.`;
      return true;
    } catch (error) {
      if (file === this.loading) this.showError(file.name, errorText(error));
      return false;
    }
  }

  /** One sentence that says what the page can run, and onnxruntime's own (long) text behind Details. */
  private showError(name: string, details: string): void {
    const sentence = document.createElement("span");
    sentence.textContent =
      `${name} could not be loaded as an effect model; use an ONNX image-to-image model with float32 NCHW ` +
      "[1, 3, H, W] or uint8 NHWC [1, H, W, 3|4] input and output.";
    const disclosure = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "Details";
    const pre = document.createElement("pre");
    pre.textContent = details;
    disclosure.append(summary, pre);
    this.note.replaceChildren(sentence, disclosure);
    this.note.classList.add("is-error");
  }

  /** The model's output for `frame`, or null without a model. */
  run(frame: Frame): Promise<ImageModelOutput | null> | null {
    if (!this.model) return null;
    return this.model.run(frame).then((output) => {
      this.lastMs = output.ms;
      return output;
    });
  }

  recycle(output: ImageModelOutput): void {
    this.model?.recycle(output.pixels);
  }
}
