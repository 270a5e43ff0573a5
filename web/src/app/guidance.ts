/**
 * The note under the view when the model does not fit the source: a street-scene model on a camera (it says what
 * the model does not know and switches to a person model in one click when one is installed), or a person model
 * on a video or image file (a foreground model for selfie scenes: it marks whatever is close to the lens as
 * person, and misses people far from it).
 */

import { $ } from "./dom";
import type { ModelEntry } from "./models";

export class Guidance {
  private person: ModelEntry | null = null;

  constructor(use: (entry: ModelEntry) => void) {
    $("guidance-use").addEventListener("click", () => {
      if (this.person) use(this.person);
    });
  }

  /** Show or hide the note for the model `streetModel` (null: not a street model) on a camera or not. */
  update(streetModel: ModelEntry | null, camera: boolean, person: ModelEntry | null, personOnFile = false): void {
    this.person = person;
    const box = $("guidance");
    box.hidden = !((streetModel && camera) || personOnFile);
    if (box.hidden) return;
    if (!streetModel) {
      $("guidance-text").textContent =
        "The person model is made for selfies and video calls: it marks whatever is close to the camera (a pet, " +
        "a cup held up) as person and misses people far away. For street scenes, choose Street scenes.";
      $("guidance-use").hidden = true;
      return;
    }
    const knows = `${streetModel.id} knows street scenes (road, car, pedestrian…), not people: a person here comes out as road or car.`;
    $("guidance-text").textContent = person
      ? `${knows} A person model is installed.`
      : `${knows} For people, install a person model (\`liveseg pull --list\`), then open the model list again.`;
    const button = $<HTMLButtonElement>("guidance-use");
    button.hidden = person === null;
    button.textContent = person ? `Use the person model` : "";
    button.title = person ? person.id : "";
  }
}
