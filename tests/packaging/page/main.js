// @ts-check
// A web developer's page: it knows nothing of the liveseg app, only the npm package. It segments the images
// `?image=` (at the model's size) and `?big=` (at another) with the bundle named `?name=` on `?threads=` WASM threads
// through the whole lifetime (segment, segmentForVideo, masks at the input's size, recycle, close), then, given
// `?runtime=`, again from the bytes of the bundle's logits file with confidence masks and onnxruntime's files from
// there, and leaves the outcome in `window.outcome` for the test to read. Type-checked against the package's
// declarations.
import { createSegmenter, fetchManifest, logitsVariant } from "liveseg";

/** @param {Uint8Array} bytes */
function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(text);
}

/** @param {string} name */
function param(name) {
  const value = new URLSearchParams(location.search).get(name);
  if (!value) throw new Error(`Open this page with ?${name}=…`);
  return value;
}

/** @param {string} url */
async function bitmap(url) {
  return createImageBitmap(await (await fetch(url)).blob());
}

/** @param {import("liveseg").SegmentationResult} result */
function masksOf(result) {
  const planes = result.confidenceMasks ?? [];
  const quantised = new Uint8Array(planes.length * result.width * result.height);
  planes.forEach((plane, c) => quantised.set(plane.map((p) => Math.round(p * 255)), c * plane.length));
  let worstSum = 0;
  for (let i = 0; i < result.width * result.height; i++) {
    worstSum = Math.max(worstSum, Math.abs(planes.reduce((sum, plane) => sum + plane[i], 0) - 1));
  }
  return { classes: planes.length, masks: base64(quantised), worstSum, labels: base64(result.labels) };
}

/**
 * The bundle `name` by name (looked up under /models/, where `liveseg serve` serves bundles): one image at the
 * model's size, a video frame, and the big image with masks at the model's size, then at its own.
 * @param {string} name
 * @param {number} threads
 */
async function byName(name, threads) {
  const segmenter = await createSegmenter({ model: name, backend: "wasm", precision: "fp32", threads });
  const image = await bitmap(param("image"));
  const first = await segmenter.segment(image);
  const labels = base64(first.labels);
  const legend = first.legend.map((entry) => entry.name);
  const confidence = first.confidence?.length ?? 0;
  segmenter.recycle(first); // its buffers now belong to the worker again
  const video = await segmenter.segmentForVideo(image, 1000);
  const big = await bitmap(param("big"));
  const atModel = await segmenter.segment(big);
  segmenter.setOptions({ maskSize: "input" });
  const atInput = await segmenter.segment(big);
  segmenter.close();
  const afterClose = await segmenter.segment(image).then(
    () => "resolved",
    (/** @type {Error} */ error) => error.message,
  );
  return {
    isolated: crossOriginIsolated,
    backend: segmenter.backend,
    threads: segmenter.threads,
    width: first.width,
    height: first.height,
    labels,
    legend,
    confidence,
    videoLabels: base64(video.labels),
    videoTimestamp: video.timestampMs,
    bigAtModel: { width: atModel.width, height: atModel.height, labels: base64(atModel.labels) },
    bigAtInput: { width: atInput.width, height: atInput.height, labels: base64(atInput.labels) },
    afterClose,
  };
}

/**
 * The bundle's logits file as bytes the page fetched itself, with confidence masks at the input's size and
 * onnxruntime-web's files from `?runtime=`; the masks' buffers are gone once recycled and taken back.
 * @param {string} name
 * @param {number} threads
 * @param {string} runtime
 */
async function fromBytes(name, threads, runtime) {
  const base = new URL(`/models/${name}/`, location.href);
  const manifest = await fetchManifest(base.href);
  const { default_variant: size } = manifest;
  const file = logitsVariant(manifest, [size.height, size.width]);
  if (!file) throw new Error(`${name} has no logits variant`);
  const bytes = await (await fetch(new URL(file.file, base))).arrayBuffer();
  const segmenter = await createSegmenter({
    model: bytes,
    manifest,
    backend: "wasm",
    threads,
    wasmPaths: runtime,
    confidenceMasks: true,
    maskSize: "input",
  });
  const result = await segmenter.segment(await bitmap(param("big")));
  const outcome = { ...masksOf(result), width: result.width, height: result.height, graph: segmenter.variant.graph };
  const kept = result.confidenceMasks?.[0];
  segmenter.recycle(result);
  await segmenter.segment(await bitmap(param("image"))); // takes the recycled buffers back
  segmenter.close();
  return { ...outcome, bytesKept: bytes.byteLength === file.bytes, detachedAfterRecycle: kept?.length === 0 };
}

async function run() {
  const threads = Number(param("threads"));
  const name = param("name");
  const runtime = new URLSearchParams(location.search).get("runtime");
  return { ...(await byName(name, threads)), fromBytes: runtime ? await fromBytes(name, threads, runtime) : null };
}

const status = /** @type {HTMLElement} */ (document.getElementById("status"));
run().then(
  (outcome) => {
    Object.assign(window, { outcome });
    status.textContent = `segmented ${outcome.width}x${outcome.height} on ${outcome.backend}`;
  },
  (/** @type {Error} */ error) => {
    Object.assign(window, { outcome: { error: String(error?.message ?? error) } });
    status.textContent = `failed: ${error}`;
  },
);
