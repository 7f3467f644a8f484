export { memoryStorage } from './memory.js';
export type { MemoryStorage, MemoryStorageInit, MemorySyncMode } from './memory.js';
