/**
 * The view's option lists, each defined once: the pickers, the URL parameters and the integer codes that the
 * GLSL compositor switches on (`uMode`, `uEffect`: the index in these lists) all derive from them.
 */

import type { RGB } from "../../lib";

export const VIEW_MODES = [
  { value: "overlay", label: "Overlay" },
  { value: "side", label: "Side by side" },
  { value: "mask", label: "Mask" },
] as const;
export type ViewMode = (typeof VIEW_MODES)[number]["value"];

/** `background` effects replace what is outside the chosen classes; the others change the chosen classes. */
export const EFFECTS = [
  { value: "none", label: "None", background: false },
  { value: "blur", label: "Blur background", background: true },
  { value: "image", label: "Replace background: image", background: true },
  { value: "color", label: "Replace background: colour", background: true },
  { value: "recolor", label: "Recolour the classes", background: false },
  { value: "stylize", label: "Stylise the classes", background: false },
  { value: "model", label: "ONNX image model on the classes", background: false },
] as const;
export type EffectKind = (typeof EFFECTS)[number]["value"];

export const RENDERERS = ["auto", "webgl", "2d"] as const;
export type RendererChoice = (typeof RENDERERS)[number];

export function values<T extends { value: string }>(list: readonly T[]): T["value"][] {
  return list.map((o) => o.value);
}

/** The integer a shader receives for `value`: its index in `list`. */
export function code<T extends { value: string }>(list: readonly T[], value: T["value"]): number {
  return list.findIndex((o) => o.value === value);
}

/** `#define` lines giving GLSL the same codes by name, e.g. `MODE_MASK 2`, `EFFECT_BLUR 1`. */
export function glslDefines(): string {
  const lines = [
    ...VIEW_MODES.map((m, i) => `#define MODE_${m.value.toUpperCase()} ${i}`),
    ...EFFECTS.map((e, i) => `#define EFFECT_${e.value.toUpperCase()} ${i}`),
  ];
  return lines.join("\n");
}

export interface ViewSettings {
  mode: ViewMode;
  opacity: number;
  smooth: boolean;
  effect: EffectKind;
  color: RGB;
  /** Blur radius in frame pixels. */
  blur: number;
  /** Weight of the image model's output inside the mask. */
  strength: number;
}

/**
 * The class overlay's opacity: none while an effect is on. Every effect cuts the frame along the chosen classes
 * (a person from the background), and class colours painted over it turned that into colour mush.
 */
export function overlayOpacity(view: ViewSettings): number {
  return view.effect === "none" ? view.opacity : 0;
}

/** Per class: hidden, normal or highlighted (the others are then dimmed); `foreground`: where effects apply. */
export interface ClassStyle {
  hidden: Set<number>;
  highlighted: Set<number>;
  foreground: Set<number>;
}

/**
 * Overlay weight of each class in 0..2: 0 hidden, 1 normal, 2 highlighted, 24/128 for the others while some
 * class is highlighted. Both renderers scale the opacity by it.
 */
export function classWeights(ids: number[], style: ClassStyle): Map<number, number> {
  const dimOthers = style.highlighted.size > 0;
  const weights = new Map<number, number>();
  for (const id of ids) {
    let weight = 1;
    if (style.hidden.has(id)) weight = 0;
    else if (style.highlighted.has(id)) weight = 2;
    else if (dimOthers) weight = 24 / 128;
    weights.set(id, weight);
  }
  return weights;
}

/** How much of the overlay survives where the model is unsure (smooth edges only): 0.25 … 1. */
export function trust(confidence: number): number {
  const t = Math.min(1, Math.max(0, (confidence / 255 - 0.35) / 0.5));
  return 0.25 + 0.75 * t * t * (3 - 2 * t);
}

/** The backdrop of the mask view, 0..1 RGB. */
export const MASK_BACKDROP: RGB = [0.06, 0.07, 0.09];
