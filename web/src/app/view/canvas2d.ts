/**
 * The 2D-canvas view, for machines whose WebGL runs on the CPU. The class map is coloured once per change at
 * the model's resolution (one table lookup per pixel) and scaled onto the frame by drawImage: bilinear
 * filtering of premultiplied colours is the GPU view's smooth edges (its weighted mix of the four neighbouring
 * classes), nearest filtering its hard ones. Effects are composed from canvas operations: blur filter, cover
 * draw, fill, hard-light over the grey frame (the GPU's recolour formula) and masks by "source-in"; stylise is
 * computed at the model's resolution.
 */

import { foregroundAlpha } from "../../lib";
import type { ClassInfo, SegmentationResult } from "../../lib";
import type { View } from "./contract";
import { classWeights, EFFECTS, MASK_BACKDROP, overlayOpacity, trust } from "./options";
import type { ClassStyle, ViewSettings } from "./options";
import { canvasSize, coverScale, encodePng } from "./surface";
import type { Frame } from "./surface";

type Context = OffscreenCanvasRenderingContext2D;

function context(width: number, height: number): Context {
  const ctx = new OffscreenCanvas(width, height).getContext("2d");
  if (!ctx) throw new Error("This browser cannot draw on an OffscreenCanvas; use a current browser.");
  return ctx;
}

function resize(ctx: Context, width: number, height: number): void {
  if (ctx.canvas.width !== width || ctx.canvas.height !== height) {
    ctx.canvas.width = width;
    ctx.canvas.height = height;
  }
}

/** An RGBA image at the model's size, with a Uint32 view for one-store-per-pixel writes (little-endian ABGR). */
class MapImage {
  readonly ctx: Context;
  image: ImageData;
  words: Uint32Array;

  constructor() {
    this.ctx = context(1, 1);
    this.image = new ImageData(1, 1);
    this.words = new Uint32Array(this.image.data.buffer);
  }

  fit(width: number, height: number): void {
    if (this.image.width === width && this.image.height === height) return;
    resize(this.ctx, width, height);
    this.image = new ImageData(width, height);
    this.words = new Uint32Array(this.image.data.buffer);
  }

  commit(): void {
    this.ctx.putImageData(this.image, 0, 0);
  }
}

function rgba(r: number, g: number, b: number, a: number): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

function css([r, g, b]: readonly number[]): string {
  return `rgb(${r}, ${g}, ${b})`;
}

export class Canvas2DView implements View {
  readonly kind = "2d";
  private readonly ctx: CanvasRenderingContext2D;
  private readonly colours = new MapImage();
  /** The effect's mask at the model's size: white with the foreground alpha, scaled onto the frame bilinearly. */
  private readonly foreground = new MapImage();
  private alpha: Uint8Array = new Uint8Array(0);
  private readonly stylised = new MapImage();
  /** Frame-sized scratch canvases: a masked layer and the effect it is cut from. */
  private readonly layer = context(1, 1);
  private readonly effect = context(1, 1);
  private readonly small = context(1, 1);
  private readonly styledImage = new MapImage();
  private frame: Frame | null = null;
  private frameSize: [number, number] = [0, 0];
  private result: SegmentationResult | null = null;
  private classes: ClassInfo[] = [];
  private style: ClassStyle = { hidden: new Set(), highlighted: new Set(), foreground: new Set() };
  private background: ImageBitmap | HTMLCanvasElement | null = null;
  private hasStyled = false;
  /** What the coloured map was last built for; rebuilt when any of it changes. */
  private built = "";
  private version = 0;

  constructor(readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext("2d", { alpha: false });
    if (!ctx) throw new Error("This browser cannot draw on a 2D canvas; use a current browser.");
    this.ctx = ctx;
  }

  get width(): number {
    return this.frameSize[0];
  }

  get height(): number {
    return this.frameSize[1];
  }

  show(frame: Frame, width: number, height: number, result: SegmentationResult | null): void {
    this.frame = frame;
    this.frameSize = [width, height];
    this.result = result;
    this.version++;
  }

  clear(): void {
    this.frame = null;
    this.result = null;
    this.frameSize = [0, 0];
  }

  setClasses(classes: ClassInfo[], style: ClassStyle): void {
    this.classes = classes;
    this.style = {
      hidden: new Set(style.hidden),
      highlighted: new Set(style.highlighted),
      foreground: new Set(style.foreground),
    };
    this.version++;
  }

  setBackground(image: ImageBitmap | HTMLCanvasElement): void {
    this.background = image;
  }

  setStyled(pixels: Uint8ClampedArray, width: number, height: number): void {
    this.styledImage.fit(width, height);
    this.styledImage.image.data.set(pixels);
    this.styledImage.commit();
    this.hasStyled = true;
  }

  render(view: ViewSettings): number {
    const t0 = performance.now();
    const [w, h] = this.frameSize;
    if (!this.frame || w === 0 || h === 0) return 0;
    const [cw, ch] = canvasSize(view.mode, w, h);
    if (this.canvas.width !== cw || this.canvas.height !== ch) {
      this.canvas.width = cw;
      this.canvas.height = ch;
    }
    const ctx = this.ctx;
    const dx = view.mode === "side" ? w : 0;
    if (view.mode === "side") ctx.drawImage(this.frame, 0, 0, w, h);
    if (!this.result) {
      ctx.drawImage(this.frame, dx, 0, w, h);
      return performance.now() - t0;
    }
    this.build(this.result, view);
    ctx.imageSmoothingEnabled = view.smooth;
    if (view.mode === "mask") {
      ctx.fillStyle = css(MASK_BACKDROP.map((c) => Math.round(c * 255)));
      ctx.fillRect(0, 0, w, h);
    } else {
      this.drawBase(view, dx);
    }
    if (view.mode === "mask" || overlayOpacity(view) > 0) {
      ctx.imageSmoothingEnabled = view.smooth;
      ctx.drawImage(this.colours.ctx.canvas, dx, 0, w, h);
    }
    return performance.now() - t0;
  }

  snapshot(view: ViewSettings): Promise<Blob> {
    this.render(view);
    return encodePng(this.canvas);
  }

  /** The frame with the effect applied, as the GPU compositor's `effected()`. */
  private drawBase(view: ViewSettings, dx: number): void {
    const ctx = this.ctx;
    const frame = this.frame as Frame;
    const [w, h] = this.frameSize;
    const effect = view.effect === "image" && !this.background ? "none" : view.effect;
    const kind = EFFECTS.find((e) => e.value === effect);
    if (!kind || effect === "none" || (effect === "model" && !this.hasStyled)) {
      ctx.drawImage(frame, dx, 0, w, h);
      return;
    }
    if (kind.background) {
      this.drawBackdrop(view, dx);
      this.drawMasked(frame, dx, 1, view.smooth);
      return;
    }
    ctx.drawImage(frame, dx, 0, w, h);
    if (effect === "recolor") this.drawMasked(this.recoloured(view), dx, 1, view.smooth);
    else if (effect === "stylize") this.drawMasked(this.stylise(frame), dx, 1, view.smooth);
    else this.drawMasked(this.styledImage.ctx.canvas, dx, view.strength, view.smooth);
  }

  /** What replaces the background: the blurred frame, an image covering it, or a colour. */
  private drawBackdrop(view: ViewSettings, dx: number): void {
    const ctx = this.ctx;
    const [w, h] = this.frameSize;
    if (view.effect === "blur") {
      // At a quarter of the size, as the GPU view; its 9-tap kernel has σ ≈ half the radius.
      const sw = Math.max(1, Math.ceil(w / 4));
      const sh = Math.max(1, Math.ceil(h / 4));
      resize(this.small, sw, sh);
      this.small.filter = `blur(${Math.max(view.blur, 1) / 8}px)`;
      this.small.drawImage(this.frame as Frame, 0, 0, sw, sh);
      this.small.filter = "none";
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(this.small.canvas, dx, 0, w, h);
    } else if (view.effect === "image" && this.background) {
      const bg = this.background;
      const [sx, sy] = coverScale([bg.width, bg.height], [w, h]);
      const cw = bg.width * sx;
      const ch = bg.height * sy;
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(bg, (bg.width - cw) / 2, (bg.height - ch) / 2, cw, ch, dx, 0, w, h);
    } else {
      ctx.fillStyle = css(view.color);
      ctx.fillRect(dx, 0, w, h);
    }
  }

  /** `source` drawn over the view where the effect's classes are, with `alpha`. */
  private drawMasked(source: CanvasImageSource, dx: number, alpha: number, smooth: boolean): void {
    const [w, h] = this.frameSize;
    const layer = this.layer;
    resize(layer, w, h);
    layer.globalCompositeOperation = "copy";
    layer.imageSmoothingEnabled = smooth;
    layer.drawImage(this.foreground.ctx.canvas, 0, 0, w, h);
    layer.globalCompositeOperation = "source-in";
    layer.imageSmoothingEnabled = true;
    layer.drawImage(source, 0, 0, w, h);
    layer.globalCompositeOperation = "source-over";
    this.ctx.globalAlpha = alpha;
    this.ctx.drawImage(layer.canvas, dx, 0);
    this.ctx.globalAlpha = 1;
  }

  /** Hard light of the grey frame over the colour: 2yC below mid-grey, 1 − 2(1 − y)(1 − C) above. */
  private recoloured(view: ViewSettings): OffscreenCanvas {
    const [w, h] = this.frameSize;
    const fx = this.effect;
    resize(fx, w, h);
    fx.globalCompositeOperation = "source-over";
    fx.fillStyle = css(view.color);
    fx.fillRect(0, 0, w, h);
    fx.globalCompositeOperation = "hard-light";
    fx.filter = "grayscale(1)";
    fx.drawImage(this.frame as Frame, 0, 0, w, h);
    fx.filter = "none";
    fx.globalCompositeOperation = "source-over";
    return fx.canvas;
  }

  /** Posterised, saturated colours with dark Sobel edges, at the model's resolution. */
  private stylise(frame: Frame): OffscreenCanvas {
    const { width: w, height: h } = this.result as SegmentationResult;
    const out = this.stylised;
    out.fit(w, h);
    out.ctx.drawImage(frame, 0, 0, w, h);
    const src = out.ctx.getImageData(0, 0, w, h).data;
    const luma = new Float32Array(w * h);
    for (let p = 0, i = 0; p < luma.length; p++, i += 4) {
      luma[p] = (0.2126 * src[i] + 0.7152 * src[i + 1] + 0.0722 * src[i + 2]) / 255;
    }
    const dst = out.image.data;
    for (let y = 0; y < h; y++) {
      const up = Math.max(0, y - 1) * w;
      const row = y * w;
      const down = Math.min(h - 1, y + 1) * w;
      for (let x = 0; x < w; x++) {
        const l = Math.max(0, x - 1);
        const r = Math.min(w - 1, x + 1);
        const gx =
          luma[up + r] + 2 * luma[row + r] + luma[down + r] - luma[up + l] - 2 * luma[row + l] - luma[down + l];
        const gy =
          luma[down + l] + 2 * luma[down + x] + luma[down + r] - luma[up + l] - 2 * luma[up + x] - luma[up + r];
        const t = Math.min(1, Math.max(0, (Math.hypot(gx, gy) - 0.3) / 0.4));
        const edge = t * t * (3 - 2 * t) * 0.85;
        const i = (row + x) * 4;
        const y0 = luma[row + x];
        for (let c = 0; c < 3; c++) {
          const saturated = Math.min(1, Math.max(0, y0 + 1.3 * (src[i + c] / 255 - y0)));
          const poster = Math.floor(saturated * 5 + 0.5) / 5;
          dst[i + c] = Math.round((poster + (0.04 - poster) * edge) * 255);
        }
        dst[i + 3] = 255;
      }
    }
    out.commit();
    return out.ctx.canvas;
  }

  /** Colour the class map and cut the effect's mask for the current result and settings, when they changed. */
  private build(result: SegmentationResult, view: ViewSettings): void {
    const effect = view.mode !== "mask" && view.effect !== "none";
    const overlay = view.mode === "mask" || overlayOpacity(view) > 0;
    const key = `${this.version} ${view.mode} ${view.opacity} ${view.smooth} ${view.effect}`;
    if (key === this.built) return;
    this.built = key;
    if (overlay) this.colour(result, view);
    if (effect) this.cut(result, view.smooth);
  }

  private colour(result: SegmentationResult, view: ViewSettings): void {
    const { width, height, labels, confidence } = result;
    this.colours.fit(width, height);
    const lut = this.lut(view);
    const words = this.colours.words;
    const fade = view.mode !== "mask" && view.smooth && confidence ? trustTable() : null;
    if (fade && confidence) {
      for (let i = 0; i < labels.length; i++) {
        const c = lut[labels[i]];
        words[i] = ((c & 0xffffff) | ((((c >>> 24) * fade[confidence[i]] + 127) / 255) << 24)) >>> 0;
      }
    } else {
      for (let i = 0; i < labels.length; i++) words[i] = lut[labels[i]];
    }
    this.colours.commit();
  }

  /**
   * The effect's mask: smooth edges take the foreground alpha (the probability, upsampled bilinearly by
   * drawImage); hard edges the class map alone, upsampled nearest.
   */
  private cut(result: SegmentationResult, smooth: boolean): void {
    const { width, height, labels, confidence } = result;
    this.foreground.fit(width, height);
    this.alpha = foregroundAlpha(labels, smooth ? confidence : null, this.style.foreground, this.alpha);
    const fg = this.foreground.words;
    const alpha = this.alpha;
    for (let i = 0; i < alpha.length; i++) fg[i] = ((alpha[i] << 24) | 0xffffff) >>> 0;
    this.foreground.commit();
  }

  /** Per class id: its colour and its overlay alpha, clamp(opacity × weight) (clamp(weight) for the mask view). */
  private lut(view: ViewSettings): Uint32Array {
    const lut = new Uint32Array(256);
    const weights = classWeights(
      this.classes.map((c) => c.id),
      this.style,
    );
    const scale = view.mode === "mask" ? 1 : view.opacity;
    for (const c of this.classes) {
      if (c.id < 0 || c.id > 255) continue;
      const alpha = Math.round(Math.min(1, scale * (weights.get(c.id) ?? 0)) * 255);
      lut[c.id] = rgba(c.color[0], c.color[1], c.color[2], alpha);
    }
    return lut;
  }
}

let trusts: Uint8Array | null = null;

/** `trust(confidence)` × 255 for each confidence byte. */
function trustTable(): Uint8Array {
  trusts ??= Uint8Array.from({ length: 256 }, (_, c) => Math.round(trust(c) * 255));
  return trusts;
}
