/**
 * The cluster's controls: trading rounds, a trade, links, the scoring strategy and leadership.
 * Every control goes through the data source's {@link ClusterControls} as a {@link ControlRun};
 * the app's runner shows what it did in the status line beside it and in the activity log.
 */
import { type RunControl, controlRuns } from '../control-runs.js';
import type { Participant } from '../model/events.js';
import type { DashboardModel } from '../model/model.js';
import { type ClusterControls, type ControlName, SCORING_CHOICES } from '../sources/source.js';
import { el, setText } from './dom.js';

/** Optional controls only some sources have. */
export interface ExtraControls {
  /** Pauses (0) or sets the period of the automatic rounds. */
  setAutoRounds?(ms: number): void | Promise<void>;
  /** The period the page starts with, ms (0: off). */
  autoRoundMs?: number;
}

function select(id: string, label: string, options: readonly { value: string; text: string }[]): { field: HTMLElement; input: HTMLSelectElement } {
  const input = el('select', { id, name: id });
  for (const option of options) input.append(el('option', { value: option.value }, option.text));
  return { field: el('div', { class: 'field' }, el('label', { for: id }, label), input), input };
}

function numberField(id: string, label: string, value: number, attributes: Record<string, number>): { field: HTMLElement; input: HTMLInputElement } {
  const input = el('input', { id, name: id, type: 'number', value, inputmode: 'decimal', required: true, ...attributes });
  return { field: el('div', { class: 'field' }, el('label', { for: id }, label), input), input };
}

function setOptions(input: HTMLSelectElement, ids: readonly string[]): void {
  const current = [...input.options].map((option) => option.value);
  if (current.join() === ids.join()) return;
  const selected = input.value;
  input.replaceChildren(...ids.map((id) => el('option', { value: id }, id)));
  if (ids.includes(selected)) input.value = selected;
}

export class ControlsView {
  readonly #supported: ReadonlySet<ControlName>;
  readonly #status: HTMLElement;
  readonly #seller: HTMLSelectElement;
  readonly #buyer: HTMLSelectElement;
  readonly #linkA: HTMLSelectElement;
  readonly #linkB: HTMLSelectElement;
  readonly #leader: HTMLSelectElement;
  readonly #strategy: HTMLElement;

  constructor(container: HTMLElement, controls: ClusterControls, run: RunControl, extra: ExtraControls = {}) {
    this.#supported = controls.supported;
    const supported = (control: ControlName) => this.#supported.has(control);
    const unsupportedNote = (control: ControlName) => (supported(control) ? null : el('p', { class: 'note' }, 'Not available from this source.'));
    this.#status = el('p', { class: 'control-status', role: 'status', 'aria-live': 'polite' }, 'Ready.');

    // Trading rounds.
    const roundButton = el('button', { type: 'button', disabled: !supported('runRound') }, 'Run a trading round');
    roundButton.addEventListener('click', () => void run(controlRuns.runRound(controls)));
    const auto = el('input', { type: 'checkbox', id: 'auto-rounds', checked: (extra.autoRoundMs ?? 0) > 0, disabled: extra.setAutoRounds === undefined });
    const period = extra.autoRoundMs || 4000;
    auto.addEventListener('change', () => {
      const { setAutoRounds } = extra;
      if (setAutoRounds === undefined) return;
      const everyMs = auto.checked ? period : 0;
      // Refused: the box shows what is still in force.
      void run(controlRuns.autoRounds(setAutoRounds, everyMs)).then((done) => {
        if (!done) auto.checked = everyMs === 0;
      });
    });
    const rounds = el(
      'fieldset',
      {},
      el('legend', {}, 'Trading'),
      roundButton,
      el('div', { class: 'check' }, auto, el('label', { for: 'auto-rounds' }, `Run a round every ${period / 1000} s`)),
      unsupportedNote('runRound'),
    );

    // A trade: the seller offers, the buyer accepts, one entry.
    const seller = select('trade-seller', 'Seller (generator)', []);
    const buyer = select('trade-buyer', 'Buyer (consumer)', []);
    const kWh = numberField('trade-kwh', 'Energy (kWh)', 250, { min: 1, max: 100000, step: 1 });
    const price = numberField('trade-price', 'Price (¥/kWh)', 0.55, { min: 0.4, max: 0.71, step: 0.01 });
    const trade = el(
      'form',
      { class: 'trade', 'aria-labelledby': 'trade-legend' },
      el('fieldset', {}, el('legend', { id: 'trade-legend' }, 'Propose a trade'), seller.field, buyer.field, kWh.field, price.field, el('button', { type: 'submit', disabled: !supported('proposeTrade') }, 'Propose trade'), unsupportedNote('proposeTrade')),
    );
    trade.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!trade.reportValidity()) return;
      const init = { seller: seller.input.value, buyer: buyer.input.value, kWh: Number(kWh.input.value), unitPrice: Number(price.input.value) };
      void run(controlRuns.proposeTrade(controls, init));
    });

    // Links.
    const linkA = select('link-a', 'Node', []);
    const linkB = select('link-b', 'and node', []);
    const cut = el('button', { type: 'button', disabled: !supported('partition') }, 'Cut link');
    const healOne = el('button', { type: 'button', disabled: !supported('heal') }, 'Heal link');
    const healAll = el('button', { type: 'button', disabled: !supported('heal') }, 'Heal all links');
    cut.addEventListener('click', () => {
      const [a, b] = [linkA.input.value, linkB.input.value];
      void run(controlRuns.partition(controls, a, b));
    });
    healOne.addEventListener('click', () => {
      const [a, b] = [linkA.input.value, linkB.input.value];
      void run(controlRuns.heal(controls, a, b));
    });
    healAll.addEventListener('click', () => void run(controlRuns.heal(controls)));
    const links = el('fieldset', {}, el('legend', {}, 'Network'), el('div', { class: 'pair' }, linkA.field, linkB.field), el('div', { class: 'buttons' }, cut, healOne, healAll), unsupportedNote('partition'));

    // Scoring strategy.
    const strategy = select(
      'scoring',
      'Strategy',
      SCORING_CHOICES.map((choice) => ({ value: choice.id, text: choice.label })),
    );
    const apply = el('button', { type: 'button', disabled: !supported('setScoring') }, 'Apply strategy');
    apply.addEventListener('click', () => {
      const choice = strategy.input.value;
      void run(controlRuns.setScoring(controls, choice));
    });
    this.#strategy = el('p', { class: 'in-force' });
    const scoring = el('fieldset', {}, el('legend', {}, 'Scoring strategy'), this.#strategy, strategy.field, apply, unsupportedNote('setScoring'));

    // Leadership.
    const leader = select('transfer-to', 'Hand leadership to', []);
    const transfer = el('button', { type: 'button', disabled: !supported('transferLeadership') }, 'Transfer leadership');
    transfer.addEventListener('click', () => {
      const to = leader.input.value;
      void run(controlRuns.transferLeadership(controls, to));
    });
    const leadership = el('fieldset', {}, el('legend', {}, 'Leadership'), leader.field, transfer, unsupportedNote('transferLeadership'));

    container.append(this.#status, rounds, trade, links, scoring, leadership);
    this.#seller = seller.input;
    this.#buyer = buyer.input;
    this.#linkA = linkA.input;
    this.#linkB = linkB.input;
    this.#leader = leader.input;
  }

  /** Shows what a control is doing or did. */
  status(text: string, level: 'busy' | 'ok' | 'error'): void {
    setText(this.#status, text);
    this.#status.dataset.level = level;
  }

  render(model: DashboardModel): void {
    const nodes = model.nodes();
    const of = (kind: Participant['kind']) => nodes.filter((node) => node.kind === kind).map((node) => node.id);
    setOptions(this.#seller, of('generation'));
    setOptions(this.#buyer, of('consumption'));
    const ids = nodes.map((node) => node.id);
    setOptions(this.#linkA, ids);
    setOptions(this.#linkB, ids);
    // Two different nodes by default (nodes of a live cluster report one by one, so the options grow).
    if (this.#linkA.value === this.#linkB.value && ids.length > 1 && document.activeElement !== this.#linkB) this.#linkB.value = ids.find((id) => id !== this.#linkA.value)!;
    setOptions(this.#leader, ids);
    setText(this.#strategy, `In force: ${model.strategy() ?? 'not reported yet'}`);
  }
}
