// @ts-check
// A web developer's page: it knows nothing of the liveseg app, only the npm package. It segments the image
// `?image=` with the bundle `?model=` on `?threads=` WASM threads through the whole lifetime (segment,
// segmentForVideo, recycle, close) and leaves the outcome in `window.outcome` for the test to read.
// Type-checked against the package's declarations.
import { createSegmenter } from "liveseg";

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

async function run() {
  const threads = Number(param("threads"));
  const segmenter = await createSegmenter({ model: param("model"), backend: "wasm", precision: "fp32", threads });
  const image = await createImageBitmap(await (await fetch(param("image"))).blob());
  const first = await segmenter.segment(image);
  const labels = base64(first.labels);
  const legend = first.legend.map((entry) => entry.name);
  const confidence = first.confidence?.length ?? 0;
  segmenter.recycle(first); // its buffers now belong to the worker again
  const video = await segmenter.segmentForVideo(image, 1000);
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
    afterClose,
  };
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
