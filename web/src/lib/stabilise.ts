/**
 * Temporal stabilisation of class maps on live video, the same integer arithmetic as liveseg.runtime.stabilise
 * (its docstring explains the rule and why); both are held to tests/vectors/stabilise.json, so the browser and
 * Python give the same bytes. Per pixel the state is the stabilised label, its evidence (0..255, a running
 * estimate of that label's probability), the label it left at its last switch and the frames since: sustained
 * global motion moves the state along, confident pixels follow the new frame at once, uncertain ones lean on the
 * past, and a pixel switching back to the label it just left is held for a few frames.
 */

export const FOLLOW = 242;
export const CHANCE = 128;
export const MAX_PAST = 252;
export const MAX_MARGIN = 85;
export const MAX_HOLD = 16;
export const SEARCH = 3;
export const GRID = 8;
export const SUSTAINED = 3;
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

export function hold(strength: number): number {
  return roundHalfEven(checkStrength(strength) * MAX_HOLD);
}

/**
 * The integer shift [dy, dx] within ±SEARCH under which `labels[y, x]` agrees most often with
 * `previous[y − dy, x − dx]` on every GRID-th row and column; ties go to the smaller |dy| + |dx|, then to the
 * first in row-major order of (dy, dx).
 */
export function globalShift(previous: Uint8Array, labels: Uint8Array, width: number): [number, number] {
  const height = labels.length / width;
  const r = SEARCH;
  const rows = Math.max(0, Math.ceil((height - 2 * r) / GRID));
  const cols = Math.max(0, Math.ceil((width - 2 * r) / GRID));
  const at = new Int32Array(rows * cols);
  const core = new Uint8Array(rows * cols);
  for (let k = 0; k < at.length; k++) {
    at[k] = (r + Math.floor(k / cols) * GRID) * width + r + (k % cols) * GRID;
    core[k] = labels[at[k]];
  }
  let best = -1;
  let shift: [number, number] = [0, 0];
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const off = dy * width + dx;
      let agree = 0;
      for (let k = 0; k < at.length; k++) if (core[k] === previous[at[k] - off]) agree++;
      if (agree > best || (agree === best && Math.abs(dy) + Math.abs(dx) < Math.abs(shift[0]) + Math.abs(shift[1]))) {
        best = agree;
        shift = [dy, dx];
      }
    }
  }
  return shift;
}

/** Frames in a row moved the same way along one axis (signed, saturating at ±255) after a shift `s`. */
function runAfter(n: number, s: number): number {
  const step = Math.sign(s);
  const sameWay = step !== 0 && n !== 0 && n > 0 === step > 0;
  return sameWay ? Math.max(-255, Math.min(255, n + step)) : step;
}

/** One stream's per-pixel state. */
interface Maps {
  labels: Uint8Array;
  evidence: Uint8Array;
  left: Uint8Array;
  age: Uint8Array;
}

/** Pixels [start, end) of the state taken afresh from the new frame. */
function fresh(s: Maps, labels: Uint8Array, confidence: Uint8Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    s.labels[i] = labels[i];
    s.evidence[i] = confidence[i];
    s.left[i] = labels[i];
    s.age[i] = 255;
  }
}

/**
 * The state shifted by (dy, dx) in place: each map moves as one block (rows wrap into their neighbours), then the
 * uncovered rows and columns, and the wrapped ones, start afresh from the new frame.
 */
function move(s: Maps, labels: Uint8Array, confidence: Uint8Array, width: number, dy: number, dx: number): void {
  const n = labels.length;
  const height = n / width;
  const off = dy * width + dx;
  for (const map of [s.labels, s.evidence, s.left, s.age]) {
    if (off > 0) map.copyWithin(off, 0, n - off);
    else map.copyWithin(0, -off, n);
  }
  const top = Math.min(Math.max(dy, 0), height);
  const bottom = Math.max(height + Math.min(dy, 0), top);
  fresh(s, labels, confidence, 0, top * width);
  fresh(s, labels, confidence, bottom * width, n);
  for (let y = top; y < bottom; y++) {
    const row = y * width;
    if (dx > 0) fresh(s, labels, confidence, row, row + dx);
    else if (dx < 0) fresh(s, labels, confidence, row + width + dx, row + width);
  }
}

function maps(n: number): Maps {
  return { labels: new Uint8Array(n), evidence: new Uint8Array(n), left: new Uint8Array(n), age: new Uint8Array(n) };
}

/**
 * A stabiliser for one stream of frames: `apply` rewrites a frame's labels and confidence in place (the
 * confidence becomes the evidence of the kept label) and remembers what it needs for the next frame in buffers
 * of its own.
 */
export class Stabiliser {
  private state: Maps | null = null;
  private raw: Uint8Array | null = null;
  private run: [number, number] = [0, 0];
  private table: Uint16Array = new Uint16Array(256);
  private tableFor = -1;

  /** Forget the past: the next frame is taken as it is. */
  reset(): void {
    this.state = null;
    this.run = [0, 0];
  }

  apply(labels: Uint8Array, confidence: Uint8Array, width: number, strength: number): void {
    const n = labels.length;
    const state = this.state;
    if (!state || !this.raw || state.labels.length !== n || strength === 0) {
      this.start(labels, confidence);
      return;
    }
    if (this.tableFor !== strength) {
      this.table = weights(strength);
      this.tableFor = strength;
    }
    const shift = globalShift(this.raw, labels, width);
    this.run = [runAfter(this.run[0], shift[0]), runAfter(this.run[1], shift[1])];
    const dy = Math.abs(this.run[0]) >= SUSTAINED ? shift[0] : 0;
    const dx = Math.abs(this.run[1]) >= SUSTAINED ? shift[1] : 0;
    if (dy || dx) move(state, labels, confidence, width, dy, dx);
    this.step(state, labels, confidence, strength);
    this.raw.set(labels);
    labels.set(state.labels);
    confidence.set(state.evidence);
  }

  private start(labels: Uint8Array, confidence: Uint8Array): void {
    const n = labels.length;
    if (!this.state || this.state.labels.length !== n) {
      this.state = maps(n);
      this.raw = new Uint8Array(n);
    }
    const { state } = this;
    state.labels.set(labels);
    state.evidence.set(confidence);
    state.left.set(labels);
    state.age.fill(255);
    (this.raw as Uint8Array).set(labels);
    this.run = [0, 0];
  }

  /** The per-pixel rule on the (moved) state, in place. */
  private step(s: Maps, labels: Uint8Array, confidence: Uint8Array, strength: number): void {
    const table = this.table;
    const top = table[0];
    const m = margin(strength);
    const held = hold(strength);
    const { labels: state, evidence, left, age } = s;
    for (let i = 0; i < labels.length; i++) {
      const c = confidence[i];
      const e = evidence[i];
      const label = labels[i];
      const was = state[i];
      const a = age[i];
      if (label === was) {
        const w = table[c];
        evidence[i] = (w * e + (256 - w) * c + 128) >> 8;
        if (a < 255) age[i] = a + 1;
        continue;
      }
      const w = label === left[i] && a < held ? top : table[c];
      const kept = (w * e + (256 - w) * (255 - c) + 128) >> 8;
      const challenger = (w * (255 - e) + (256 - w) * c + 128) >> 8;
      if (challenger > kept + m) {
        left[i] = was;
        state[i] = label;
        evidence[i] = challenger;
        age[i] = 0;
      } else {
        evidence[i] = kept;
        if (a < 255) age[i] = a + 1;
      }
    }
  }
}
