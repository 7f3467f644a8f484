/**
 * A cluster of weighted nodes on the memory transport with memory storage, run on vitest's fake
 * timers: every node's tick timer and every message delivery move in virtual time, so elections
 * and commits are deterministic and a test takes milliseconds. Test-only; not exported.
 */
import type { ApplyInput, NodeId, StateMachine } from '@greenraft/consensus';
import { memoryStorage } from '@greenraft/raft';
import { memoryNetwork } from '@greenraft/transport-memory';
import type { MemoryNetwork, MemoryNetworkInit } from '@greenraft/transport-memory';
import { vi } from 'vitest';
import { createWeightedRaftNode } from './weighted-node.js';
import type { WeightedRaftNode, WeightedRaftNodeInit } from './weighted-node.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A replicated list of trades; apply returns how many the ledger holds. */
export class TradeLedger implements StateMachine<number> {
  trades: string[] = [];

  apply({ data }: ApplyInput): number {
    return this.trades.push(decoder.decode(data));
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.trades));
  }

  restore(data: Uint8Array): void {
    this.trades = JSON.parse(decoder.decode(data)) as string[];
  }
}

export const trade = (text: string): Uint8Array => encoder.encode(text);

export type WeightedNodeOptions = Partial<Omit<WeightedRaftNodeInit<number>, 'id' | 'transport' | 'storage' | 'stateMachine'>>;

export class VirtualCluster {
  readonly network: MemoryNetwork;
  readonly nodes = new Map<NodeId, WeightedRaftNode<number>>();
  readonly ledgers = new Map<NodeId, TradeLedger>();
  readonly tickMs: number;

  /** Installs fake timers, then builds (without starting) one node per id with `options` (a function gets the id). */
  constructor(
    readonly ids: readonly NodeId[],
    options: WeightedNodeOptions | ((id: NodeId) => WeightedNodeOptions),
    network: MemoryNetworkInit = { defaultLink: { latency: 1 } },
  ) {
    vi.useFakeTimers();
    this.network = memoryNetwork(network);
    this.tickMs = (typeof options === 'function' ? options(ids[0]!) : options).tickMs ?? 5;
    for (const id of ids) {
      const ledger = new TradeLedger();
      const node = createWeightedRaftNode<number>({
        id,
        transport: this.network.transport(id),
        storage: memoryStorage(),
        stateMachine: ledger,
        ...(typeof options === 'function' ? options(id) : options),
      });
      this.nodes.set(id, node);
      this.ledgers.set(id, ledger);
    }
  }

  node(id: NodeId): WeightedRaftNode<number> {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Starts every node at the same virtual instant. */
  async start(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.start()));
  }

  /** Moves virtual time on by `ms`, running every timer and promise due meanwhile. */
  async advance(ms: number): Promise<void> {
    await vi.advanceTimersByTimeAsync(ms);
  }

  /** Moves virtual time on tick by tick until `condition` holds; fails after `limitMs` of virtual time. */
  async until(condition: () => boolean, what: string, limitMs = 5_000): Promise<void> {
    for (let elapsed = 0; !condition(); elapsed += this.tickMs) {
      if (elapsed >= limitMs) throw new Error(`gave up waiting for ${what} after ${limitMs} virtual ms`);
      await this.advance(this.tickMs);
    }
  }

  /** Runs virtual time until `promise` settles, then returns its value (or throws its error). */
  async settle<T>(promise: Promise<T>, limitMs = 5_000): Promise<T> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    await this.until(() => settled, 'a promise to settle', limitMs);
    return promise;
  }

  /** The one leader that every listed node recognises. */
  async leader(among: readonly NodeId[] = this.ids): Promise<NodeId> {
    let leader: NodeId | undefined;
    await this.until(() => {
      const statuses = among.map((id) => this.node(id).status());
      const leaders = statuses.filter((status) => status.role === 'leader');
      leader = leaders[0]?.id;
      return leaders.length === 1 && statuses.every((status) => status.leader === leader && status.term === leaders[0]!.term);
    }, `one leader among ${among.join(', ')}`);
    return leader!;
  }

  /** Proposes through `leader` and runs time until the entry is applied there. */
  async propose(leader: NodeId, text: string): Promise<{ index: number; term: number; result: number }> {
    return this.settle(this.node(leader).propose(trade(text)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.stop()));
    this.network.close();
    vi.useRealTimers();
  }
}
