/** The models the server offers (`/api/models`) and how the pickers describe them. */

import { checkManifest, pickVariant, precisionsOf, sizesOf } from "../lib";
import type { Manifest, Precision, Variant } from "../lib";
import type { Option } from "./dom";

export interface ModelEntry {
  id: string;
  url: string;
  manifest: Manifest;
}

export async function fetchModels(): Promise<ModelEntry[]> {
  let response: Response;
  try {
    response = await fetch(new URL("api/models", document.baseURI));
  } catch (error) {
    throw new Error(`The liveseg server cannot be reached (${String(error)}); is \`liveseg serve\` running?`);
  }
  if (!response.ok) throw new Error(`/api/models answered ${response.status}; restart \`liveseg serve\`.`);
  const body = (await response.json()) as { models?: { id: string; url: string; manifest: unknown }[] };
  const models = (body.models ?? []).map((m) => ({
    id: m.id,
    url: new URL(m.url, document.baseURI).href,
    manifest: checkManifest(m.manifest, `model ${m.id}`),
  }));
  if (models.length === 0) {
    throw new Error("The server offers no model; start it with `liveseg serve --model PATH_TO_BUNDLE`.");
  }
  return models;
}

export function sizeKey([h, w]: [number, number]): string {
  return `${h}x${w}`;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0);
}

export function describeVariant(v: Variant): string {
  const miou = typeof v.val_miou === "number" ? ` · mIoU ${(v.val_miou * 100).toFixed(1)}%` : "";
  return `${v.precision} · ${mb(v.bytes)} MB${miou}`;
}

/** Precision options, each described by its variant at `size` when it has one there. */
export function precisionOptions(manifest: Manifest, size: [number, number] | null): Option[] {
  return precisionsOf(manifest).map((p) => {
    const atSize =
      size && manifest.variants.find((v) => v.precision === p && v.height === size[0] && v.width === size[1]);
    return { value: p, label: describeVariant(atSize || pickVariant(manifest, p)) };
  });
}

export function sizeOptions(manifest: Manifest, precision: Precision): Option[] {
  return sizesOf(manifest, precision).map((s) => ({ value: sizeKey(s), label: `${s[0]} × ${s[1]}` }));
}

export function modelNote(entry: ModelEntry): string {
  const m = entry.manifest;
  const parts = [m.model?.name, m.dataset ? `trained on ${m.dataset}` : null, `${m.classes.length} classes`];
  if (m.model?.params) parts.push(`${(m.model.params / 1e6).toFixed(2)} M params`);
  if (m.model?.gflops) parts.push(`${m.model.gflops.toFixed(2)} GFLOPs`);
  if (m.source?.license) parts.push(`licence: ${m.source.license}`);
  if (m.source?.origin) parts.push(`source: ${m.source.origin}`);
  return parts.filter(Boolean).join(" · ");
}

/** What each dataset's classes cover, as the model picker's group labels say it. */
const DATASET_GROUPS: Record<string, string> = {
  camvid: "Street scenes (CamVid)",
  cityscapes: "Driving scenes (Cityscapes)",
  voc: "People, animals, vehicles, objects (Pascal VOC)",
  ade20k: "Indoor and outdoor scenes (ADE20K)",
  selfie: "People at a camera (selfie, video call)",
  "selfie-multiclass": "Hair, skin and clothes at a camera (MediaPipe)",
  hair: "Hair at a camera (MediaPipe)",
};

export function modelGroup(entry: ModelEntry): string {
  const dataset = entry.manifest.dataset;
  return (dataset && DATASET_GROUPS[dataset]) || (dataset ? `Other (${dataset})` : "Other");
}

/** Models ordered by group (in order of first appearance), each option under its dataset's group. */
export function modelOptions(models: readonly ModelEntry[]): Option[] {
  const order = [...new Set(models.map(modelGroup))];
  return [...models]
    .sort((a, b) => order.indexOf(modelGroup(a)) - order.indexOf(modelGroup(b)))
    .map((m) => ({ value: m.id, label: m.id, group: modelGroup(m) }));
}

/** Shown on the start screen when every model knows only street scenes: how to get a general one. */
export function streetOnlyHint(models: readonly ModelEntry[]): string | null {
  if (!models.every((m) => m.manifest.dataset === "camvid" || m.manifest.dataset === "cityscapes")) return null;
  return (
    "The models here know street scenes only (road, car, pedestrian…): a person at a webcam comes out as road. " +
    "For people and objects run `liveseg pull voc-lraspp-mobilenetv3`, then restart `liveseg serve`."
  );
}
