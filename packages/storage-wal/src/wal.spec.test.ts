import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageCompliance } from '@greenraft/consensus-compliance';
import { afterAll } from 'vitest';
import { type WalStorage, walStorage } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'greenraft-wal-spec-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let stores = 0;

// Small segments and no cache, so the suite also crosses segment boundaries and reads from disk.
for (const init of [{}, { segmentBytes: 4096, cacheBytes: 0 }]) {
  storageCompliance<WalStorage>({
    setup: () => walStorage({ directory: join(root, `store-${++stores}`), ...init }),
    teardown: (storage) => storage.close(),
    reopen: (storage) => walStorage({ directory: storage.directory, ...init }),
  });
}
