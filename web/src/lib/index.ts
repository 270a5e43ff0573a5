/**
 * liveseg's module API: real-time semantic segmentation in the browser with onnxruntime-web, off the main thread.
 *
 * ```ts
 * const segmenter = await createSegmenter({ model: "/models/camvid-default/", precision: "fp32", backend: "auto" });
 * const { labels, width, height, legend, confidence, timings } = await segmenter.segment(video);
 * ```
 */

export { createImageModel, createSegmenter, defaultThreads, legendOf } from "./segmenter";
export { bundleBase, checkManifest, fetchManifest, parseSize, pickVariant, precisionsOf, sizesOf } from "./manifest";
export type * from "./types";
