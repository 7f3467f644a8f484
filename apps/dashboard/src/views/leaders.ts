/** Leader history and elections. */
import type { DashboardModel } from '../model/model.js';
import { clock, el, num, replace, table } from './dom.js';

export class LeadersView {
  readonly #summary: HTMLElement;
  readonly #history: HTMLElement;

  constructor(container: HTMLElement) {
    this.#summary = el('dl', { class: 'summary' });
    this.#history = el('div', { class: 'history' });
    container.append(this.#summary, this.#history);
  }

  render(model: DashboardModel): void {
    const leader = model.leader();
    const elections = model.elections();
    const history = model.leaderHistory();
    replace(
      this.#summary,
      el('div', {}, el('dt', {}, 'Leader'), el('dd', { 'data-testid': 'current-leader' }, leader?.id ?? 'none')),
      el('div', {}, el('dt', {}, 'Term'), el('dd', {}, num(model.term()))),
      el('div', {}, el('dt', {}, 'Leaders seen'), el('dd', {}, num(history.length))),
      el('div', {}, el('dt', {}, 'Campaigns'), el('dd', { title: 'nodes that became candidates, and in how many terms' }, `${num(elections.campaigns)} in ${num(elections.terms)} terms`)),
    );
    const rows = [...history].reverse().slice(0, 12);
    replace(
      this.#history,
      rows.length === 0
        ? el('p', {}, 'No leader yet.')
        : table(
            'Leaders by term, newest first',
            ['Term', 'Leader', 'Since'],
            rows.map((entry) => [num(entry.term), entry.leader, clock(entry.since)]),
            { numeric: [0] },
          ),
    );
  }
}
