/** Saving the current class map (coloured, at the model's resolution) or the view as PNG files. */

import type { ClassInfo, SegmentationResult } from "../lib";

export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The class map in the classes' colours; hidden classes are left transparent. */
export function maskPng(result: SegmentationResult, classes: ClassInfo[], hidden: Set<number>): Promise<Blob> {
  const lut = new Uint8Array(256 * 4);
  for (const c of classes) {
    if (c.id < 0 || c.id > 255 || hidden.has(c.id)) continue;
    lut.set([...c.color, 255], c.id * 4);
  }
  const { width, height, labels } = result;
  const image = new ImageData(width, height);
  const px = image.data;
  for (let i = 0; i < labels.length; i++) px.set(lut.subarray(labels[i] * 4, labels[i] * 4 + 4), i * 4);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d")?.putImageData(image, 0, 0);
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("The mask could not be encoded."))), "image/png"),
  );
}

export function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
}
