import type { Block } from './ledger.js';
import type { CertificateOffer, MarketContract, MarketNode } from './market.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** A node as the state holds it. */
export type NodeRecord = Mutable<MarketNode>;
/** A contract as the state holds it. */
export type ContractRecord = Mutable<MarketContract>;
/** An open certificate offer as the state holds it. */
export type OfferRecord = Mutable<CertificateOffer>;

export function copyNode(node: Readonly<NodeRecord>): NodeRecord {
  return { ...node, carbonCycle: { ...node.carbonCycle } };
}

/** What a transaction reads: the committed state, or a draft on top of it. */
export interface StateView {
  readonly round: number;
  readonly gridBalance: number;
  node(id: string): Readonly<NodeRecord> | undefined;
  contract(id: string): Readonly<ContractRecord> | undefined;
  offer(id: string): Readonly<OfferRecord> | undefined;
  /** Every registered node id, sorted by UTF-16 code units (the order of every list the market hands out). */
  nodeIds(): readonly string[];
  nodeCount(): number;
}

/**
 * The market's committed state. Tables are `Map`s, so no id can name a prototype member. Their
 * insertion order is the order of the log, the same on every replica, and a snapshot keeps it.
 */
export class CommittedState implements StateView {
  round = 0;
  lastAppliedIndex = 0;
  gridBalance = 0;
  readonly nodes = new Map<string, NodeRecord>();
  readonly contracts = new Map<string, ContractRecord>();
  readonly offers = new Map<string, OfferRecord>();
  readonly blocks: Block[] = [];
  #sortedIds: readonly string[] | undefined;

  constructor(readonly marketId: string) {}

  node(id: string): Readonly<NodeRecord> | undefined {
    return this.nodes.get(id);
  }

  contract(id: string): Readonly<ContractRecord> | undefined {
    return this.contracts.get(id);
  }

  offer(id: string): Readonly<OfferRecord> | undefined {
    return this.offers.get(id);
  }

  nodeIds(): readonly string[] {
    this.#sortedIds ??= [...this.nodes.keys()].sort();
    return this.#sortedIds;
  }

  nodeCount(): number {
    return this.nodes.size;
  }

  /** Makes a draft's changes (an entry's) the state, with the entry's index and block. Cannot fail. */
  commit(draft: Draft, index: number, block: Block | undefined): void {
    for (const [id, node] of draft.nodes) this.nodes.set(id, node);
    for (const [id, contract] of draft.contracts) this.contracts.set(id, contract);
    for (const [id, offer] of draft.offers) {
      if (offer === null) this.offers.delete(id);
      else this.offers.set(id, offer);
    }
    if (draft.added.length > 0) this.#sortedIds = undefined;
    this.round = draft.round;
    this.gridBalance = draft.gridBalance;
    this.lastAppliedIndex = index;
    if (block !== undefined) this.blocks.push(block);
  }
}

/**
 * Staged changes on top of a view: an entry's on top of the committed state, or one transaction's
 * on top of its entry's. A record is copied into the draft before it changes, so the view below
 * never changes until {@link Draft.mergeInto} or {@link CommittedState.commit}; a transaction that
 * fails leaves nothing behind but its discarded draft.
 */
export class Draft implements StateView {
  readonly #parent: StateView;
  readonly nodes = new Map<string, NodeRecord>();
  readonly contracts = new Map<string, ContractRecord>();
  /** `null`: the offer closed. */
  readonly offers = new Map<string, OfferRecord | null>();
  /** Ids of the nodes registered in this draft, in order. */
  readonly added: string[] = [];
  round: number;
  gridBalance: number;
  #sortedIds: readonly string[] | undefined;

  constructor(parent: StateView) {
    this.#parent = parent;
    this.round = parent.round;
    this.gridBalance = parent.gridBalance;
  }

  node(id: string): Readonly<NodeRecord> | undefined {
    return this.nodes.get(id) ?? this.#parent.node(id);
  }

  /** The node's record in this draft, to change. The node must exist. */
  editNode(id: string): NodeRecord {
    let node = this.nodes.get(id);
    if (node === undefined) {
      const below = this.#parent.node(id);
      if (below === undefined) throw new Error(`no node ${id} to edit`);
      node = copyNode(below);
      this.nodes.set(id, node);
    }
    return node;
  }

  addNode(node: NodeRecord): void {
    this.nodes.set(node.id, node);
    this.added.push(node.id);
    this.#sortedIds = undefined;
  }

  nodeIds(): readonly string[] {
    if (this.added.length === 0) return this.#parent.nodeIds();
    this.#sortedIds ??= [...this.#parent.nodeIds(), ...this.added].sort();
    return this.#sortedIds;
  }

  nodeCount(): number {
    return this.#parent.nodeCount() + this.added.length;
  }

  contract(id: string): Readonly<ContractRecord> | undefined {
    return this.contracts.get(id) ?? this.#parent.contract(id);
  }

  /** The contract's record in this draft, to change. The contract must exist. */
  editContract(id: string): ContractRecord {
    let contract = this.contracts.get(id);
    if (contract === undefined) {
      const below = this.#parent.contract(id);
      if (below === undefined) throw new Error(`no contract ${id} to edit`);
      contract = { ...below };
      this.contracts.set(id, contract);
    }
    return contract;
  }

  addContract(contract: ContractRecord): void {
    this.contracts.set(contract.id, contract);
  }

  offer(id: string): Readonly<OfferRecord> | undefined {
    const staged = this.offers.get(id);
    if (staged !== undefined) return staged ?? undefined;
    return this.#parent.offer(id);
  }

  addOffer(offer: OfferRecord): void {
    this.offers.set(offer.id, offer);
  }

  closeOffer(id: string): void {
    this.offers.set(id, null);
  }

  /** Moves this draft's changes into `parent` (the draft this one was made on). */
  mergeInto(parent: Draft): void {
    for (const [id, node] of this.nodes) parent.nodes.set(id, node);
    for (const [id, contract] of this.contracts) parent.contracts.set(id, contract);
    for (const [id, offer] of this.offers) parent.offers.set(id, offer);
    if (this.added.length > 0) {
      parent.added.push(...this.added);
      parent.#sortedIds = undefined;
    }
    parent.round = this.round;
    parent.gridBalance = this.gridBalance;
  }
}
