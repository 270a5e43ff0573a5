/**
 * Temporal stabilisation of class maps on live video, the same integer arithmetic as liveseg.runtime.stabilise
 * (its docstring explains the rule and why); both are held to tests/vectors/stabilise.json, so the browser and
 * Python give the same bytes. Per pixel the state is the stabilised label and its evidence (0..255, a running
 * estimate of that label's probability): confident pixels follow the new frame at once, uncertain ones lean on
 * the past, and a new label must beat the old one's blended evidence by a margin to replace it.
 */

export const FOLLOW = 242;
export const CHANCE = 128;
export const MAX_PAST = 240;
export const MAX_MARGIN = 64;
export const DEFAULT_STRENGTH = 0.75;

function checkStrength(strength: number): number {
  if (!(strength >= 0 && strength <= 1)) {
    throw new Error(`stabiliser strength ${strength} is not between 0 (off) and 1; pass e.g. 0.75.`);
  }
  return strength;
}

/** Python's round() on the products used here (halves to even), so both languages pick the same integers. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The past's weight (0..256) for each confidence byte. */
export function weights(strength: number): Uint16Array {
  const top = roundHalfEven(checkStrength(strength) * MAX_PAST);
  const table = new Uint16Array(256);
  for (let c = 0; c < 256; c++) {
    const uncertainty = Math.min(256, Math.max(0, Math.floor(((FOLLOW - c) * 256) / (FOLLOW - CHANCE))));
    table[c] = (top * uncertainty) >> 8;
  }
  return table;
}

/** The strength that an option (true: the default, false: off, or a strength 0..1) asks for; 0 is off. */
export function strengthOf(stabilise: boolean | number): number {
  if (typeof stabilise === "boolean") return stabilise ? DEFAULT_STRENGTH : 0;
  return checkStrength(stabilise);
}

export function margin(strength: number): number {
  return roundHalfEven(checkStrength(strength) * MAX_MARGIN);
}

/**
 * A stabiliser for one stream of frames: `apply` rewrites a frame's labels and confidence in place (the
 * confidence becomes the evidence of the kept label) and remembers them for the next frame.
 */
export class Stabiliser {
  private labels: Uint8Array | null = null;
  private evidence: Uint8Array | null = null;
  private table: Uint16Array = new Uint16Array(256);
  private tableFor = -1;

  /** Forget the past: the next frame is taken as it is. */
  reset(): void {
    this.labels = null;
    this.evidence = null;
  }

  apply(labels: Uint8Array, confidence: Uint8Array, strength: number): void {
    const n = labels.length;
    if (!this.labels || !this.evidence || this.labels.length !== n || strength === 0) {
      this.labels = labels.slice();
      this.evidence = confidence.slice();
      return;
    }
    if (this.tableFor !== strength) {
      this.table = weights(strength);
      this.tableFor = strength;
    }
    const { table, labels: state, evidence } = this;
    const m = margin(strength);
    for (let i = 0; i < n; i++) {
      const c = confidence[i];
      const e = evidence[i];
      const w = table[c];
      const same = labels[i] === state[i];
      const kept = (w * e + (256 - w) * (same ? c : 255 - c) + 128) >> 8;
      if (!same) {
        const challenger = (w * (255 - e) + (256 - w) * c + 128) >> 8;
        if (challenger > kept + m) {
          state[i] = labels[i];
          evidence[i] = challenger;
          continue;
        }
      }
      evidence[i] = kept;
    }
    labels.set(state);
    confidence.set(evidence);
  }
}
