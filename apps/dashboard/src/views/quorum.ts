/** The weighted quorum: the configuration in force (C(old) and C(new) while joint) and which acknowledgements completed each recent commit. */
import type { ConfigView } from '../model/events.js';
import type { DashboardModel } from '../model/model.js';
import { bar, el, num, replace, table } from './dom.js';

function votersList(title: string, voters: Readonly<Record<string, number>>): HTMLElement {
  const total = Object.values(voters).reduce((a, b) => a + b, 0);
  const heaviest = Math.max(0, ...Object.values(voters));
  return el(
    'div',
    { class: 'config-half' },
    el('h4', {}, title),
    el(
      'ul',
      { class: 'voters' },
      ...Object.entries(voters)
        .sort(([a, wa], [b, wb]) => wb - wa || (a < b ? -1 : 1))
        .map(([id, weight]) => el('li', {}, el('span', { class: 'label' }, id), bar(weight, heaviest, 'weight-bar'), el('span', { class: 'value' }, num(weight)))),
    ),
    // A quorum weighs strictly more than half the total: 2·Σ_Q w > Σ w.
    el('p', { class: 'threshold' }, `Total ${num(total)}; a quorum weighs more than ${num(total / 2, total % 2 === 0 ? 0 : 1)}`),
  );
}

/** The configuration and the commit quorums. */
export class QuorumView {
  readonly #config: HTMLElement;
  readonly #commits: HTMLElement;

  constructor(container: HTMLElement) {
    this.#config = el('div', { class: 'config' });
    this.#commits = el('div', { class: 'commits' });
    container.append(this.#config, this.#commits);
  }

  render(model: DashboardModel): void {
    const config: ConfigView | undefined = model.configInForce();
    if (config === undefined) replace(this.#config, el('p', {}, 'No configuration known yet.'));
    else if (config.outgoing !== null) {
      replace(
        this.#config,
        el('p', { class: 'joint' }, 'Joint configuration: elections and commits need a weighted quorum in both halves.'),
        el('div', { class: 'config-halves' }, votersList('C(old)', config.outgoing), votersList('C(new)', config.voters)),
      );
    } else replace(this.#config, el('div', { class: 'config-halves' }, votersList('Configuration in force', config.voters)));

    const quorums = model.quorums();
    replace(
      this.#commits,
      quorums.length === 0
        ? el('p', {}, 'No commit reported yet.')
        : table(
            'Recent commits: the acknowledgements that completed each quorum, in arrival order',
            ['Index', 'Term', 'Acknowledgements (weight, latency)', 'Weight'],
            quorums.map((quorum) => [
              num(quorum.index),
              num(quorum.term),
              el(
                'span',
                { class: 'acks' },
                ...quorum.acks.map((ack, position) =>
                  el('span', { class: position === quorum.acks.length - 1 ? 'ack completing' : 'ack' }, `${ack.id} ${num(ack.weight)} · ${num(ack.latencyMs, ack.latencyMs < 10 ? 1 : 0)} ms`),
                ),
              ),
              quorum.total === undefined ? num(quorum.weight) : `${num(quorum.weight)}/${num(quorum.total)}`,
            ]),
            { numeric: [0, 1, 3], className: 'quorum-table' },
          ),
    );
  }
}
