import type { Index, NodeId, Term } from '@greenraft/consensus';

/**
 * What a run reports to `SimulationInit.onEvent`, in the order it happens: a node seen leading a
 * term for the first time, and every entry a node applies (with the chain digest of its applied
 * prefix, so two traces that agree on every `applied` event applied the same entries).
 */
export type SimulationEvent =
  | { readonly type: 'elected'; readonly step: number; readonly id: NodeId; readonly term: Term }
  | { readonly type: 'applied'; readonly step: number; readonly id: NodeId; readonly index: Index; readonly term: Term; readonly chain: number };
