/**
 * The pipeline the seeds use, with liveseg's own network: per-pixel normalisation in JavaScript, float32 logits
 * out of onnxruntime-web on the main thread, argmax and colour loop in JavaScript, putImageData, one frame per
 * requestAnimationFrame. `?model=URL&backend=wasm|webgl|webgpu&threads=N&size=HxW`.
 */

import * as ort from "onnxruntime-web/all";
import ortMjs from "onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url";
import ortWasm from "onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url";

import { argmaxColor, bench, Camera, fail, loop, MEAN, palette, param, sizeParam, STD } from "./common";

async function main(): Promise<void> {
  const [height, width] = sizeParam();
  const backend = param("backend", "wasm");
  ort.env.wasm.wasmPaths = { wasm: ortWasm, mjs: ortMjs };
  ort.env.wasm.numThreads = crossOriginIsolated ? Number(param("threads", "2")) : 1;
  ort.env.logLevel = "error";

  const t0 = performance.now();
  const session = await ort.InferenceSession.create(param("model", ""), {
    executionProviders: [backend],
    graphOptimizationLevel: "all",
  });
  bench.loadMs = performance.now() - t0;
  bench.backend = backend;
  bench.threads = backend === "wasm" ? (ort.env.wasm.numThreads ?? null) : null;

  const camera = await Camera.open(width, height);
  const grab = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true })!;
  const view = document.getElementById("out") as HTMLCanvasElement;
  view.width = width;
  view.height = height;
  const ctx = view.getContext("2d")!;
  const image = new ImageData(width, height);
  const plane = width * height;
  const input = new Float32Array(3 * plane);
  let colors: Uint8Array | null = null;

  loop(camera, "animation", async () => {
    const t0 = performance.now();
    grab.drawImage(camera.video, 0, 0, width, height);
    const rgba = grab.getImageData(0, 0, width, height).data;
    const t1 = performance.now();
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) input[c * plane + p] = (rgba[p * 4 + c] / 255 - MEAN[c]) / STD[c];
    }
    const t2 = performance.now();
    const out = await session.run({ input: new ort.Tensor("float32", input, [1, 3, height, width]) });
    const t3 = performance.now();
    const logitsTensor = out.logits;
    const logits = (await logitsTensor.getData()) as Float32Array;
    const classes = logitsTensor.dims[1];
    const t4 = performance.now();
    colors ??= palette(classes);
    argmaxColor(logits, classes, image, colors);
    logitsTensor.dispose();
    const t5 = performance.now();
    ctx.putImageData(image, 0, 0);
    const t6 = performance.now();
    return {
      capture: t1 - t0,
      preprocess: t2 - t1,
      inference: t3 - t2,
      readback: t4 - t3,
      postprocess: t5 - t4,
      render: t6 - t5,
    };
  });
}

main().catch(fail);
