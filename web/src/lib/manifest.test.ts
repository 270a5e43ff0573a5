/**
 * `pickVariant` against the variant-selection vectors that the Python runtime is held to as well
 * (tests/vectors/variants.json), so the browser and `liveseg.load` open a bundle on the same variant.
 * Run by tests/runtime/test_variant_vectors.py: compiled with tsc, then `node --test`.
 */

import { deepEqual, throws } from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { bundleUrl, pickVariant } from "./manifest";
import type { Precision } from "./options";
import type { Manifest } from "./types";

interface Vectors {
  bundles: Record<string, Pick<Manifest, "variants" | "default_variant">>;
  cases: {
    bundle: string;
    precision: Precision | null;
    size: [number, number] | null;
    expect: { precision: Precision; height: number; width: number } | "error";
  }[];
}

const vectors: Vectors = JSON.parse(readFileSync(process.env.LIVESEG_VARIANT_VECTORS ?? "", "utf8"));

for (const c of vectors.cases) {
  test(`${c.bundle}: precision ${c.precision}, size ${c.size}`, () => {
    const manifest = { name: c.bundle, ...vectors.bundles[c.bundle] } as Manifest;
    const pick = () => pickVariant(manifest, c.precision ?? undefined, c.size ?? undefined);
    if (c.expect === "error") {
      throws(pick);
    } else {
      const v = pick();
      deepEqual(
        { graph: v.graph ?? "labels", precision: v.precision, height: v.height, width: v.width },
        {
          graph: "labels",
          ...c.expect,
        },
      );
    }
  });
}

test("bundleUrl: a string with a slash is a URL, one without is a bundle name under the model base", () => {
  deepEqual(bundleUrl("/models/camvid-default"), "/models/camvid-default/");
  deepEqual(bundleUrl("https://cdn.example/b/manifest.json", "/other/"), "https://cdn.example/b/");
  deepEqual(bundleUrl("./mine/"), "./mine/");
  deepEqual(bundleUrl("camvid-default"), "/models/camvid-default/");
  deepEqual(bundleUrl("person selfie", "https://cdn.example/bundles"), "https://cdn.example/bundles/person%20selfie/");
});
