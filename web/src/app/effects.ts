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
      this.note.textContent = errorText(error);
      return false;
    }
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
