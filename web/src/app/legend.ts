/** The legend: classes present in the frame with swatch and share; click hides, shift/alt-click highlights. */

import type { LegendEntry } from "../lib";
import type { ClassStyle } from "./view/options";

const REFRESH_MS = 250;

export class LegendView {
  private entries: LegendEntry[] = [];
  private lastDraw = 0;
  private timer = 0;

  constructor(
    private readonly list: HTMLUListElement,
    private readonly reset: HTMLButtonElement,
    private readonly style: ClassStyle,
    private readonly onChange: () => void,
  ) {
    list.addEventListener("click", (event) => {
      const item = (event.target as HTMLElement).closest<HTMLElement>("[data-id]");
      if (!item) return;
      const id = Number(item.dataset.id);
      const set = event.shiftKey || event.altKey ? style.highlighted : style.hidden;
      if (set.has(id)) set.delete(id);
      else set.add(id);
      if (set === style.highlighted) style.hidden.delete(id);
      else style.highlighted.delete(id);
      this.changed();
    });
    list.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      (event.target as HTMLElement).click();
    });
    reset.addEventListener("click", () => {
      style.hidden.clear();
      style.highlighted.clear();
      this.changed();
    });
  }

  get current(): LegendEntry[] {
    return this.entries;
  }

  /** New entries; the DOM is refreshed at most every REFRESH_MS so that percentages stay readable. */
  update(entries: LegendEntry[]): void {
    this.entries = entries;
    const wait = REFRESH_MS - (performance.now() - this.lastDraw);
    if (wait <= 0) this.draw();
    else if (!this.timer) this.timer = window.setTimeout(() => this.draw(), wait);
  }

  clear(): void {
    this.update([]);
  }

  private changed(): void {
    this.draw();
    this.onChange();
  }

  private draw(): void {
    window.clearTimeout(this.timer);
    this.timer = 0;
    this.lastDraw = performance.now();
    const { hidden, highlighted } = this.style;
    const items = this.entries.map((entry) => {
      const li = document.createElement("li");
      li.dataset.id = String(entry.id);
      li.className = "legend-item";
      li.classList.toggle("is-hidden", hidden.has(entry.id));
      li.classList.toggle("is-highlighted", highlighted.has(entry.id));
      li.tabIndex = 0;
      li.setAttribute("role", "button");
      li.title = `${entry.name}: click to ${hidden.has(entry.id) ? "show" : "hide"}, shift/alt-click to highlight`;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = `rgb(${entry.color.join(",")})`;
      const name = document.createElement("span");
      name.className = "legend-name";
      name.textContent = entry.name;
      const share = document.createElement("span");
      share.className = "legend-share";
      share.textContent = entry.share < 0.001 ? "<0.1%" : `${(entry.share * 100).toFixed(entry.share < 0.1 ? 1 : 0)}%`;
      const bar = document.createElement("span");
      bar.className = "legend-bar";
      bar.style.width = `${Math.max(2, entry.share * 100)}%`;
      bar.style.background = swatch.style.background;
      li.append(swatch, name, share, bar);
      return li;
    });
    this.list.replaceChildren(...items);
    this.reset.hidden = hidden.size === 0 && highlighted.size === 0;
  }
}
