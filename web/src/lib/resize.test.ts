/**
 * `NearestResizer` against the resize vectors that the Python runtime's `resize_nearest` is held to as well
 * (tests/vectors/resize.json), so a mask at the input's size is the same in the browser and in Python.
 * Run by tests/runtime/test_resize_vectors.py: compiled with tsc, then `node --test`.
 */

import { deepEqual } from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { NearestResizer } from "./resize";

interface Vectors {
  cases: { name: string; height: number; width: number; labels: number[]; to: [number, number]; expect: number[] }[];
}

const vectors: Vectors = JSON.parse(readFileSync(process.env.LIVESEG_RESIZE_VECTORS ?? "", "utf8"));

for (const c of vectors.cases) {
  test(c.name, () => {
    const [toHeight, toWidth] = c.to;
    const out = new Uint8Array(toHeight * toWidth).fill(255);
    new NearestResizer(c.height, c.width, toHeight, toWidth).resize(Uint8Array.from(c.labels), out);
    deepEqual([...out], c.expect);
  });
}
