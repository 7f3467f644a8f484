/**
 * A small cluster of RaftNodes on the memory transport with memory storage, for the driver's
 * own tests. Not exported from the package.
 */
import { configuration } from '@greenraft/consensus';
import type { ApplyInput, NodeId, StateMachine, Storage } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { memoryNetwork } from '@greenraft/transport-memory';
import type { MemoryNetwork } from '@greenraft/transport-memory';
import { memoryStorage } from '../storage/index.js';
import type { MemoryStorage } from '../storage/index.js';
import { createRaftNode } from './raft-node.js';
import type { RaftNode, RaftNodeInit } from './raft-node.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A replicated list of meter readings; apply returns how many readings the ledger holds. */
export class ReadingLedger implements StateMachine<number> {
  readings: string[] = [];
  restores = 0;

  apply({ data }: ApplyInput): number {
    this.readings.push(decoder.decode(data));
    return this.readings.length;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.readings));
  }

  restore(data: Uint8Array): void {
    this.restores++;
    this.readings = JSON.parse(decoder.decode(data)) as string[];
  }
}

export const reading = (text: string): Uint8Array => encoder.encode(text);

export type NodeOptions = Partial<Omit<RaftNodeInit<number>, 'id' | 'storage' | 'stateMachine'>>;

export class TestCluster {
  readonly network: MemoryNetwork = memoryNetwork();
  readonly nodes = new Map<NodeId, RaftNode<number>>();
  readonly ledgers = new Map<NodeId, ReadingLedger>();
  readonly storages = new Map<NodeId, Storage>();

  constructor(
    readonly ids: readonly NodeId[],
    readonly options: NodeOptions = {},
  ) {}

  /** Creates (without starting) node `id` on `storage` with a fresh ledger. */
  create(id: NodeId, storage: Storage = memoryStorage(), extra: NodeOptions = {}): RaftNode<number> {
    const ledger = new ReadingLedger();
    const node = createRaftNode<number>({
      id,
      transport: this.network.transport(id),
      storage,
      stateMachine: ledger,
      bootstrap: this.ids.includes(id) ? configuration(this.ids) : undefined,
      tickMs: 5,
      ...this.options,
      ...extra,
    });
    this.nodes.set(id, node);
    this.ledgers.set(id, ledger);
    this.storages.set(id, storage);
    return node;
  }

  async start(storageFor: (id: NodeId) => Storage = () => memoryStorage()): Promise<void> {
    for (const id of this.ids) this.create(id, storageFor(id));
    await Promise.all(this.ids.map((id) => this.node(id).start()));
  }

  node(id: NodeId): RaftNode<number> {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  ledger(id: NodeId): ReadingLedger {
    return this.ledgers.get(id)!;
  }

  memoryStorage(id: NodeId): MemoryStorage {
    return this.storages.get(id) as MemoryStorage;
  }

  /** Waits for one leader that the given nodes all recognise. */
  async leader(among: readonly NodeId[] = this.ids): Promise<NodeId> {
    let leader: NodeId | undefined;
    await eventually(
      () => {
        const statuses = among.map((id) => this.node(id).status());
        const leaders = statuses.filter((status) => status.role === 'leader');
        leader = leaders[0]?.id;
        return leaders.length === 1 && statuses.every((status) => status.leader === leader && status.term === leaders[0]!.term);
      },
      { what: `a leader among ${among.join(', ')}` },
    );
    return leader!;
  }

  async applied(index: number, among: readonly NodeId[] = this.ids): Promise<void> {
    await eventually(() => among.every((id) => this.node(id).status().appliedIndex >= index), { what: `index ${index} applied on ${among.join(', ')}` });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.stop()));
    this.network.close();
  }
}
