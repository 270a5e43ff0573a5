/** The view's controls: mode, opacity, smooth edges, the effect and its settings, and saving. */

import type { RGB } from "../lib";
import { $, setOptions } from "./dom";
import { EFFECTS, overlayOpacity, VIEW_MODES } from "./view/options";
import type { EffectKind, ViewMode, ViewSettings } from "./view/options";

export function hexToRgb(hex: string): RGB {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export interface ControlHooks {
  /** Settings changed: draw again. */
  render(): void;
  /** A background image for "replace background: image" was chosen. */
  background(file: File): void;
  /** The image-model file or its value range changed. */
  imageModel(file: File | null, scale: 1 | 255): void;
  saveMask(): void;
  saveView(): void;
}

/** An effect model the server offers (`/api/effects`). */
export interface EffectEntry {
  id: string;
  url: string;
  scale: 1 | 255;
  license: string;
  origin: string;
}

/** The server's effect models; none when it predates them or offers none. */
export async function fetchEffects(): Promise<EffectEntry[]> {
  const response = await fetch(new URL("api/effects", document.baseURI)).catch(() => null);
  if (!response?.ok) return [];
  const body = (await response.json()) as { effects?: EffectEntry[] };
  return body.effects ?? [];
}

export class ViewControls {
  private modelFile: File | null = null;
  private effects: readonly EffectEntry[] = [];
  /** The user (or the URL) chose the effect: the app no longer suggests one. */
  private effectChosen: boolean;

  constructor(
    private readonly settings: ViewSettings,
    private readonly hooks: ControlHooks,
    effectGiven = false,
  ) {
    this.effectChosen = effectGiven;
    this.bindMode();
    this.bindSlider(
      "opacity",
      (v) => `${Math.round(v * 100)}%`,
      (v) => (settings.opacity = v),
      settings.opacity,
    );
    this.bindSlider(
      "blur",
      (v) => `${v} px`,
      (v) => (settings.blur = v),
      settings.blur,
    );
    this.bindSlider(
      "strength",
      (v) => `${Math.round(v * 100)}%`,
      (v) => (settings.strength = v),
      settings.strength,
    );
    const smooth = $<HTMLInputElement>("smooth");
    smooth.checked = settings.smooth;
    smooth.addEventListener("change", () => {
      settings.smooth = smooth.checked;
      hooks.render();
    });
    this.bindEffect();
    $("save-mask").addEventListener("click", () => hooks.saveMask());
    $("save-view").addEventListener("click", () => hooks.saveView());
  }

  enableSaving(on: boolean): void {
    $<HTMLButtonElement>("save-mask").disabled = !on;
    $<HTMLButtonElement>("save-view").disabled = !on;
  }

  private bindMode(): void {
    const box = $("mode");
    const buttons = VIEW_MODES.map((m) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.mode = m.value;
      b.textContent = m.label;
      b.addEventListener("click", () => this.setMode(m.value));
      return b;
    });
    box.replaceChildren(...buttons);
    this.setMode(this.settings.mode);
  }

  private setMode(mode: ViewMode): void {
    this.settings.mode = mode;
    $("stage").dataset.mode = mode;
    for (const b of document.querySelectorAll<HTMLButtonElement>("#mode button")) {
      b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    }
    this.hooks.render();
  }

  private bindEffect(): void {
    const effect = $<HTMLSelectElement>("effect");
    setOptions(effect, EFFECTS, this.settings.effect);
    effect.addEventListener("change", () => {
      this.effectChosen = true;
      this.setEffect(effect.value as EffectKind);
    });
    this.setEffect(this.settings.effect);
    const colour = $<HTMLInputElement>("effect-color");
    this.settings.color = hexToRgb(colour.value);
    colour.addEventListener("input", () => {
      this.settings.color = hexToRgb(colour.value);
      this.hooks.render();
    });
    const background = $<HTMLInputElement>("background");
    background.addEventListener("change", () => {
      const file = background.files?.[0];
      if (file) this.hooks.background(file);
    });
    const modelFile = $<HTMLInputElement>("effect-model");
    const scale = $<HTMLSelectElement>("effect-scale");
    const changed = () => this.hooks.imageModel(this.modelFile, Number(scale.value) === 255 ? 255 : 1);
    modelFile.addEventListener("change", () => {
      this.modelFile = modelFile.files?.[0] ?? null;
      changed();
    });
    scale.addEventListener("change", changed);
    const preset = $<HTMLSelectElement>("effect-preset");
    preset.addEventListener("change", () => void this.usePreset(preset.value));
  }

  /** Offer the effect models the server has (`liveseg pull style-…`) above the file picker. */
  setEffectModels(effects: readonly EffectEntry[]): void {
    this.effects = effects;
    const own = { value: "", label: "Your own .onnx file…" };
    setOptions($<HTMLSelectElement>("effect-preset"), [...effects.map((e) => ({ value: e.id, label: e.id })), own], "");
    $("effect-preset-note").hidden = effects.length > 0;
  }

  private async usePreset(id: string): Promise<void> {
    const effect = this.effects.find((e) => e.id === id);
    $("effect-model-field").hidden = effect !== undefined;
    $<HTMLSelectElement>("effect-scale").value = String(effect?.scale ?? 1);
    if (!effect) {
      this.hooks.imageModel(this.modelFile, 1);
      return;
    }
    const note = $("effect-preset-note");
    const response = await fetch(new URL(effect.url, document.baseURI)).catch(() => null);
    if (!response?.ok) {
      note.textContent = `The effect model ${effect.id} could not be fetched (${response?.status ?? "offline"}); restart liveseg serve.`;
      note.hidden = false;
      return;
    }
    note.hidden = true;
    this.hooks.imageModel(new File([await response.blob()], `${effect.id}.onnx`), effect.scale);
  }

  /** The effect a model is best shown with (blur for a person model), unless the user chose one. */
  suggestEffect(effect: EffectKind): void {
    if (!this.effectChosen && effect !== this.settings.effect) this.setEffect(effect);
  }

  private setEffect(effect: EffectKind): void {
    this.settings.effect = effect;
    $<HTMLSelectElement>("effect").value = effect;
    for (const el of document.querySelectorAll<HTMLElement>("[data-effects]")) {
      el.hidden = !(el.dataset.effects ?? "").split(" ").includes(effect);
    }
    this.showOpacity();
    this.hooks.render();
  }

  /** The class colours are not painted over an effect (view/options.ts, `overlayOpacity`): say so at the slider. */
  private showOpacity(): void {
    const off = overlayOpacity(this.settings) === 0 && this.settings.effect !== "none";
    const input = $<HTMLInputElement>("opacity");
    input.disabled = off;
    const label = input.closest("label");
    if (label)
      label.title = off ? "Class colours are hidden while an effect is on; set Effect to None to see them." : "";
    $("opacity-value").textContent = off ? "off" : `${Math.round(this.settings.opacity * 100)}%`;
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
      this.hooks.render();
    });
  }
}
