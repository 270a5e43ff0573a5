/**
 * liveseg's module API: real-time semantic segmentation in the browser with onnxruntime-web, off the main thread.
 *
 * ```ts
 * const segmenter = await createSegmenter({ model: "/models/camvid-default/", precision: "fp32", backend: "auto" });
 * const result = await segmenter.segmentForVideo(video, performance.now());
 * draw(result.labels, result.width, result.height);
 * segmenter.recycle(result);
 * ```
 */

export { foregroundAlpha } from "./alpha";
export { defaultThreads } from "./client";
export { createImageModel } from "./image-model";
export {
  bundleBase,
  bundleUrl,
  checkManifest,
  fetchManifest,
  graphOf,
  logitsVariant,
  MODEL_BASE,
  parseSize,
  pickVariant,
  precisionsOf,
  sizesOf,
} from "./manifest";
export { BACKEND_CHOICES, BACKEND_LABELS, BACKENDS, GRAPHS, graphFor, MASK_SIZES, PRECISIONS } from "./options";
export { createSegmenter, legendOf } from "./segmenter";
export type * from "./types";
