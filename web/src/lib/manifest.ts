/** Reading bundle manifests and choosing a variant, with the same rules as the Python runtime. */

import { GRAPHS, PRECISIONS } from "./options";
import type { Graph } from "./options";
import type { Manifest, Precision, Variant } from "./types";

/** The output of a logits variant (docs/ARCHITECTURE.md, "Bundles"). */
export const LOGITS_OUTPUT = "logits";

export function graphOf(variant: Variant): Graph {
  return variant.graph ?? "labels";
}

/** The variants that pickers offer and every backend but WebGL runs. */
function labelVariants(manifest: Manifest): Variant[] {
  return manifest.variants.filter((v) => graphOf(v) === "labels");
}

/** "/models/x", "/models/x/" and "/models/x/manifest.json" all mean the bundle directory "/models/x/". */
export function bundleBase(model: string): string {
  const trimmed = model.replace(/manifest\.json$/, "");
  return trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

/** Where `createSegmenter` looks bundle names up by default: where `liveseg serve` serves them. */
export const MODEL_BASE = "/models/";

/**
 * The bundle folder that `createSegmenter`'s `model` string means: a URL (anything with a "/") as `bundleBase`
 * reads it, else a bundle name under `modelBase`, as transformers.js looks model ids up under a local path.
 */
export function bundleUrl(model: string, modelBase = MODEL_BASE): string {
  if (model.includes("/")) return bundleBase(model);
  return `${bundleBase(modelBase)}${encodeURIComponent(model)}/`;
}

/** Lowercase hex SHA-256 of `data`, as the manifest lists each file's; needs crypto.subtle (a secure context). */
export async function sha256Hex(data: BufferSource): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function fetchManifest(model: string): Promise<Manifest> {
  const url = new URL("manifest.json", new URL(bundleBase(model), location.href));
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`Cannot reach ${url} (${String(error)}); is the liveseg server running?`);
  }
  if (!response.ok) {
    throw new Error(`${url} answered ${response.status}; check the model id (see /api/models).`);
  }
  return checkManifest(await response.json(), String(url));
}

export function checkManifest(data: unknown, where: string): Manifest {
  const m = data as Partial<Manifest>;
  const ok =
    typeof m === "object" &&
    m !== null &&
    typeof m.format === "string" &&
    m.format.startsWith("liveseg-bundle/") &&
    Array.isArray(m.classes) &&
    Array.isArray(m.variants) &&
    m.variants.length > 0 &&
    typeof m.input?.name === "string" &&
    typeof m.outputs?.labels?.name === "string";
  if (!ok) throw new Error(`${where} is not a liveseg bundle manifest; re-export the bundle.`);
  const unknown = (m.variants ?? []).find((v) => !(GRAPHS as readonly string[]).includes(graphOf(v)));
  if (unknown)
    throw new Error(`${where} has a variant of graph "${unknown.graph}", which this app does not know; update it.`);
  return m as Manifest;
}

export function parseSize(size: [number, number] | string | undefined): [number, number] | undefined {
  if (size === undefined) return undefined;
  if (Array.isArray(size)) return size;
  const match = /^(\d+)x(\d+)$/.exec(size.trim());
  if (!match) throw new Error(`Size "${size}" is not HxW (e.g. 360x480).`);
  return [Number(match[1]), Number(match[2])];
}

export function sizesOf(manifest: Manifest, precision?: Precision): [number, number][] {
  const seen = new Map<string, [number, number]>();
  for (const v of labelVariants(manifest)) {
    if (precision && v.precision !== precision) continue;
    seen.set(`${v.height}x${v.width}`, [v.height, v.width]);
  }
  return [...seen.values()].sort((a, b) => a[0] * a[1] - b[0] * b[1]);
}

export function precisionsOf(manifest: Manifest): Precision[] {
  const variants = labelVariants(manifest);
  return PRECISIONS.filter((p) => variants.some((v) => v.precision === p));
}

/** The labels variant for `precision` at `size`, or at the bundle's default size (else the largest) for it. */
export function pickVariant(manifest: Manifest, precision?: Precision, size?: [number, number]): Variant {
  const wanted = precision ?? manifest.default_variant?.precision ?? "fp32";
  const candidates = labelVariants(manifest).filter((v) => v.precision === wanted);
  if (candidates.length === 0) {
    const have = precisionsOf(manifest).join(", ");
    throw new Error(`Bundle ${manifest.name} has no ${wanted} variant; choose one of ${have}.`);
  }
  const [h, w] = size ?? [manifest.default_variant?.height, manifest.default_variant?.width];
  const exact = candidates.find((v) => v.height === h && v.width === w);
  if (exact) return exact;
  if (size) {
    const have = sizesOf(manifest, wanted)
      .map(([a, b]) => `${a}x${b}`)
      .join(", ");
    throw new Error(`Bundle ${manifest.name} has no ${wanted} variant at ${h}x${w}; sizes: ${have}.`);
  }
  return candidates.reduce((a, b) => (b.height * b.width > a.height * a.width ? b : a));
}

/** The logits variant (fp32 first) at `size`, which the WebGL backend runs in place of a labels variant. */
export function logitsVariant(manifest: Manifest, [height, width]: [number, number]): Variant | null {
  const at = manifest.variants.filter((v) => graphOf(v) === "logits" && v.height === height && v.width === width);
  return at.find((v) => v.precision === "fp32") ?? at[0] ?? null;
}

/** 4 when the graphs take RGBA (no repacking of canvas pixels), else 3. */
export function inputChannels(manifest: Manifest): 3 | 4 {
  return manifest.input.channels?.includes(4) ? 4 : 3;
}
