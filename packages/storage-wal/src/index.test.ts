import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configuration, type StateMachine } from '@greenraft/consensus';
import { createRaftNode } from '@greenraft/raft';
import { memoryNetwork } from '@greenraft/transport-memory';
import { expect, it, vi } from 'vitest';
import { walStorage } from './index.js';

// The @packageDocumentation example of index.ts and the README, run as written.
it('runs the package example and prints what its comments say', async () => {
  const printed: unknown[][] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(structuredClone(args)));
  const parent = mkdtempSync(join(tmpdir(), 'greenraft-'));
  try {
    // A replicated meter-reading ledger: apply returns how many readings it holds.
    let readings: string[] = [];
    const meterLedger: StateMachine<number> = {
      apply: ({ data }) => readings.push(new TextDecoder().decode(data)),
      snapshot: () => new TextEncoder().encode(JSON.stringify(readings)),
      restore: (data) => {
        readings = JSON.parse(new TextDecoder().decode(data)) as string[];
      },
    };

    const directory = join(parent, 'n1');
    const network = memoryNetwork();
    const start = async () => {
      const storage = await walStorage({ directory });
      const node = createRaftNode({ id: 'n1', transport: network.transport('n1'), storage, stateMachine: meterLedger, bootstrap: configuration(['n1']) });
      const elected = new Promise<void>((resolve) => node.on('stateChange', ({ to }) => to === 'leader' && resolve()));
      await node.start();
      await elected;
      return { storage, node };
    };

    let { storage, node } = await start();
    const { index } = await node.propose(new TextEncoder().encode('meter-7: 12.5 kWh'));
    console.log(index);
    await node.stop();
    await storage.close();

    // A restart finds the log on disk and applies it again.
    readings = [];
    ({ storage, node } = await start());
    console.log(storage.recovery.tornTail, storage.lastIndex >= 2);
    await node.readBarrier();
    console.log(readings);
    await node.stop();
    await storage.close();
    network.close();
  } finally {
    log.mockRestore();
    rmSync(parent, { recursive: true, force: true });
  }
  expect(printed).toEqual([[2], [undefined, true], [['meter-7: 12.5 kWh']]]);
});
