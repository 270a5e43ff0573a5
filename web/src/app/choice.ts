/**
 * Which model the app runs when the user has not picked one: a person model for the camera (people are what a
 * camera sees first), the street-scene model for video and image files (dashcam footage, CamVid's domain). A
 * model the user picks (the model picker, the People / Street scenes switch, the guidance's button) is
 * remembered in localStorage and then wins over these rules, on every source, until they pick another.
 */

import type { Manifest } from "../lib";
import type { ModelEntry } from "./models";
import type { SourceKind } from "./sources";

const PERSON_CLASS = /^(person|people|human)$/i;
const STREET_DATASETS = new Set(["camvid", "cityscapes"]);
const MEMORY_KEY = "liveseg.model";

/** A person/background model: MediaPipe-style selfie bundles, or any two-class bundle with a person class. */
export function isPersonModel(manifest: Manifest): boolean {
  return (
    manifest.dataset === "selfie" ||
    (manifest.classes.length === 2 && manifest.classes.some((c) => PERSON_CLASS.test(c.name)))
  );
}

/** A model that knows street scenes only: a person at a camera comes out as road, car or building. */
export function isStreetModel(manifest: Manifest): boolean {
  return STREET_DATASETS.has(manifest.dataset ?? "") && !isPersonModel(manifest);
}

export type Scene = "people" | "street";

/** The model behind each scene of the switch: the first person model; the first street model, else the first other. */
export function sceneModels(models: readonly ModelEntry[]): Partial<Record<Scene, ModelEntry>> {
  const people = models.find((m) => isPersonModel(m.manifest));
  const street = models.find((m) => isStreetModel(m.manifest)) ?? models.find((m) => !isPersonModel(m.manifest));
  return { people, street };
}

/** The scene that `entry` is the model of, if any. */
export function sceneOf(entry: ModelEntry | null, models: readonly ModelEntry[]): Scene | null {
  const scenes = sceneModels(models);
  if (entry && scenes.people?.id === entry.id) return "people";
  if (entry && scenes.street?.id === entry.id) return "street";
  return null;
}

/** The model for `source` when the user has not chosen one (null source: the camera, the start screen's first button). */
export function autoModel(models: readonly ModelEntry[], source: SourceKind | null): ModelEntry {
  const scenes = sceneModels(models);
  const wanted = (source ?? "camera") === "camera" ? scenes.people : scenes.street;
  return wanted ?? models[0];
}

/** The id of the model the user last picked, or null (never, or storage is off). */
export function rememberedModel(): string | null {
  try {
    return localStorage.getItem(MEMORY_KEY);
  } catch {
    return null;
  }
}

export function rememberModel(id: string): void {
  try {
    localStorage.setItem(MEMORY_KEY, id);
  } catch {
    // Private windows may refuse storage: the choice then lasts as long as the page.
  }
}
