/**
 * Durable greenraft storage: a segmented, checksummed write-ahead log with group commit for the
 * Raft log, hard state and snapshots. `save` resolves once its batch is on disk (fdatasync), a
 * batch survives a crash whole or not at all, a torn tail is dropped and reported, corruption
 * anywhere else is refused with {@link StorageCorruptionError}, and a failed write or fsync stops
 * the store for good (never retried). {@link restoreSnapshot} writes a new data directory from one
 * snapshot file, for a cluster that lost a quorum's data.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { configuration, type StateMachine } from '@greenraft/consensus';
 * import { createRaftNode } from '@greenraft/raft';
 * import { walStorage } from '@greenraft/storage-wal';
 * import { memoryNetwork } from '@greenraft/transport-memory';
 *
 * // A replicated meter-reading ledger: apply returns how many readings it holds.
 * let readings: string[] = [];
 * const meterLedger: StateMachine<number> = {
 *   apply: ({ data }) => readings.push(new TextDecoder().decode(data)),
 *   snapshot: () => new TextEncoder().encode(JSON.stringify(readings)),
 *   restore: (data) => {
 *     readings = JSON.parse(new TextDecoder().decode(data)) as string[];
 *   },
 * };
 *
 * const directory = join(mkdtempSync(join(tmpdir(), 'greenraft-')), 'n1');
 * const network = memoryNetwork();
 * const start = async () => {
 *   const storage = await walStorage({ directory });
 *   const node = createRaftNode({ id: 'n1', transport: network.transport('n1'), storage, stateMachine: meterLedger, bootstrap: configuration(['n1']) });
 *   const elected = new Promise<void>((resolve) => node.on('stateChange', ({ to }) => to === 'leader' && resolve()));
 *   await node.start();
 *   await elected;
 *   return { storage, node };
 * };
 *
 * let { storage, node } = await start();
 * const { index } = await node.propose(new TextEncoder().encode('meter-7: 12.5 kWh'));
 * console.log(index); // 2: index 1 holds the leader's no-op
 * await node.stop();
 * await storage.close();
 *
 * // A restart finds the log on disk and applies it again.
 * readings = [];
 * ({ storage, node } = await start());
 * console.log(storage.recovery.tornTail, storage.lastIndex >= 2); // undefined true
 * await node.readBarrier();
 * console.log(readings); // [ 'meter-7: 12.5 kWh' ]
 * await node.stop();
 * await storage.close();
 * network.close();
 * ```
 *
 * @packageDocumentation
 */
import { type WalStorage, type WalStorageInit, openWalStorage } from './wal.js';

export { StorageCorruptionError, StorageLockedError, StorageVersionError } from './errors.js';
export { FAILPOINT_ENV } from './failpoints.js';
export type { WalFailpoint, WalFailpointInit } from './failpoints.js';
export { FORMAT_VERSION } from './format.js';
export type { WalRecovery } from './recovery.js';
export { restoreSnapshot } from './restore.js';
export type { RestoreSnapshotInit, RestoredSnapshot } from './restore.js';
export type { WalStorage, WalStorageInit, WalSyncEvent } from './wal.js';

/**
 * Opens (or creates) the write-ahead log in `init.directory`, locks the directory, replays it
 * and returns a {@link WalStorage} ready for a node's `load`. A torn tail is truncated and
 * reported in `recovery`.
 *
 * @throws {@link StorageCorruptionError} when a checksum, header or structure is wrong where the
 * log was durable: the node must not start on it (recover it from its peers).
 * @throws {@link StorageLockedError} when another live process (or an open store in this one)
 * holds the directory.
 * @throws {@link StorageVersionError} when the directory was written by a newer format.
 * @throws InvalidArgumentError for bad options; StorageError when the directory cannot be used.
 *
 * @example
 * ```ts
 * import { walStorage } from '@greenraft/storage-wal';
 *
 * const storage = await walStorage({ directory: './data/n1', onSync: ({ durationMs }) => fsyncSeconds.observe(durationMs / 1000) });
 * if (storage.recovery.tornTail) console.warn('dropped an unacknowledged torn write', storage.recovery.tornTail);
 * ```
 */
export function walStorage(init: WalStorageInit): Promise<WalStorage> {
  return openWalStorage(init);
}
