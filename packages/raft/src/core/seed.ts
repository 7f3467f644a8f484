import type { NodeId } from '@greenraft/consensus';

/**
 * The PRNG seed of a core that is given neither `seed` nor `random`: a small, stable hash of its
 * id (FNV-1a), so nodes with different ids draw different election timeouts (Raft §5.2) and the
 * same node always draws the same ones. The driver relies on it too.
 */
export function defaultSeed(id: NodeId): number {
  let hash = 2166136261;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 16777619);
  return hash >>> 0 || 1;
}
