/**
 * What both renderers implement (`WebGLView`, `Canvas2DView`) and the page uses, apart from `view.ts`, which
 * creates one: the renderers import this type without importing the module that imports them.
 */

import type { ClassInfo, SegmentationResult } from "../../lib";
import type { ClassStyle, ViewSettings } from "./options";
import type { Frame } from "./surface";

export interface View {
  readonly kind: "webgl" | "2d";
  readonly canvas: HTMLCanvasElement;
  /** Frame size being shown (0 × 0 before the first). */
  readonly width: number;
  readonly height: number;
  /**
   * Show `frame` with `result`'s class map (null: no labels yet). The view may draw from `frame` until the next
   * `show` or `clear`, so the caller closes a frame only after that.
   */
  show(frame: Frame, width: number, height: number, result: SegmentationResult | null): void;
  /** Forget the frame and the labels (the source stopped). */
  clear(): void;
  setClasses(classes: ClassInfo[], style: ClassStyle): void;
  setBackground(image: ImageBitmap | HTMLCanvasElement, width: number, height: number): void;
  setStyled(pixels: Uint8ClampedArray, width: number, height: number): void;
  /** Draw; returns the milliseconds it took on this thread. */
  render(view: ViewSettings): number;
  /** Render and encode the view as a PNG. */
  snapshot(view: ViewSettings): Promise<Blob>;
}
