/**
 * `foregroundAlpha` against the alpha vectors that the Python runtime is held to as well
 * (tests/vectors/alpha.json), so the browser's effects and `SegmentationResult.alpha` cut the same mask.
 * Run by tests/runtime/test_alpha_vectors.py: compiled with tsc, then `node --test`.
 */

import { deepEqual } from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { foregroundAlpha } from "./alpha";

interface Vectors {
  cases: { name: string; labels: number[]; confidence: number[] | null; foreground: number[]; expect: number[] }[];
}

const vectors: Vectors = JSON.parse(readFileSync(process.env.LIVESEG_ALPHA_VECTORS ?? "", "utf8"));

for (const c of vectors.cases) {
  test(c.name, () => {
    const labels = Uint8Array.from(c.labels);
    const confidence = c.confidence ? Uint8Array.from(c.confidence) : null;
    deepEqual([...foregroundAlpha(labels, confidence, c.foreground)], c.expect);
    // Reusing an output buffer gives the same bytes.
    const out = new Uint8Array(labels.length).fill(7);
    deepEqual([...foregroundAlpha(labels, confidence, new Set(c.foreground), out)], c.expect);
  });
}
