/**
 * `Stabiliser` against the vectors that liveseg.runtime.stabilise is held to as well (tests/vectors/stabilise.json),
 * so the browser and Python stabilise a video to the same bytes.
 * Run by tests/runtime/test_stabilise.py: compiled with tsc, then `node --test`.
 */

import { deepEqual, equal } from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { DEFAULT_STRENGTH, hold, margin, Stabiliser, weights } from "./stabilise";

type Map = number[] | number[][];

interface Vectors {
  default_strength: number;
  tables: { strength: number; weights: number[]; margin: number; hold: number }[];
  cases: {
    about: string;
    strength: number;
    frames: { labels: Map; confidence: Map }[];
    expect: { labels: Map; evidence: Map }[];
  }[];
}

const vectors: Vectors = JSON.parse(readFileSync(process.env.LIVESEG_STABILISE_VECTORS ?? "", "utf8"));

test("default strength", () => equal(DEFAULT_STRENGTH, vectors.default_strength));

for (const t of vectors.tables) {
  test(`weights, margin and hold at strength ${t.strength}`, () => {
    deepEqual(Array.from(weights(t.strength)), t.weights);
    equal(margin(t.strength), t.margin);
    equal(hold(t.strength), t.hold);
  });
}

for (const c of vectors.cases) {
  test(c.about, () => {
    const stabiliser = new Stabiliser();
    c.frames.forEach((frame, i) => {
      const labels = Uint8Array.from(frame.labels.flat());
      const confidence = Uint8Array.from(frame.confidence.flat());
      const width = Array.isArray(frame.labels[0]) ? frame.labels[0].length : labels.length;
      stabiliser.apply(labels, confidence, width, c.strength);
      deepEqual(
        { labels: Array.from(labels), evidence: Array.from(confidence) },
        {
          labels: c.expect[i].labels.flat(),
          evidence: c.expect[i].evidence.flat(),
        },
      );
    });
  });
}
