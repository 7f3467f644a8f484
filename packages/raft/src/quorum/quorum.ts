import { type ClusterConfig, type Configuration, type Index, type NodeId, totalWeight } from '@greenraft/consensus';

/** The outcome of counting votes: a quorum granted, a quorum can no longer grant, or not yet known. */
export type VoteResult = 'won' | 'lost' | 'pending';

/** A single configuration, or a joint one that needs a quorum in both halves. */
export type QuorumConfig = Configuration | ClusterConfig;

/** The halves a quorum must be found in: one, or two while joint. */
function halvesOf(config: QuorumConfig): readonly Configuration[] {
  if ('voters' in config) return [config];
  return config.outgoing === undefined ? [config.incoming] : [config.incoming, config.outgoing];
}

/** Weighted majority with exact integers: Q is a quorum iff 2·Σ_{i∈Q} w_i > Σ_all w_i. */
function isMajority(weight: number, total: number): boolean {
  return 2 * weight > total;
}

/**
 * The smallest total weight that forms a quorum of `config`: ⌊W/2⌋ + 1 where W is the total weight.
 *
 * @example
 * ```ts
 * quorumWeight(configuration({ a: 3, b: 1, c: 1 })); // 3: a alone is a quorum
 * ```
 */
export function quorumWeight(config: Configuration): number {
  return Math.floor(totalWeight(config) / 2) + 1;
}

/**
 * True if the voters in `ids` form a quorum of `config` (of both halves while joint).
 * Ids that are not voters, and zero-weight voters, add nothing.
 *
 * @example
 * ```ts
 * const weighted = configuration({ a: 3, b: 1, c: 1 });
 * isQuorum(weighted, ['a']);      // true: 2·3 > 5
 * isQuorum(weighted, ['b', 'c']); // false: 2·2 ≤ 5
 * ```
 */
export function isQuorum(config: QuorumConfig, ids: Iterable<NodeId>): boolean {
  const set = ids instanceof Set ? (ids as ReadonlySet<NodeId>) : new Set(ids);
  for (const half of halvesOf(config)) {
    let weight = 0;
    for (const id of set) weight += half.voters.get(id) ?? 0;
    if (!isMajority(weight, totalWeight(half))) return false;
  }
  return true;
}

function halfVoteResult(config: Configuration, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let missing = 0;
  let total = 0;
  for (const [id, weight] of config.voters) {
    total += weight;
    const vote = votes.get(id);
    if (vote === true) granted += weight;
    else if (vote === undefined) missing += weight;
  }
  if (isMajority(granted, total)) return 'won';
  if (isMajority(granted + missing, total)) return 'pending';
  return 'lost';
}

/**
 * Counts `votes` (voter → granted?) by weight. While joint, the election is won only with a
 * quorum in both halves, and lost as soon as either half can no longer grant one.
 * Votes from ids that are not voters are ignored.
 *
 * @example
 * ```ts
 * const config = configuration({ a: 3, b: 1, c: 1 });
 * voteResult(config, new Map([['b', true], ['c', true]]));  // 'pending': a may still decide
 * voteResult(config, new Map([['a', false]]));              // 'lost'
 * ```
 */
export function voteResult(config: QuorumConfig, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let result: VoteResult = 'won';
  for (const half of halvesOf(config)) {
    const partial = halfVoteResult(half, votes);
    if (partial === 'lost') return 'lost';
    if (partial === 'pending') result = 'pending';
  }
  return result;
}

// Scratch arrays reused across calls: committedIndex runs on every acknowledgement.
const scratchMatch: number[] = [];
const scratchWeight: number[] = [];

function halfCommittedIndex(config: Configuration, matchIndex: (id: NodeId) => Index | undefined): Index {
  let total = 0;
  let count = 0;
  for (const [id, weight] of config.voters) {
    total += weight;
    const match = matchIndex(id) ?? 0;
    // Insertion sort, descending by match: configurations are small.
    let at = count++;
    while (at > 0 && scratchMatch[at - 1]! < match) {
      scratchMatch[at] = scratchMatch[at - 1]!;
      scratchWeight[at] = scratchWeight[at - 1]!;
      at--;
    }
    scratchMatch[at] = match;
    scratchWeight[at] = weight;
  }
  if (total <= 0) return 0;
  let weight = 0;
  for (let i = 0; i < count; i++) {
    weight += scratchWeight[i]!;
    if (isMajority(weight, total)) return scratchMatch[i]!;
  }
  return 0;
}

/**
 * The highest log index that a weighted quorum of voters has acknowledged: voters sorted by
 * match index, descending, accumulate weight until 2·acc > total. While joint, the smaller
 * of the two halves' indexes (an index commits only with a quorum in both).
 *
 * @param matchIndex - the highest index known replicated on a voter, `undefined` when unknown (counts as 0)
 *
 * @example
 * ```ts
 * const config = configuration({ a: 3, b: 1, c: 1 });
 * const match = new Map([['a', 7], ['b', 9], ['c', 9]]);
 * committedIndex(config, (id) => match.get(id)); // 7: b and c (weight 2 of 5) cannot commit 9 alone
 * ```
 */
export function committedIndex(config: QuorumConfig, matchIndex: (id: NodeId) => Index | undefined): Index {
  let index = Number.POSITIVE_INFINITY;
  for (const half of halvesOf(config)) index = Math.min(index, halfCommittedIndex(half, matchIndex));
  return index === Number.POSITIVE_INFINITY ? 0 : index;
}

/**
 * Given acknowledgements in arrival order, how many of them (a prefix) it took to form a quorum
 * of `config` (of both halves while joint), or `undefined` if they never do. Repeated ids and
 * ids that are not voters count for nothing but still occupy their place in the order.
 *
 * @example
 * ```ts
 * const config = configuration({ a: 1, b: 3, c: 1 });
 * quorumPrefixLength(config, ['a', 'c', 'b']); // 3: only b's ack makes 2·4 > 5
 * quorumPrefixLength(config, ['a', 'c']);      // undefined
 * ```
 */
export function quorumPrefixLength(config: QuorumConfig, acks: readonly NodeId[]): number | undefined {
  const halves = halvesOf(config);
  const totals = halves.map(totalWeight);
  const weights = halves.map(() => 0);
  const seen = new Set<NodeId>();
  for (let position = 0; position < acks.length; position++) {
    const id = acks[position]!;
    if (seen.has(id)) continue;
    seen.add(id);
    let formed = true;
    for (let h = 0; h < halves.length; h++) {
      weights[h]! += halves[h]!.voters.get(id) ?? 0;
      if (!isMajority(weights[h]!, totals[h]!)) formed = false;
    }
    if (formed) return position + 1;
  }
  return undefined;
}
