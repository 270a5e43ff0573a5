/** The page side of `createImageModel`: a user's image-to-image ONNX model in a worker of its own. */

import { ortFiles, threadsOf, WorkerClient, workerFrame } from "./client";
import type { ImageDone, ImageReady, InitImageModel } from "./image-model-protocol";
import type { Backend } from "./options";
import { refusePrebundled } from "./prebundled";
import type {
  FrameSource,
  ImageLayout,
  ImageModel,
  ImageModelOptions,
  ImageModelOutput,
  SegmentOptions,
} from "./types";

class WorkerImageModel implements ImageModel {
  readonly backend: Backend;
  readonly width: number;
  readonly height: number;
  readonly inputLayout: ImageLayout;

  constructor(
    private readonly client: WorkerClient<ImageReady, ImageDone>,
    ready: ImageReady,
  ) {
    this.backend = ready.backend;
    this.width = ready.width;
    this.height = ready.height;
    this.inputLayout = ready.layout;
  }

  get busy(): boolean {
    return this.client.inFlight > 0;
  }

  async run(frame: FrameSource, options?: SegmentOptions): Promise<ImageModelOutput> {
    const handed = await workerFrame(frame, options?.transfer);
    const done = await this.client.request((id, recycle) => ({ type: "run", id, frame: handed, recycle }), [handed]);
    return { pixels: new Uint8ClampedArray(done.pixels), width: done.width, height: done.height, ms: done.ms };
  }

  recycle(pixels: Uint8ClampedArray): void {
    this.client.recycle(pixels.buffer);
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Load a user's image-to-image ONNX model (style transfer, filters). Accepted: input float32 NCHW [1,3,H,W]
 * (values 0..1, or 0..255 with `scale: 255`) or uint8 NHWC [1,H,W,3|4]; output float32 NCHW [1,3,H,W] in the same
 * range, or uint8 NHWC [1,H,W,3|4]. Dynamic H and W take `size` (default 256 × 256).
 */
export async function createImageModel(options: ImageModelOptions): Promise<ImageModel> {
  const init: InitImageModel = {
    type: "init",
    model: options.bytes,
    scale: options.scale ?? 1,
    size: options.size ?? [256, 256],
    backend: options.backend ?? "auto",
    threads: threadsOf(options.threads),
    ort: ortFiles(options.wasmPaths),
  };
  refusePrebundled(import.meta.url);
  const worker = new Worker(new URL("./image-model-worker.ts", import.meta.url), {
    type: "module",
    name: "liveseg-image-model",
  });
  const client = new WorkerClient<ImageReady, ImageDone>(worker);
  try {
    return new WorkerImageModel(client, await client.start(init, [options.bytes]));
  } catch (error) {
    client.close();
    throw new Error(`Could not load the image model: ${error instanceof Error ? error.message : String(error)}`);
  }
}
