import { type Configuration, type NodeId, configurationsEqual } from '@greenraft/consensus';
import type { NemesisEvent } from './nemesis.js';
import type { Rng } from './random.js';

/**
 * A membership or weight change the reconfiguration nemesis asks the current leader for:
 * `add-voter` / `add-learner` (a node outside the configuration joins), `remove-voter`,
 * `remove-learner`, `promote-learner` (learner → voter), `demote-voter` (voter → learner),
 * `reweight` (one voter gets another integer weight, 0 included), `dominant-weight` (one voter gets
 * 60% of the total weight, so it alone is a quorum) and `equal-weights` (every voter back to 1).
 */
export type ReconfigurationChange =
  | 'add-voter'
  | 'remove-voter'
  | 'add-learner'
  | 'remove-learner'
  | 'promote-learner'
  | 'demote-voter'
  | 'reweight'
  | 'dominant-weight'
  | 'equal-weights';

/** Every {@link ReconfigurationChange}, in the order the nemesis draws from. */
export const RECONFIGURATION_CHANGES: readonly ReconfigurationChange[] = [
  'add-voter',
  'remove-voter',
  'add-learner',
  'remove-learner',
  'promote-learner',
  'demote-voter',
  'reweight',
  'dominant-weight',
  'equal-weights',
];

/** Steps a requested change is retried for (a leader must first commit an entry of its term, a joint change must finish). */
export const RECONFIGURATION_RETRY_STEPS = 40;

/**
 * The configuration lane of the nemesis: a change every 25–150 steps. Which node a change hits is
 * decided at run time from `choice`, against the configuration the leader holds then.
 */
export function reconfigurationLane(draw: Rng, steps: number, events: NemesisEvent[]): void {
  for (let step = draw.int(20, 120); step < steps; step += draw.int(25, 150)) {
    const change = draw.pick(RECONFIGURATION_CHANGES);
    events.push({ step, action: { type: 'reconfigure', change, choice: draw(), weight: draw.int(0, 4) } });
  }
}

function byId(a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The configuration a change leads to from `current`, or `undefined` when it does not apply (no
 * candidate node, or it would leave no voter, a zero total weight, or the same configuration).
 * `nodes` are every node that could join; `choice` in [0, 1) picks the node; `weight` (≥ 0) is the
 * weight of a `reweight`, and of a joining or promoted voter (at least 1). Pure and deterministic.
 *
 * @example
 * ```ts
 * const current = configuration(['n1', 'n2', 'n3']);
 * planReconfiguration(current, 'dominant-weight', ['n1', 'n2', 'n3', 'n4'], 0, 1);
 * // voters n1 → 3, n2 → 1, n3 → 1: n1 holds 60% of the weight
 * ```
 */
export function planReconfiguration(
  current: Configuration,
  change: ReconfigurationChange,
  nodes: readonly NodeId[],
  choice: number,
  weight: number,
): Configuration | undefined {
  const voters = new Map(current.voters);
  const learners = new Set(current.learners);
  const voterIds = [...voters.keys()].sort(byId);
  const learnerIds = [...learners].sort(byId);
  const outsiders = nodes.filter((id) => !voters.has(id) && !learners.has(id)).sort(byId);
  const pick = (ids: readonly NodeId[]): NodeId | undefined => ids[Math.min(ids.length - 1, Math.floor(choice * ids.length))];
  const joiningWeight = Math.max(1, weight);
  switch (change) {
    case 'add-voter': {
      const id = pick(outsiders);
      if (id === undefined) return undefined;
      voters.set(id, joiningWeight);
      break;
    }
    case 'add-learner': {
      const id = pick(outsiders);
      if (id === undefined) return undefined;
      learners.add(id);
      break;
    }
    case 'remove-learner':
    case 'promote-learner': {
      const id = pick(learnerIds);
      if (id === undefined) return undefined;
      learners.delete(id);
      if (change === 'promote-learner') voters.set(id, joiningWeight);
      break;
    }
    case 'remove-voter':
    case 'demote-voter': {
      // At least one voter stays.
      if (voterIds.length < 2) return undefined;
      const id = pick(voterIds)!;
      voters.delete(id);
      if (change === 'demote-voter') learners.add(id);
      break;
    }
    case 'reweight': {
      const id = pick(voterIds)!;
      voters.set(id, weight);
      break;
    }
    case 'dominant-weight': {
      const id = pick(voterIds)!;
      let rest = 0;
      for (const [other, w] of voters) if (other !== id) rest += w;
      // w / (w + rest) ≥ 60% ⇔ w ≥ 1.5 · rest: the node alone is a weighted quorum.
      voters.set(id, Math.max(1, Math.ceil(1.5 * rest)));
      break;
    }
    case 'equal-weights':
      for (const id of voterIds) voters.set(id, 1);
      break;
  }
  let total = 0;
  for (const w of voters.values()) total += w;
  if (voters.size === 0 || total <= 0) return undefined;
  const target: Configuration = { voters, learners };
  return configurationsEqual(current, target) ? undefined : target;
}
