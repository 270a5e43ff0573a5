/**
 * The note under the view while a street-scene model runs on a camera: it stays as long as that is so, says
 * what the model does not know, and switches to a person model in one click when one is installed.
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
  update(streetModel: ModelEntry | null, camera: boolean, person: ModelEntry | null): void {
    this.person = person;
    const box = $("guidance");
    box.hidden = !(streetModel && camera);
    if (box.hidden || !streetModel) return;
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
