import { storageCompliance } from '@greenraft/consensus-compliance';
import { memoryStorage } from './memory.js';
import type { MemoryStorage } from './memory.js';

for (const sync of ['always', 'manual'] as const) {
  storageCompliance<MemoryStorage>({
    setup: async () => memoryStorage({ sync }),
    teardown: async (storage) => storage.close(),
    reopen: async (storage) => memoryStorage({ sync, state: storage.durableState() }),
  });
}
