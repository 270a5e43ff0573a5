/** DOM helpers the page's modules share. */

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

export interface Option {
  value: string;
  label: string;
}

/** Replace a select's options, keeping `value` selected when it is among them. */
export function setOptions(select: HTMLSelectElement, options: readonly Option[], value: string | null): void {
  select.replaceChildren(...options.map((o) => new Option(o.label, o.value)));
  if (value !== null && options.some((o) => o.value === value)) select.value = value;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
