/**
 * The segmented view, drawn by one of two renderers with the same features: WebGL2 where WebGL runs on a GPU,
 * and a 2D canvas where it runs on the CPU (SwiftShader, llvmpipe), which there costs a fraction of the time
 * that software WebGL takes from inference on the same cores.
 */

import { Canvas2DView } from "./canvas2d";
import type { View } from "./contract";
import { WebGLView } from "./gl";
import type { RendererChoice } from "./options";

export type { View } from "./contract";

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
