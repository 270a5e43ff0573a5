/**
 * MediaPipe's own masks of still images, for tests and benchmarks to compare liveseg's converted person models
 * with: `window.segmentImages(dataUrls)` resolves to one person-probability mask per image (bytes, 255 = 1.0, at
 * the image's size, as the solution's `segmentationMask` is drawn there). `?model=0|1` as in mediapipe.ts.
 */

import type { Results } from "@mediapipe/selfie_segmentation";

import { fail, param } from "./common";
import { createSolution } from "./mediapipe-solution";

interface Mask {
  width: number;
  height: number;
  /** base64 of width × height bytes: the mask's alpha channel, where the solution puts the probability (its
   * colour channels are premultiplied by it, so reading red back un-premultiplied gives 255 almost anywhere). */
  data: string;
}

async function image(url: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.src = url;
  await img.decode();
  return img;
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

async function main(): Promise<void> {
  const selfie = await createSolution(Number(param("model", "0")));
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  let latest: Results | null = null;
  selfie.onResults((results) => {
    latest = results;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(results.segmentationMask, 0, 0, canvas.width, canvas.height);
  });
  const segment = async (url: string): Promise<Mask> => {
    const img = await image(url);
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    latest = null;
    await selfie.send({ image: img });
    if (latest === null) throw new Error("MediaPipe returned no results for the image.");
    const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const alpha = new Uint8Array(canvas.width * canvas.height);
    for (let i = 0; i < alpha.length; i++) alpha[i] = rgba[i * 4 + 3];
    return { width: canvas.width, height: canvas.height, data: base64(alpha) };
  };
  const w = window as unknown as { segmentImages: (urls: string[]) => Promise<Mask[]>; ready: boolean };
  w.segmentImages = async (urls) => {
    const masks = [];
    for (const url of urls) masks.push(await segment(url));
    return masks;
  };
  w.ready = true;
}

main().catch(fail);
