/**
 * The page's alert: one sentence that says what is wrong and what to do, optionally a button that does it
 * ("Switch to Auto") and the runtime's own text behind a "Details" disclosure, never in the sentence.
 */

import { $ } from "./dom";

export interface MessageExtras {
  action?: { label: string; run(): void };
  details?: string;
}

export class Message {
  private run: (() => void) | null = null;

  constructor() {
    $("message-close").addEventListener("click", () => this.hide());
    $("message-action").addEventListener("click", () => {
      const run = this.run;
      this.hide();
      run?.();
    });
  }

  show(text: string, extras: MessageExtras = {}): void {
    $("message-text").textContent = text;
    const action = $<HTMLButtonElement>("message-action");
    this.run = extras.action?.run ?? null;
    action.hidden = !extras.action;
    action.textContent = extras.action?.label ?? "";
    const details = $<HTMLDetailsElement>("message-details");
    details.hidden = !extras.details;
    details.open = false;
    $("message-details-text").textContent = extras.details ?? "";
    $("message").hidden = false;
  }

  hide(): void {
    $("message").hidden = true;
    this.run = null;
  }
}
