/** Each node: role, term, commit and applied index, vote weight and the scores behind it, with its own controls. */
import type { ScoreBreakdown } from '../model/events.js';
import type { DashboardModel, NodeView } from '../model/model.js';
import type { ControlName } from '../sources/source.js';
import { bar, el, num, replace, setText } from './dom.js';

/** What a node card's buttons ask for. */
export type NodeAction = (control: Extract<ControlName, 'crash' | 'restart' | 'transferLeadership'>, node: string) => void;

const SCORE_PARTS: readonly { key: keyof Omit<ScoreBreakdown, 'total'>; label: string; equation: string }[] = [
  { key: 'credit', label: 'Credit', equation: 'eq. 14–17' },
  { key: 'volume', label: 'Volume', equation: 'eq. 18' },
  { key: 'participation', label: 'Participation', equation: 'eq. 19' },
  { key: 'greenCertificates', label: 'Green cert.', equation: 'eq. 20' },
  { key: 'carbon', label: 'Carbon', equation: 'eq. 21' },
  { key: 'lineFaults', label: 'Line faults', equation: 'eq. 23' },
];

interface Card {
  readonly root: HTMLElement;
  readonly role: HTMLElement;
  readonly kind: HTMLElement;
  readonly raft: HTMLElement;
  readonly weight: HTMLElement;
  readonly scores: HTMLElement;
  readonly crash: HTMLButtonElement;
  readonly restart: HTMLButtonElement;
  readonly lead: HTMLButtonElement;
}

function describeKind(node: NodeView): string {
  if (node.kind === undefined) return '';
  return node.kind === 'generation' ? (node.renewable ? 'renewable generator' : 'generator') : 'consumer';
}

/** The node cards; the cards (and their buttons, which hold focus) persist across redraws. */
export class NodesView {
  readonly #list: HTMLElement;
  readonly #cards = new Map<string, Card>();
  readonly #act: NodeAction;
  readonly #supported: ReadonlySet<ControlName>;

  constructor(container: HTMLElement, act: NodeAction, supported: ReadonlySet<ControlName>) {
    this.#list = el('div', { class: 'node-list' });
    this.#act = act;
    this.#supported = supported;
    container.append(this.#list);
  }

  #card(id: string): Card {
    let card = this.#cards.get(id);
    if (card !== undefined) return card;
    const headingId = `node-${id}-name`;
    const role = el('span', { class: 'role' });
    const kind = el('span', { class: 'kind' });
    const raft = el('dl', { class: 'raft' });
    const weight = el('div', { class: 'weight' });
    const scores = el('ul', { class: 'scores', 'aria-label': `Scores of ${id}` });
    const button = (control: 'crash' | 'restart' | 'transferLeadership', text: string, label: string) =>
      el('button', { type: 'button', 'data-action': control, 'aria-label': label, disabled: !this.#supported.has(control), onclick: () => this.#act(control, id) }, text);
    const crash = button('crash', 'Crash', `Crash ${id}`);
    const restart = button('restart', 'Restart', `Restart ${id}`);
    const lead = button('transferLeadership', 'Make leader', `Make ${id} leader`);
    const root = el(
      'article',
      { class: 'node', 'data-node': id, 'aria-labelledby': headingId },
      el('header', {}, el('h3', { id: headingId }, id), role, kind),
      raft,
      weight,
      scores,
      el('div', { class: 'actions' }, crash, restart, lead),
    );
    card = { root, role, kind, raft, weight, scores, crash, restart, lead };
    this.#cards.set(id, card);
    this.#list.append(root);
    return card;
  }

  /**
   * After a node's own button ran (and may now be disabled), keeps keyboard focus on the card:
   * a crashed node's Restart, a restarted node's Crash.
   */
  keepFocus(control: Parameters<NodeAction>[0], id: string): void {
    const card = this.#cards.get(id);
    if (card === undefined) return;
    const from = control === 'crash' ? card.crash : control === 'restart' ? card.restart : card.lead;
    const active = document.activeElement;
    if (active !== from && active !== document.body && active !== null) return;
    const to = control === 'crash' ? card.restart : control === 'restart' ? card.crash : card.crash;
    if (!to.disabled) to.focus();
  }

  render(model: DashboardModel): void {
    const config = model.configInForce();
    const total = config === undefined ? 0 : Object.values(config.voters).reduce((a, b) => a + b, 0);
    const heaviest = config === undefined ? 0 : Math.max(0, ...Object.values(config.voters));
    const nodes = model.nodes();
    for (const node of nodes) this.#card(node.id);
    // Keep the cards in the model's order; move them only when it changed (moving one drops its focus).
    const order = nodes.map((node) => this.#cards.get(node.id)!.root);
    if (order.some((root, i) => this.#list.children[i] !== root)) this.#list.append(...order);
    for (const node of nodes) {
      const card = this.#card(node.id);
      card.root.dataset.role = node.role;
      setText(card.role, node.role === 'preCandidate' ? 'pre-candidate' : node.role);
      card.role.className = `role role-${node.role}`;
      setText(card.kind, describeKind(node));
      replace(
        card.raft,
        el('div', {}, el('dt', {}, 'Term'), el('dd', {}, num(node.term))),
        el('div', {}, el('dt', {}, 'Commit'), el('dd', {}, num(node.commitIndex))),
        el('div', {}, el('dt', {}, 'Applied'), el('dd', {}, num(node.appliedIndex))),
      );
      const outgoing = config?.outgoing?.[node.id];
      replace(
        card.weight,
        el('span', { class: 'label' }, 'Vote weight'),
        bar(node.weight ?? 0, heaviest, 'weight-bar'),
        el('span', { class: 'value' }, node.weight === undefined ? '—' : `${num(node.weight)} of ${num(total)}`, outgoing !== undefined && outgoing !== node.weight ? ` (was ${num(outgoing)})` : ''),
      );
      const scores = node.scores;
      replace(
        card.scores,
        ...SCORE_PARTS.map((part) =>
          el(
            'li',
            { title: `${part.label} score (${part.equation})` },
            el('span', { class: 'label' }, part.label),
            bar(scores?.[part.key] ?? 0, 100),
            el('span', { class: 'value' }, num(scores?.[part.key], 0)),
          ),
        ),
        el('li', { class: 'total', title: 'The score of the strategy in force' }, el('span', { class: 'label' }, 'Score'), bar(scores?.total ?? 0, 100, 'total-bar'), el('span', { class: 'value' }, num(scores?.total, 1))),
      );
      card.crash.disabled = !node.up || !this.#supported.has('crash');
      card.restart.disabled = node.up || !this.#supported.has('restart');
      card.lead.disabled = !node.up || node.role === 'leader' || !this.#supported.has('transferLeadership');
    }
  }
}
