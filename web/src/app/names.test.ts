/**
 * The names the web app lists against the Python ones (tests/vectors/names.json, written from liveseg.runtime.manifest
 * and liveseg.bench.snapshot), so a precision, graph or stage cannot be added on one side only.
 * Run by tests/runtime/test_name_vectors.py: compiled with tsc, then `node --test`.
 */

import { deepEqual } from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { GRAPHS, PRECISIONS } from "../lib/options";
import { STAGES } from "./stats";

const vectors: Record<string, string[]> = JSON.parse(readFileSync(process.env.LIVESEG_NAME_VECTORS ?? "", "utf8"));

test("precisions", () => deepEqual([...PRECISIONS], vectors.precisions));
test("graphs", () => deepEqual([...GRAPHS], vectors.graphs));
test("stages", () => deepEqual([...STAGES], vectors.stages));
