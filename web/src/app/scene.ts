/** The "People / Street scenes" switch, on the start screen and in the toolbar: one click to the other model. */

import type { Scene } from "./choice";

const LABELS: Record<Scene, string> = { people: "People", street: "Street scenes" };
const TITLES: Record<Scene, string> = {
  people: "A person/background model: for a person at a camera, with background blur and replacement.",
  street: "A street-scene model: road, car, pedestrian, building… for dashcam videos and street photos.",
};

export class SceneSwitch {
  private readonly buttons: HTMLButtonElement[] = [];

  constructor(
    /** The start screen's copy, and the toolbar's for when a source runs. */
    private readonly start: HTMLElement,
    private readonly toolbar: HTMLElement,
    chosen: (scene: Scene) => void,
  ) {
    for (const box of [start, toolbar]) {
      const buttons = (Object.keys(LABELS) as Scene[]).map((scene) => {
        const b = document.createElement("button");
        b.type = "button";
        b.dataset.scene = scene;
        b.textContent = LABELS[scene];
        b.title = TITLES[scene];
        b.addEventListener("click", () => chosen(scene));
        return b;
      });
      box.querySelector(".segmented")?.replaceChildren(...buttons);
      this.buttons.push(...buttons);
    }
  }

  /** Shown only when both scenes have a model, on the start screen or else in the toolbar; `current` is pressed. */
  show(available: boolean, current: Scene | null, startScreen: boolean): void {
    this.start.hidden = !(available && startScreen);
    this.toolbar.hidden = !(available && !startScreen);
    for (const b of this.buttons) b.setAttribute("aria-pressed", String(b.dataset.scene === current));
  }
}
