/** Small DOM helpers: the page is plain DOM, drawn by a few functions per panel. */

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/**
 * `el('td', { class: 'num' }, '12')`: an element with attributes (`on…` props become listeners,
 * `false`/`null`/`undefined` values are left out, `true` sets an empty attribute).
 */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

/** Appends children, skipping empty ones. */
export function append(parent: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Sets text only when it changed (so screen readers are not told twice). */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/** A horizontal bar for a value in [0, max], hidden from assistive technology (the number beside it is the reading). */
export function bar(value: number, max: number, kind = ''): HTMLElement {
  const share = max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  const fill = el('span', { class: 'fill' });
  // Through the CSSOM, which the page's Content-Security-Policy allows (a style attribute it would not).
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  return el('span', { class: `bar ${kind}`.trim(), 'aria-hidden': 'true' }, fill);
}

/** A number with `digits` decimals, or an em dash. */
export function num(value: number | null | undefined, digits = 0): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Milli-yuan as yuan: `¥1,234.50`. */
export function yuan(milliYuan: number | null | undefined): string {
  return milliYuan === null || milliYuan === undefined ? '—' : `¥${num(milliYuan / 1000, 2)}`;
}

/** A time of day, `12:04:31`. */
export function clock(at: number): string {
  return new Date(at).toLocaleTimeString('en-GB', { hour12: false });
}

/** A table with a caption, header cells and rows (cells may be nodes). */
export function table(caption: string, headers: readonly string[], rows: readonly Child[][], options: { numeric?: readonly number[]; className?: string } = {}): HTMLTableElement {
  const numeric = new Set(options.numeric ?? []);
  return el(
    'table',
    { class: options.className },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...headers.map((header, i) => el('th', { scope: 'col', class: numeric.has(i) ? 'num' : undefined }, header)))),
    el('tbody', {}, ...rows.map((row) => el('tr', {}, ...row.map((cell, i) => el('td', { class: numeric.has(i) ? 'num' : undefined }, cell))))),
  );
}
