/**
 * liveseg's module API on its own: `createSegmenter` → `segment` on each new camera frame, nothing drawn. It is the
 * app's pipeline without the page (rendering, legend, stats), so app fps / this page's fps shows what the page
 * costs. `?model=URL&precision=fp32&size=HxW&backend=wasm|webgl|webgpu&threads=N`.
 */

import { createSegmenter } from "../src/lib";
import type { Backend, Precision } from "../src/lib";

import { bench, Camera, fail, loop, param, sizeParam } from "./common";

async function main(): Promise<void> {
  const [height, width] = sizeParam();
  const segmenter = await createSegmenter({
    model: param("model", ""),
    precision: param("precision", "fp32") as Precision,
    size: [height, width],
    backend: param("backend", "wasm") as Backend,
    threads: Number(param("threads", "2")),
  });
  bench.loadMs = segmenter.loadMs;
  bench.backend = segmenter.backend;
  bench.threads = segmenter.backend === "wasm" ? segmenter.threads : null;

  const camera = await Camera.open(width, height);
  loop(camera, "camera", async () => {
    const t0 = performance.now();
    const bitmap = await createImageBitmap(camera.video);
    const t1 = performance.now();
    const result = await segmenter.segment(bitmap, { transfer: true });
    const wall = performance.now() - t1;
    const { preprocess, inference, readback, total } = result.timings;
    segmenter.recycle(result);
    return { capture: t1 - t0, transfer: wall - total, preprocess, inference, readback };
  });
}

main().catch(fail);
