/**
 * URL query parameters, so a benchmark or a link can start the page in a given state, e.g.
 * `/?model=camvid-default&backend=wasm&precision=fp32&size=288x384&source=camera&autostart=1`.
 */

import { BACKEND_CHOICES, PRECISIONS } from "../lib";
import type { BackendChoice, Precision } from "../lib";
import { SOURCE_KINDS } from "./sources";
import type { SourceKind } from "./sources";
import { EFFECTS, RENDERERS, values, VIEW_MODES } from "./view/options";
import type { EffectKind, RendererChoice, ViewMode } from "./view/options";

export interface Params {
  model: string | null;
  precision: Precision | null;
  size: string | null;
  backend: BackendChoice;
  threads: number;
  source: SourceKind | null;
  /** URL of the image or video for `source=image|video`. */
  src: string | null;
  /** Start the source without waiting for a click. */
  autostart: boolean;
  /** Camera resolution "WxH". */
  resolution: [number, number];
  mode: ViewMode;
  opacity: number;
  effect: EffectKind;
  /** The URL named the effect: the app then never changes it by itself. */
  effectGiven: boolean;
  /** The view's renderer: auto (WebGL on a GPU, a 2D canvas where WebGL is software), webgl or 2d. */
  renderer: RendererChoice;
}

function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | null {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : null;
}

function number(value: string | null, min: number, max: number): number | null {
  if (value === null || value.trim() === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : null;
}

export function readParams(search: string = location.search): Params {
  const q = new URLSearchParams(search);
  const resolution = /^(\d+)x(\d+)$/.exec(q.get("resolution") ?? "");
  return {
    model: q.get("model"),
    precision: oneOf(q.get("precision"), PRECISIONS),
    size: /^\d+x\d+$/.test(q.get("size") ?? "") ? q.get("size") : null,
    backend: oneOf(q.get("backend"), BACKEND_CHOICES) ?? "auto",
    threads: number(q.get("threads"), 0, 64) ?? 0,
    source: oneOf(q.get("source"), SOURCE_KINDS),
    src: q.get("src"),
    autostart: ["1", "true", "yes"].includes(q.get("autostart") ?? ""),
    resolution: resolution ? [Number(resolution[1]), Number(resolution[2])] : [640, 480],
    mode: oneOf(q.get("mode"), values(VIEW_MODES)) ?? "overlay",
    opacity: number(q.get("opacity"), 0, 1) ?? 0.6,
    effect: oneOf(q.get("effect"), values(EFFECTS)) ?? "none",
    effectGiven: oneOf(q.get("effect"), values(EFFECTS)) !== null,
    renderer: oneOf(q.get("renderer"), RENDERERS) ?? "auto",
  };
}
