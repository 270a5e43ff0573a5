/**
 * MediaPipe's selfie segmentation solution (@mediapipe/selfie_segmentation, Apache-2.0) as it ships, loaded from
 * the package's own files served with these pages: the benchmark peer (mediapipe.ts) and the reference that the
 * converted person models are checked against (mediapipe-masks.ts).
 */

import type { SelfieSegmentation } from "@mediapipe/selfie_segmentation";
import solutionUrl from "@mediapipe/selfie_segmentation/selfie_segmentation.js?url";
import graphUrl from "@mediapipe/selfie_segmentation/selfie_segmentation.binarypb?url";
import generalUrl from "@mediapipe/selfie_segmentation/selfie_segmentation.tflite?url";
import landscapeUrl from "@mediapipe/selfie_segmentation/selfie_segmentation_landscape.tflite?url";
import wasmJsUrl from "@mediapipe/selfie_segmentation/selfie_segmentation_solution_simd_wasm_bin.js?url";
import wasmUrl from "@mediapipe/selfie_segmentation/selfie_segmentation_solution_simd_wasm_bin.wasm?url";

import { fail } from "./common";

// Every file the solution asks for by name; Vite copies each into the build with a content hash.
const FILES: Record<string, string> = {
  "selfie_segmentation.binarypb": graphUrl,
  "selfie_segmentation.tflite": generalUrl,
  "selfie_segmentation_landscape.tflite": landscapeUrl,
  "selfie_segmentation_solution_simd_wasm_bin.js": wasmJsUrl,
  "selfie_segmentation_solution_simd_wasm_bin.wasm": wasmUrl,
};

function locateFile(file: string): string {
  const url = FILES[file];
  if (url === undefined) {
    fail(new Error(`MediaPipe asked for ${file}, which this page does not ship (it ships the SIMD build only).`));
    return "";
  }
  return new URL(url, location.href).href;
}

/** The package's classic script, which defines `window.SelfieSegmentation` (it has no ES exports to import). */
async function loadSolution(): Promise<typeof SelfieSegmentation> {
  const script = document.createElement("script");
  script.src = solutionUrl;
  await new Promise((loaded, failed) => {
    script.onload = loaded;
    script.onerror = () => failed(new Error(`${solutionUrl} did not load`));
    document.head.append(script);
  });
  return (window as unknown as { SelfieSegmentation: typeof SelfieSegmentation }).SelfieSegmentation;
}

/** The solution, initialised: `model` is its modelSelection (0 general 256x256, 1 landscape 144x256). */
export async function createSolution(model: number): Promise<SelfieSegmentation> {
  const Solution = await loadSolution();
  const selfie = new Solution({ locateFile });
  selfie.setOptions({ modelSelection: model, selfieMode: false });
  await selfie.initialize();
  return selfie;
}
