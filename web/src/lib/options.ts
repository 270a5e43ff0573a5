/**
 * The option lists of the module API, each defined once: the types, the page's pickers and its URL parameters
 * are all derived from these.
 */

/** Inference backends, in the order `auto` tries them. */
export const BACKENDS = ["webgpu", "webgl", "wasm"] as const;
export type Backend = (typeof BACKENDS)[number];

export const BACKEND_CHOICES = ["auto", ...BACKENDS] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export const BACKEND_LABELS: Record<BackendChoice, string> = {
  auto: "Auto",
  webgpu: "WebGPU",
  webgl: "WebGL",
  wasm: "WASM",
};

/** The size of a result's masks: the model's input size (as it ran, no resizing) or the frame's own size. */
export const MASK_SIZES = ["model", "input"] as const;
export type MaskSize = (typeof MASK_SIZES)[number];

export const PRECISIONS = ["fp32", "fp16", "int8"] as const;
export type Precision = (typeof PRECISIONS)[number];

/**
 * The graphs a bundle variant may hold (manifest `graph`, absent = "labels"): "labels" takes uint8 pixels and
 * returns uint8 class ids and confidences; "logits" takes the same pixels as float32 and returns the network's
 * low-resolution float32 logits, which the worker upsamples and arg-maxes itself.
 */
export const GRAPHS = ["labels", "logits"] as const;
export type Graph = (typeof GRAPHS)[number];

/** onnxruntime-web's WebGL backend has no ArgMax and no uint8 tensors, so it runs the logits graph. */
export function graphFor(backend: Backend): Graph {
  return backend === "webgl" ? "logits" : "labels";
}
