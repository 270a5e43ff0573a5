/** DOM helpers the page's modules share. */

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

export interface Option {
  value: string;
  label: string;
  /** Options with a group are listed under an <optgroup> of that label, in order of first appearance. */
  group?: string;
}

/** Replace a select's options, keeping `value` selected when it is among them. */
export function setOptions(select: HTMLSelectElement, options: readonly Option[], value: string | null): void {
  const groups = new Map<string, HTMLOptGroupElement>();
  const children: HTMLElement[] = [];
  for (const o of options) {
    const option = new Option(o.label, o.value);
    if (o.group === undefined) {
      children.push(option);
      continue;
    }
    let group = groups.get(o.group);
    if (!group) {
      group = document.createElement("optgroup");
      group.label = o.group;
      groups.set(o.group, group);
      children.push(group);
    }
    group.append(option);
  }
  select.replaceChildren(...children);
  if (value !== null && options.some((o) => o.value === value)) select.value = value;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
