/** The activity log: what the controls did and what the cluster reported, newest first. */
import type { DashboardModel } from '../model/model.js';
import { clock, el } from './dom.js';

export class ActivityView {
  readonly #list: HTMLElement;
  #lastSeq = 0;

  constructor(container: HTMLElement) {
    // role=log: new lines are announced politely, the rest stays quiet.
    this.#list = el('ol', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Activity' });
    container.append(this.#list);
  }

  render(model: DashboardModel): void {
    // Prepend only the new lines (oldest first), so assistive technology announces just those.
    const fresh = model.log().filter((line) => line.seq > this.#lastSeq);
    for (const line of fresh.reverse()) this.#list.prepend(el('li', { class: `log-${line.level}` }, el('time', {}, clock(line.at)), ' ', line.text));
    if (fresh.length > 0) this.#lastSeq = fresh.at(-1)!.seq;
    while (this.#list.children.length > 40) this.#list.lastElementChild!.remove();
  }
}
