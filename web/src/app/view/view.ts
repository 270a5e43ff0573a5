/**
 * The segmented view, drawn by one of two renderers with the same features: WebGL2 where WebGL runs on a GPU,
 * and a 2D canvas where it runs on the CPU (SwiftShader, llvmpipe), which there costs a fraction of the time
 * that software WebGL takes from inference on the same cores.
 */

import type { ClassInfo, SegmentationResult } from "../../lib";
import { Canvas2DView } from "./canvas2d";
import { WebGLView } from "./gl";
import type { ClassStyle, RendererChoice, ViewSettings } from "./options";
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

/** CPU implementations of WebGL, by their renderer string. */
const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** The WebGL renderer string here (WEBGL_debug_renderer_info), or null without WebGL2. */
export function glRenderer(): string | null {
  const gl = document.createElement("canvas").getContext("webgl2");
  if (!gl) return null;
  const debug = gl.getExtension("WEBGL_debug_renderer_info");
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension("WEBGL_lose_context")?.loseContext();
  return renderer;
}

export function isSoftwareGl(renderer: string | null): boolean {
  return renderer === null || SOFTWARE_GL.test(renderer);
}

/** The view for `choice`: "auto" takes WebGL on a GPU and the 2D canvas otherwise. */
export function createView(canvas: HTMLCanvasElement, choice: RendererChoice, renderer: string | null): View {
  const gl = choice === "webgl" || (choice === "auto" && !isSoftwareGl(renderer));
  return gl ? new WebGLView(canvas) : new Canvas2DView(canvas);
}
