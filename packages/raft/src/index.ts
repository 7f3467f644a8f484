/**
 * The greenraft Raft engine: a deterministic core (`RaftCore`: tick/step/propose in, `Ready`
 * out), the `RaftNode` driver (`createRaftNode`) that wires it to a transport, storage, state
 * machine and timers, and `memoryStorage()` for tests and simulations.
 *
 * @example
 * ```ts
 * import { type ApplyInput, type StateMachine, configuration } from '@greenraft/consensus';
 * import { createRaftNode, memoryStorage, type RaftNode } from '@greenraft/raft';
 * import { memoryNetwork } from '@greenraft/transport-memory';
 *
 * // A replicated meter-reading ledger: apply returns how many readings it holds.
 * class MeterLedger implements StateMachine<number> {
 *   readings: string[] = [];
 *   apply({ data }: ApplyInput): number {
 *     this.readings.push(new TextDecoder().decode(data));
 *     return this.readings.length;
 *   }
 *   snapshot(): Uint8Array {
 *     return new TextEncoder().encode(JSON.stringify(this.readings));
 *   }
 *   restore(data: Uint8Array): void {
 *     this.readings = JSON.parse(new TextDecoder().decode(data)) as string[];
 *   }
 * }
 *
 * const ids = ['n1', 'n2', 'n3'];
 * const network = memoryNetwork();
 * const ledgers = ids.map(() => new MeterLedger());
 * const nodes = ids.map((id, i) =>
 *   createRaftNode({ id, transport: network.transport(id), storage: memoryStorage(), stateMachine: ledgers[i]!, bootstrap: configuration(ids) }),
 * );
 * const elected = new Promise<RaftNode<number>>((resolve) => {
 *   for (const node of nodes) node.on('stateChange', ({ to }) => to === 'leader' && resolve(node));
 * });
 * await Promise.all(nodes.map((node) => node.start()));
 *
 * // Propose through the leader: resolves once the entry is committed and applied there.
 * const leader = await elected;
 * const { index, result } = await leader.propose(new TextEncoder().encode('meter-7: 12.5 kWh'));
 * console.log(`committed at index ${index}; the ledger holds ${result} reading`);
 *
 * // A linearizable read on a follower: after the barrier its ledger has every earlier write.
 * const follower = nodes.find((node) => node !== leader)!;
 * await follower.readBarrier();
 * console.log(ledgers[nodes.indexOf(follower)]!.readings); // [ 'meter-7: 12.5 kWh' ]
 *
 * await Promise.all(nodes.map((node) => node.stop()));
 * network.close();
 * ```
 *
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './quorum/index.js';
export * from './node/index.js';
export * from './storage/index.js';
