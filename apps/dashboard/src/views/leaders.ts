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
      el(
        'div',
        {},
        el('dt', {}, 'Elections'),
        el(
          'dd',
          { 'data-testid': 'elections', title: 'Each term seen is an election, since a term starts only when a node campaigns; one that ended before any node reported a leader failed' },
          `${num(elections.elections)} ${elections.elections === 1 ? 'term' : 'terms'} seen, ${num(elections.failed)} without a leader`,
        ),
      ),
      el('div', {}, el('dt', {}, 'Leaders seen'), el('dd', { title: 'Terms whose leader a node reported' }, num(elections.led))),
      el('div', {}, el('dt', {}, 'Candidacies'), el('dd', { title: 'Nodes known to have campaigned, once per term: every leader, and every node seen as a candidate' }, num(elections.candidacies))),
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
