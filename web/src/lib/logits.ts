/**
 * Decoding the output of a logits variant (docs/ARCHITECTURE.md, "Bundles"): the network's float32 N×C×h×w
 * logits are upsampled bilinearly (half-pixel centres, align_corners=False) to the input's H×W and arg-maxed
 * (first maximum wins); the confidence is round(255 × top-class softmax probability) computed on the
 * low-resolution logits and upsampled bilinearly: what the labels graph computes inside itself.
 *
 * Where the four low-resolution neighbours of a pixel agree on their arg-max, every bilinear mix of them has
 * that arg-max too, so only pixels along class boundaries interpolate all C channels.
 */

/** Source indices and weights of 1-D linear interpolation from `n` to `size` samples (half-pixel centres). */
interface Axis {
  low: Int32Array;
  high: Int32Array;
  frac: Float32Array;
}

function axis(n: number, size: number): Axis {
  const low = new Int32Array(size);
  const high = new Int32Array(size);
  const frac = new Float32Array(size);
  const scale = n / size;
  for (let i = 0; i < size; i++) {
    const pos = Math.max(0, (i + 0.5) * scale - 0.5);
    const l = Math.min(Math.floor(pos), n - 1);
    low[i] = l;
    high[i] = Math.min(l + 1, n - 1);
    frac[i] = pos - l;
  }
  return { low, high, frac };
}

export class LogitsDecoder {
  private readonly xs: Axis;
  private readonly ys: Axis;
  /** Arg-max and top-class probability of each low-resolution pixel. */
  private readonly best: Uint8Array;
  private readonly top: Float32Array;

  constructor(
    readonly classes: number,
    readonly lowHeight: number,
    readonly lowWidth: number,
    readonly height: number,
    readonly width: number,
  ) {
    if (classes > 256) throw new Error(`a logits graph with ${classes} classes does not fit uint8 class ids`);
    this.xs = axis(lowWidth, width);
    this.ys = axis(lowHeight, height);
    this.best = new Uint8Array(lowHeight * lowWidth);
    this.top = new Float32Array(lowHeight * lowWidth);
  }

  /** Fill `labels` (and `confidence`, when given) at H×W from one image's C×h×w logits. */
  decode(logits: Float32Array, labels: Uint8Array, confidence: Uint8Array | null): void {
    this.lowResolution(logits);
    for (let y = 0; y < this.height; y++) this.row(logits, y, labels, confidence);
  }

  private lowResolution(logits: Float32Array): void {
    const plane = this.lowHeight * this.lowWidth;
    const { classes, best, top } = this;
    for (let p = 0; p < plane; p++) {
      let k = 0;
      let max = logits[p];
      for (let c = 1; c < classes; c++) {
        const v = logits[c * plane + p];
        if (v > max) {
          max = v;
          k = c;
        }
      }
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[c * plane + p] - max);
      best[p] = k;
      top[p] = 1 / sum;
    }
  }

  private row(logits: Float32Array, y: number, labels: Uint8Array, confidence: Uint8Array | null): void {
    const { xs, best, top, lowWidth: lw } = this;
    const r0 = this.ys.low[y] * lw;
    const r1 = this.ys.high[y] * lw;
    const fy = this.ys.frac[y];
    const out = y * this.width;
    for (let x = 0; x < this.width; x++) {
      const x0 = xs.low[x];
      const x1 = xs.high[x];
      const fx = xs.frac[x];
      const a = r0 + x0;
      const b = r0 + x1;
      const c = r1 + x0;
      const d = r1 + x1;
      const k = best[a];
      labels[out + x] =
        k === best[b] && k === best[c] && k === best[d] ? k : this.mixedArgmax(logits, a, b, c, d, fx, fy);
      if (confidence) {
        const upper = top[a] + (top[b] - top[a]) * fx;
        const lower = top[c] + (top[d] - top[c]) * fx;
        confidence[out + x] = Math.round((upper + (lower - upper) * fy) * 255);
      }
    }
  }

  /** Arg-max of the bilinear mix of four low-resolution pixels' logits, in the resize's own order of terms. */
  private mixedArgmax(
    logits: Float32Array,
    a: number,
    b: number,
    c: number,
    d: number,
    fx: number,
    fy: number,
  ): number {
    const plane = this.lowHeight * this.lowWidth;
    const wx = 1 - fx;
    const wy = 1 - fy;
    let k = 0;
    let max = -Infinity;
    for (let cls = 0, o = 0; cls < this.classes; cls++, o += plane) {
      const v = wy * (wx * logits[o + a] + fx * logits[o + b]) + fy * (wx * logits[o + c] + fx * logits[o + d]);
      if (v > max) {
        max = v;
        k = cls;
      }
    }
    return k;
  }
}

/**
 * Per-class probabilities (confidence masks) at any size: the softmax of the low-resolution logits, each class's
 * plane upsampled bilinearly (half-pixel centres) to the size asked for, as the top-class confidence is.
 */
export class ClassProbabilities {
  private readonly softmax: Float32Array;
  private sized: { height: number; width: number; xs: Axis; ys: Axis } | null = null;

  constructor(
    readonly classes: number,
    readonly lowHeight: number,
    readonly lowWidth: number,
  ) {
    this.softmax = new Float32Array(classes * lowHeight * lowWidth);
  }

  /** Fill `out` (classes planes of height × width, class by class) from one image's C×h×w logits. */
  fill(logits: Float32Array, height: number, width: number, out: Float32Array): void {
    this.lowResolution(logits);
    const { xs, ys } = this.axesFor(height, width);
    const plane = this.lowHeight * this.lowWidth;
    const lw = this.lowWidth;
    for (let c = 0; c < this.classes; c++) {
      const p = this.softmax.subarray(c * plane, (c + 1) * plane);
      for (let y = 0, o = c * height * width; y < height; y++) {
        const r0 = ys.low[y] * lw;
        const r1 = ys.high[y] * lw;
        const fy = ys.frac[y];
        for (let x = 0; x < width; x++, o++) {
          const fx = xs.frac[x];
          const upper = p[r0 + xs.low[x]] + (p[r0 + xs.high[x]] - p[r0 + xs.low[x]]) * fx;
          const lower = p[r1 + xs.low[x]] + (p[r1 + xs.high[x]] - p[r1 + xs.low[x]]) * fx;
          out[o] = upper + (lower - upper) * fy;
        }
      }
    }
  }

  private lowResolution(logits: Float32Array): void {
    const plane = this.lowHeight * this.lowWidth;
    const { classes, softmax } = this;
    for (let q = 0; q < plane; q++) {
      let max = logits[q];
      for (let c = 1; c < classes; c++) max = Math.max(max, logits[c * plane + q]);
      let sum = 0;
      for (let c = 0; c < classes; c++) {
        const e = Math.exp(logits[c * plane + q] - max);
        softmax[c * plane + q] = e;
        sum += e;
      }
      for (let c = 0; c < classes; c++) softmax[c * plane + q] /= sum;
    }
  }

  /** The interpolation tables for one output size, kept while frames keep that size. */
  private axesFor(height: number, width: number): { xs: Axis; ys: Axis } {
    const s = this.sized;
    if (s && s.height === height && s.width === width) return s;
    this.sized = { height, width, xs: axis(this.lowWidth, width), ys: axis(this.lowHeight, height) };
    return this.sized;
  }
}
