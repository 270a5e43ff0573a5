/**
 * The MediaPipe peer: @mediapipe/selfie_segmentation, what a web developer picks today for camera effects. A
 * different task and model (person vs background, a 256x256 or 144x256 network) in MediaPipe's
 * own WASM + WebGL runtime; it runs offline from the package's files, served with this page. Run as MediaPipe's
 * camera helper runs it: `send` on each animation frame, the mask composited over the frame in `onResults` (the
 * package's own demo effect). `?model=0|1` (modelSelection: 0 general, 1 landscape).
 */

import type { Results, SelfieSegmentation } from "@mediapipe/selfie_segmentation";
import solutionUrl from "@mediapipe/selfie_segmentation/selfie_segmentation.js?url";
import graphUrl from "@mediapipe/selfie_segmentation/selfie_segmentation.binarypb?url";
import generalUrl from "@mediapipe/selfie_segmentation/selfie_segmentation.tflite?url";
import landscapeUrl from "@mediapipe/selfie_segmentation/selfie_segmentation_landscape.tflite?url";
import wasmJsUrl from "@mediapipe/selfie_segmentation/selfie_segmentation_solution_simd_wasm_bin.js?url";
import wasmUrl from "@mediapipe/selfie_segmentation/selfie_segmentation_solution_simd_wasm_bin.wasm?url";

import { bench, Camera, fail, loop, param, sizeParam } from "./common";

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

async function main(): Promise<void> {
  const [height, width] = sizeParam();
  const t0 = performance.now();
  const Solution = await loadSolution();
  const selfie = new Solution({ locateFile });
  selfie.setOptions({ modelSelection: Number(param("model", "0")), selfieMode: false });
  await selfie.initialize();

  const view = document.getElementById("out") as HTMLCanvasElement;
  view.width = width;
  view.height = height;
  const ctx = view.getContext("2d")!;
  let render = 0;
  selfie.onResults((results: Results) => {
    const r0 = performance.now();
    ctx.save();
    ctx.clearRect(0, 0, width, height);
    ctx.drawImage(results.segmentationMask, 0, 0, width, height);
    ctx.globalCompositeOperation = "source-in";
    ctx.fillStyle = "rgba(90, 169, 255, 0.6)";
    ctx.fillRect(0, 0, width, height);
    ctx.globalCompositeOperation = "destination-atop";
    ctx.drawImage(results.image, 0, 0, width, height);
    ctx.restore();
    render = performance.now() - r0;
  });

  const camera = await Camera.open(width, height);
  await selfie.send({ image: camera.video }); // the first frame compiles the graph's shaders
  bench.loadMs = performance.now() - t0;
  bench.backend = "wasm+webgl";
  loop(camera, "animation", async () => {
    render = 0;
    const t0 = performance.now();
    await selfie.send({ image: camera.video });
    // send() uploads the frame, runs the graph and calls onResults before it resolves.
    return { inference: performance.now() - t0 - render, render };
  });
}

main().catch(fail);
