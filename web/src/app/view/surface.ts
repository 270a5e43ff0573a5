/** Small pieces both views share: what a frame is, the canvas size per mode, cover scaling, PNG encoding. */

import type { ViewMode } from "./options";

/** What a frame can be drawn from. */
export type Frame = VideoFrame | ImageBitmap | HTMLVideoElement;

/** Size of the canvas for a frame of `width` × `height` in `mode`. */
export function canvasSize(mode: ViewMode, width: number, height: number): [number, number] {
  return [mode === "side" ? width * 2 : width, height];
}

/** Fraction of an image (width, height; centred) that covers the frame without distortion. */
export function coverScale([bw, bh]: [number, number], [w, h]: [number, number]): [number, number] {
  if (!bw || !bh || !w || !h) return [1, 1];
  const frameAspect = w / h;
  const imageAspect = bw / bh;
  return frameAspect > imageAspect ? [1, imageAspect / frameAspect] : [frameAspect / imageAspect, 1];
}

export function encodePng(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (b) => (b ? resolve(b) : reject(new Error("The view could not be encoded; try again."))),
      "image/png",
    ),
  );
}
