/**
 * Class maps from the model's size to the input's: nearest neighbour, so no class id appears that the model did not
 * output. The rule is Pillow's NEAREST, which the Python runtime's `resize_nearest` uses, so a mask at the input's
 * size is the same in both; tests/vectors/resize.json holds them to it.
 */

/**
 * Source index of each of `size` outputs from `n` inputs: trunc of a running sum started at s/2 and advanced by
 * s = n / size per step. Pillow accumulates it so; one multiplication per index would round differently where the
 * sum lands next to an integer (2 → 7 columns, 288 → 720 rows).
 */
export function nearestIndices(n: number, size: number): Int32Array {
  const out = new Int32Array(size);
  const step = n / size;
  let at = step * 0.5;
  for (let i = 0; i < size; i++, at += step) out[i] = Math.min(Math.trunc(at), n - 1);
  return out;
}

/** Nearest-neighbour copies of row-major maps of one size into maps of another, its index tables kept. */
export class NearestResizer {
  private readonly rows: Int32Array;
  private readonly cols: Int32Array;

  constructor(
    readonly height: number,
    readonly width: number,
    readonly toHeight: number,
    readonly toWidth: number,
  ) {
    this.rows = nearestIndices(height, toHeight);
    this.cols = nearestIndices(width, toWidth);
  }

  /** Fill `out` (toHeight × toWidth) from `map` (height × width). */
  resize(map: Uint8Array, out: Uint8Array): void {
    const { rows, cols, width, toWidth } = this;
    for (let y = 0; y < rows.length; y++) {
      const from = rows[y] * width;
      const to = y * toWidth;
      for (let x = 0; x < toWidth; x++) out[to + x] = map[from + cols[x]];
    }
  }
}
