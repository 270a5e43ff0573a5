/**
 * The stabiliser's toggle and strength (Runtime panel). Cameras and videos are stabilised by default, images never
 * (they are segmented with the stateless `segment()`), so the toggle follows each new source.
 */

import { $ } from "./dom";
import type { SourceKind } from "./sources";

export class StabiliseControl {
  private readonly toggle = $<HTMLInputElement>("stabilise");
  private readonly slider = $<HTMLInputElement>("stabilise-strength");

  constructor(changed: () => void) {
    const output = $("stabilise-strength-value");
    const show = () => {
      output.textContent = `${Math.round(Number(this.slider.value) * 100)}%`;
      this.slider.disabled = !this.toggle.checked;
    };
    this.toggle.addEventListener("change", () => (show(), changed()));
    this.slider.addEventListener("input", () => (show(), changed()));
    this.follow(null);
    show();
  }

  get on(): boolean {
    return this.toggle.checked;
  }

  /** The strength to run at (0: off). */
  get strength(): number {
    return this.on ? Number(this.slider.value) : 0;
  }

  /** A new source (null: none): on for live ones, off and disabled for still images. */
  follow(kind: SourceKind | null): void {
    this.toggle.checked = kind !== "image";
    this.toggle.disabled = kind === "image";
    this.slider.disabled = !this.toggle.checked;
  }
}
