/** The market: the latest round's contracts and settlements, penalties and allocations, certificates and carbon, and the ledger. */
import type { DashboardModel } from '../model/model.js';
import { el, num, replace, table, yuan } from './dom.js';

const short = (hash: string) => `${hash.slice(0, 10)}…${hash.slice(-4)}`;

export class MarketView {
  readonly #round: HTMLElement;
  readonly #holdings: HTMLElement;

  constructor(container: HTMLElement) {
    this.#round = el('div', { class: 'round' });
    this.#holdings = el('div', { class: 'holdings' });
    container.append(this.#round, this.#holdings);
  }

  render(model: DashboardModel): void {
    const { round, holdings, gridBalance } = model.market();
    if (round === undefined) replace(this.#round, el('p', {}, 'No round settled yet.'));
    else {
      const contracts =
        round.contracts.length === 0
          ? el('p', {}, 'This source reports the round’s weights only.')
          : table(
              `Round ${round.round}: ${num(round.totalContractedKWh)} kWh contracted`,
              ['Contract', 'Seller → buyer', 'kWh', 'Metered (gen./cons.)', 'Seller gets', 'Buyer pays', 'Penalties', 'To others'],
              round.contracts.map((c) => [
                c.id,
                `${c.generator} → ${c.consumer}`,
                num(c.contractedKWh),
                `${num(c.generatedKWh)} / ${num(c.consumedKWh)}`,
                yuan(c.generatorRevenue),
                yuan(c.consumerExpense),
                c.generatorPenalty + c.consumerPenalty === 0 ? '—' : yuan(c.generatorPenalty + c.consumerPenalty),
                c.allocatedToOthers === 0 ? '—' : yuan(c.allocatedToOthers),
              ]),
              { numeric: [2, 4, 5, 6, 7], className: 'contracts-table' },
            );
      const nodes =
        round.nodes.length === 0
          ? null
          : table(
              'Settlement per node (eq. 26–34)',
              ['Node', 'kWh (contracted/actual)', 'Penalty', 'Compensation', 'Allocation', 'Net', 'Credit after'],
              round.nodes.map((n) => [n.id, `${num(n.contractedKWh)} / ${num(n.actualKWh)}`, yuan(n.penalty), yuan(n.compensation), yuan(n.allocation), yuan(n.balanceChange), num(n.creditWeightAfter, 1)]),
              { numeric: [2, 3, 4, 5, 6], className: 'settlement-table' },
            );
      replace(this.#round, contracts, nodes);
    }
    const ids = Object.keys(holdings);
    replace(
      this.#holdings,
      ids.length === 0
        ? el('p', {}, 'No participant registered yet.')
        : table(
            `Balances, green certificates and carbon (grid ${yuan(gridBalance)})`,
            ['Node', 'Balance', 'Green certificates (issued)', 'Carbon this cycle, t (quota + bought − emitted)', 'Last cycle A_ce'],
            ids.map((id) => {
              const h = holdings[id]!;
              return [id, yuan(h.balance), `${num(h.certificatesHeld)} (${num(h.certificatesIssued)})`, `${num(h.carbonQuota)} + ${num(h.carbonPurchased)} − ${num(h.carbonEmitted)}`, num(h.carbonSettlement)];
            }),
            { numeric: [1, 4], className: 'holdings-table' },
          ),
    );
  }
}

/** The hash-chained ledger: its head and the latest blocks with their transactions. */
export class LedgerView {
  readonly #head: HTMLElement;
  readonly #blocks: HTMLElement;

  constructor(container: HTMLElement) {
    this.#head = el('dl', { class: 'summary ledger-head' });
    this.#blocks = el('ol', { class: 'blocks', 'aria-label': 'Latest blocks, newest first' });
    container.append(this.#head, this.#blocks);
  }

  render(model: DashboardModel): void {
    const { head, blocks } = model.market();
    replace(
      this.#head,
      el('div', {}, el('dt', {}, 'Height'), el('dd', { 'data-testid': 'ledger-height' }, num(head?.height))),
      el('div', {}, el('dt', {}, 'Head hash'), el('dd', { title: head?.hash ?? '' }, el('code', {}, head === undefined ? '—' : short(head.hash)))),
      el('div', {}, el('dt', {}, 'Entry (index, term)'), el('dd', {}, head === undefined ? '—' : `${num(head.index)}, ${num(head.term)}`)),
      el('div', {}, el('dt', {}, 'Applied index'), el('dd', {}, num(head?.appliedIndex))),
    );
    replace(
      this.#blocks,
      ...blocks.slice(0, 8).map((block) =>
        el(
          'li',
          { class: 'block', 'data-height': block.height },
          el('p', { class: 'block-head' }, el('strong', {}, `Block ${block.height}`), ` · entry ${block.index} (term ${block.term}) · `, el('code', { title: block.hash }, short(block.hash))),
          el('ul', { class: 'transactions' }, ...block.transactions.map((tx) => el('li', { 'data-type': tx.type }, tx.summary))),
        ),
      ),
    );
  }
}
