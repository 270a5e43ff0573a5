/**
 * The legend: classes present in the frame with swatch and share. A click (tap, Enter, Space) hides a class or,
 * with the Hide/Highlight switch on Highlight (or with Shift/Alt), highlights it: the switch is how touch and
 * keyboard users highlight.
 */

import type { LegendEntry } from "../lib";
import type { ClassStyle } from "./view/options";

const REFRESH_MS = 250;

type Action = "hide" | "highlight";

export class LegendView {
  private entries: LegendEntry[] = [];
  private action: Action = "hide";
  private lastDraw = 0;
  private timer = 0;

  constructor(
    private readonly list: HTMLUListElement,
    private readonly reset: HTMLButtonElement,
    private readonly style: ClassStyle,
    private readonly onChange: () => void,
    private readonly actions: HTMLElement,
  ) {
    actions.addEventListener("click", (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>("[data-action]");
      if (button) this.setAction(button.dataset.action === "highlight" ? "highlight" : "hide");
    });
    list.addEventListener("click", (event) => {
      const item = (event.target as HTMLElement).closest<HTMLElement>("[data-id]");
      if (!item) return;
      const id = Number(item.dataset.id);
      const highlight = (this.action === "highlight") !== (event.shiftKey || event.altKey);
      const set = highlight ? style.highlighted : style.hidden;
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

  private setAction(action: Action): void {
    this.action = action;
    for (const b of this.actions.querySelectorAll<HTMLButtonElement>("[data-action]")) {
      b.setAttribute("aria-pressed", String(b.dataset.action === action));
    }
    this.draw();
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

  /** No classes (and none remembered: the next model may name its ids differently); `empty` says why. */
  clear(empty?: string): void {
    if (empty) this.list.dataset.empty = empty;
    this.items.clear();
    this.entries = [];
    this.draw(); // at once, not after the refresh interval: the list empties with the Stop that empties it
  }

  private changed(): void {
    this.draw();
    this.onChange();
  }

  private draw(): void {
    window.clearTimeout(this.timer);
    this.timer = 0;
    this.lastDraw = performance.now();
    // Items are kept per class and only their changed parts written: rebuilding the list four times a second
    // re-laid out the whole sidebar each time, main-thread time taken from inference on small machines.
    const wanted = this.entries.map((entry) => this.item(entry));
    const current = [...this.list.children];
    const focused = current.find((li) => li === document.activeElement);
    if (focused) this.keepFocus(focused, wanted, current);
    else if (wanted.length !== current.length || wanted.some((li, i) => li !== current[i]))
      this.list.replaceChildren(...wanted);
    const { hidden, highlighted } = this.style;
    this.reset.hidden = hidden.size === 0 && highlighted.size === 0;
  }

  /**
   * While an item has the focus nothing is moved (a detached element loses it): items that left the frame go,
   * except the focused one, and new ones are added at the end; the order by share comes back once focus leaves.
   */
  private keepFocus(focused: Element, wanted: HTMLLIElement[], current: Element[]): void {
    const keep = new Set<Element>(wanted);
    for (const li of current) if (li !== focused && !keep.has(li)) li.remove();
    for (const li of wanted) if (li.parentElement !== this.list) this.list.append(li);
  }

  private readonly items = new Map<number, { li: HTMLLIElement; share: HTMLSpanElement; bar: HTMLSpanElement }>();

  /** The list item of `entry`'s class, created once and brought up to date. */
  private item(entry: LegendEntry): HTMLLIElement {
    let parts = this.items.get(entry.id);
    if (!parts) {
      const li = document.createElement("li");
      li.dataset.id = String(entry.id);
      li.className = "legend-item";
      li.tabIndex = 0;
      li.setAttribute("role", "button");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = `rgb(${entry.color.join(",")})`;
      const name = document.createElement("span");
      name.className = "legend-name";
      name.textContent = entry.name;
      const share = document.createElement("span");
      share.className = "legend-share";
      const bar = document.createElement("span");
      bar.className = "legend-bar";
      bar.style.background = swatch.style.background;
      li.append(swatch, name, share, bar);
      parts = { li, share, bar };
      this.items.set(entry.id, parts);
    }
    const { li, share, bar } = parts;
    const isHidden = this.style.hidden.has(entry.id);
    li.classList.toggle("is-hidden", isHidden);
    li.classList.toggle("is-highlighted", this.style.highlighted.has(entry.id));
    const verb = this.action === "highlight" ? "highlight" : isHidden ? "show" : "hide";
    setIfChanged(li, "title", `${entry.name}: click to ${verb}`);
    setIfChanged(
      share,
      "textContent",
      entry.share < 0.001 ? "<0.1%" : `${(entry.share * 100).toFixed(entry.share < 0.1 ? 1 : 0)}%`,
    );
    const width = `${Math.max(2, Math.round(entry.share * 100))}%`;
    if (bar.style.width !== width) bar.style.width = width;
    return li;
  }
}

function setIfChanged<T extends HTMLElement>(el: T, key: "title" | "textContent", value: string): void {
  if (el[key] !== value) el[key] = value;
}
