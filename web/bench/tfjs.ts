/**
 * The same network converted to a TF.js graph model (onnx2tf → tensorflowjs_converter, NHWC float input), run
 * the way the seeds run it: fromPixels → normalise → predict → resizeBilinear → argMax → data(), then a colour
 * loop and putImageData, one frame per requestAnimationFrame. `?model=URL/model.json&backend=wasm|webgl&threads=N&size=HxW`.
 */

import * as tf from "@tensorflow/tfjs";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmThreaded from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";

import { bench, Camera, fail, loop, MEAN, palette, param, sizeParam, STD } from "./common";

async function main(): Promise<void> {
  const [height, width] = sizeParam();
  const backend = param("backend", "wasm");
  setWasmPaths({
    "tfjs-backend-wasm.wasm": wasmPlain,
    "tfjs-backend-wasm-simd.wasm": wasmSimd,
    "tfjs-backend-wasm-threaded-simd.wasm": wasmThreaded,
  });
  const threads = Number(param("threads", "2"));
  setThreadsCount(threads);
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} is not available here`);
  await tf.ready();
  bench.backend = tf.getBackend();
  bench.threads = backend === "wasm" ? threads : null;

  const t0 = performance.now();
  const model = await tf.loadGraphModel(param("model", ""));
  const mean = tf.tensor1d(MEAN).mul(255);
  const std = tf.tensor1d(STD).mul(255);
  // Warm-up: webgl compiles its shaders on the first run.
  tf.tidy(() => model.predict(tf.zeros([1, height, width, 3])));
  bench.loadMs = performance.now() - t0;

  const camera = await Camera.open(width, height);
  const view = document.getElementById("out") as HTMLCanvasElement;
  view.width = width;
  view.height = height;
  const ctx = view.getContext("2d")!;
  const image = new ImageData(width, height);
  const colors = palette(256);

  loop(camera, "animation", async () => {
    const t0 = performance.now();
    const pixels = tf.browser.fromPixels(camera.video);
    const t1 = performance.now();
    const input = tf.tidy(() => pixels.toFloat().sub(mean).div(std).expandDims(0));
    pixels.dispose();
    const t2 = performance.now();
    const labels = tf.tidy(() => {
      const logits = model.predict(input) as tf.Tensor4D;
      return tf.image.resizeBilinear(logits, [height, width]).argMax(-1);
    });
    const t3 = performance.now();
    const ids = (await labels.data()) as Int32Array;
    const t4 = performance.now();
    input.dispose();
    labels.dispose();
    const rgba = image.data;
    for (let p = 0; p < ids.length; p++) {
      const c = ids[p] * 3;
      rgba[p * 4] = colors[c];
      rgba[p * 4 + 1] = colors[c + 1];
      rgba[p * 4 + 2] = colors[c + 2];
      rgba[p * 4 + 3] = 255;
    }
    const t5 = performance.now();
    ctx.putImageData(image, 0, 0);
    const t6 = performance.now();
    // TF.js runs lazily: "inference" is when predict returned; most of the work lands in readback (data()).
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
