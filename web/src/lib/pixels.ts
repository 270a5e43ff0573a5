/** Pixels in the workers: frames drawn at a model's size, RGBA → RGB, and result buffers that cycle. */

/** A frame as it reaches a worker: a camera VideoFrame (no copy made) or a decoded ImageBitmap. */
export type WorkerFrame = VideoFrame | ImageBitmap;

/** [height, width] of a frame as it is shown (a VideoFrame's display size, not its coded size). */
export function frameSize(frame: WorkerFrame): [number, number] {
  return frame instanceof ImageBitmap ? [frame.height, frame.width] : [frame.displayHeight, frame.displayWidth];
}

/** Draws frames at a fixed size and reads their RGBA pixels. */
export class FrameReader {
  private readonly ctx: OffscreenCanvasRenderingContext2D;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    const ctx = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true, alpha: false });
    if (!ctx) throw new Error("This browser cannot draw on an OffscreenCanvas in a worker; use a current browser.");
    // Bilinear: frames of a camera are at most a few times the model's size, where it is enough and cheapest.
    ctx.imageSmoothingQuality = "low";
    this.ctx = ctx;
  }

  /** The frame's RGBA pixels at width × height (one scaled draw, one read); the frame is closed. */
  rgba(frame: WorkerFrame): Uint8ClampedArray {
    this.ctx.drawImage(frame, 0, 0, this.width, this.height);
    frame.close();
    return this.ctx.getImageData(0, 0, this.width, this.height).data;
  }
}

export function dropAlpha(rgba: Uint8ClampedArray, rgb: Uint8Array | Float32Array): void {
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
}

const POOL_LIMIT = 6;

/**
 * Result buffers handed back by the page (and the model-size maps a resized result leaves), reused for the next
 * results; when full, the oldest is dropped, so buffers of a size no longer asked for do not stay.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  take(bytes: number): ArrayBuffer {
    const index = this.free.findIndex((b) => b.byteLength === bytes);
    return index >= 0 ? this.free.splice(index, 1)[0] : new ArrayBuffer(bytes);
  }

  give(buffers: ArrayBuffer[]): void {
    for (const b of buffers) if (b.byteLength > 0) this.free.push(b);
    this.free.splice(0, Math.max(0, this.free.length - POOL_LIMIT));
  }
}

/** Milliseconds on a clock that the page and its workers share (each has its own time origin). */
export function clock(): number {
  return performance.timeOrigin + performance.now();
}
