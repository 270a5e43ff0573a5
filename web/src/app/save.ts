/**
 * Saving what the page segmented, at the source's resolution: the class map in colours, the class ids as a grey
 * PNG, or the JSON `liveseg segment --save json` writes (`SegmentationResult.to_dict()`); and the view.
 */

import type { ClassInfo, LegendEntry } from "../lib";
import { deflate, greyPng } from "./png";

/** Class ids at some size, row by row. */
export interface ClassMap {
  labels: Uint8Array;
  width: number;
  height: number;
}

export const MASK_FORMATS = ["color", "labels", "json"] as const;
export type MaskFormat = (typeof MASK_FORMATS)[number];

export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * Where each of `size` output pixels samples an input of `from` pixels: the pixel centre, accumulated step by step
 * exactly as Pillow's NEAREST resize does (so the Python runtime's `resize_nearest` picks the same pixels, even
 * where a centre falls on a boundary and rounding decides).
 */
function nearestIndices(from: number, size: number): Int32Array {
  const step = from / size;
  const out = new Int32Array(size);
  let at = step * 0.5;
  for (let i = 0; i < size; i++, at += step) out[i] = Math.min(from - 1, Math.trunc(at));
  return out;
}

/** `map` resized to `width` × `height` by nearest neighbour (no new ids at boundaries). Always a copy: the
 * segmenter reuses a result's buffers for a later frame. */
export function resizeNearest(map: ClassMap, width: number, height: number): ClassMap {
  const out = new Uint8Array(width * height);
  const xs = nearestIndices(map.width, width);
  const ys = nearestIndices(map.height, height);
  for (let y = 0; y < height; y++) {
    const row = ys[y] * map.width;
    for (let x = 0; x < width; x++) out[y * width + x] = map.labels[row + xs[x]];
  }
  return { labels: out, width, height };
}

/** The class map in the classes' colours; hidden classes are left transparent. */
export function colorPng(map: ClassMap, classes: ClassInfo[], hidden: Set<number>): Promise<Blob> {
  const lut = new Uint8Array(256 * 4);
  for (const c of classes) {
    if (c.id < 0 || c.id > 255 || hidden.has(c.id)) continue;
    lut.set([...c.color, 255], c.id * 4);
  }
  const { width, height, labels } = map;
  const image = new ImageData(width, height);
  const px = image.data;
  for (let i = 0; i < labels.length; i++) px.set(lut.subarray(labels[i] * 4, labels[i] * 4 + 4), i * 4);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d")?.putImageData(image, 0, 0);
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (b) => (b ? resolve(b) : reject(new Error("The mask could not be encoded; try again."))),
      "image/png",
    ),
  );
}

/**
 * `x` rounded to 6 decimals as Python's `round(x, 6)`: on the exact binary value, ties to even (toFixed rounds
 * ties up, so a share of exactly 1/128 would otherwise differ).
 */
export function round6(x: number): number {
  const exact = x.toFixed(100);
  const [whole, fraction] = exact.split(".");
  const tail = fraction.slice(6);
  const kept = Number(`${whole}.${fraction.slice(0, 6)}`);
  const tie = /^50*$/.test(tail);
  const up = tie ? Number(fraction[5]) % 2 === 1 : tail > "5";
  return up ? Number((kept + 1e-6).toFixed(6)) : kept;
}

/** Classes present, most frequent first (ties by id), as `SegmentationResult.legend`. */
export function legendOf(map: ClassMap, classes: ClassInfo[]): LegendEntry[] {
  const counts = new Float64Array(Math.max(256, classes.length));
  for (const id of map.labels) counts[id]++;
  const order = classes.map((_, i) => i).filter((i) => counts[i] > 0);
  order.sort((a, b) => counts[b] - counts[a] || a - b);
  return order.map((i) => ({ ...classes[i], share: counts[i] / map.labels.length }));
}

/** `SegmentationResult.to_dict()` of the Python runtime, field for field (tests/web compares the two). */
export async function maskJson(map: ClassMap, classes: ClassInfo[]): Promise<Blob> {
  const legend = legendOf(map, classes);
  const packed = await deflate(map.labels);
  let binary = "";
  for (let i = 0; i < packed.length; i += 8192) binary += String.fromCharCode(...packed.subarray(i, i + 8192));
  const body = {
    legend: Object.fromEntries(legend.map((c) => [c.name, [...c.color]])),
    width: map.width,
    height: map.height,
    segmentationMap: btoa(binary),
    encoding: "zlib-base64-uint8-class-ids",
    shares: Object.fromEntries(legend.map((c) => [c.name, round6(c.share)])),
    classes: legend.map((c) => ({ id: c.id, name: c.name, color: [...c.color], share: round6(c.share) })),
  };
  return new Blob([`${JSON.stringify(body)}\n`], { type: "application/json" });
}

/** The file for `format`, and its name's suffix (the CLI's: `.png` ids, `.color.png`, `.json`). */
export async function maskFile(
  format: MaskFormat,
  map: ClassMap,
  classes: ClassInfo[],
  hidden: Set<number>,
): Promise<[Blob, string]> {
  if (format === "labels") return [await greyPng(map.labels, map.width, map.height), ".png"];
  if (format === "json") return [await maskJson(map, classes), ".json"];
  return [await colorPng(map, classes, hidden), ".color.png"];
}

export function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
}
