/**
 * The MediaPipe peer: @mediapipe/selfie_segmentation, what a web developer picks today for camera effects. A
 * different task and model (person vs background, a 256x256 or 144x256 network) in MediaPipe's
 * own WASM + WebGL runtime; it runs offline from the package's files, served with this page. Run as MediaPipe's
 * camera helper runs it: `send` on each animation frame, the mask composited over the frame in `onResults` (the
 * package's own demo effect). `?model=0|1` (modelSelection: 0 general, 1 landscape).
 */

import type { Results } from "@mediapipe/selfie_segmentation";

import { bench, Camera, fail, loop, param, sizeParam } from "./common";
import { createSolution } from "./mediapipe-solution";

async function main(): Promise<void> {
  const [height, width] = sizeParam();
  const t0 = performance.now();
  const selfie = await createSolution(Number(param("model", "0")));

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
