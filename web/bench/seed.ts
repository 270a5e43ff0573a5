/**
 * The pipeline the seeds use, with liveseg's own network: per-pixel normalisation in JavaScript, float32 logits
 * out of onnxruntime-web on the main thread, argmax and colour loop in JavaScript, putImageData.
 * `?model=URL&backend=wasm|webgl&threads=N&size=HxW`.
 */

import * as ort from "onnxruntime-web/all";
import ortMjs from "onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url";
import ortWasm from "onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url";

import { argmaxColor, bench, fail, loop, MEAN, openCamera, palette, param, STD } from "./common";

async function main(): Promise<void> {
  const [height, width] = param("size", "360x480").split("x").map(Number);
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
  bench.threads = ort.env.wasm.numThreads ?? null;

  const video = await openCamera(width, height);
  const grab = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true })!;
  const view = document.getElementById("out") as HTMLCanvasElement;
  view.width = width;
  view.height = height;
  const ctx = view.getContext("2d")!;
  const image = new ImageData(width, height);
  const plane = width * height;
  const input = new Float32Array(3 * plane);
  let colors: Uint8Array | null = null;

  loop(async () => {
    const t0 = performance.now();
    grab.drawImage(video, 0, 0, width, height);
    const rgba = grab.getImageData(0, 0, width, height).data;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) input[c * plane + p] = (rgba[p * 4 + c] / 255 - MEAN[c]) / STD[c];
    }
    const t1 = performance.now();
    const out = await session.run({ input: new ort.Tensor("float32", input, [1, 3, height, width]) });
    const t2 = performance.now();
    const logitsTensor = out.logits;
    const logits = (await logitsTensor.getData()) as Float32Array;
    const classes = logitsTensor.dims[1];
    const t3 = performance.now();
    colors ??= palette(classes);
    argmaxColor(logits, classes, image, colors);
    logitsTensor.dispose();
    const t4 = performance.now();
    ctx.putImageData(image, 0, 0);
    const t5 = performance.now();
    return { preprocess: t1 - t0, inference: t2 - t1, readback: t3 - t2, postprocess: t4 - t3, render: t5 - t4 };
  });
}

main().catch(fail);
