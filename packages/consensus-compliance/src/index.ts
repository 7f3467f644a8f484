/**
 * Shared vitest compliance suites (libp2p style). Every greenraft Transport, Storage and
 * ConsensusNode implementation runs them from a short spec file.
 *
 * @example
 * ```ts
 * // my-transport.spec.test.ts
 * import { transportCompliance } from '@greenraft/consensus-compliance';
 * transportCompliance({ setup: async () => makeThreeConnectedEndpoints(), teardown: async (t) => t.close() });
 * ```
 *
 * @packageDocumentation
 */
export * from './transport.js';
export * from './storage.js';
export * from './node.js';
