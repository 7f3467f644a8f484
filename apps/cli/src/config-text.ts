/** How the text output of the `greenraft` commands prints a cluster configuration. */

function describeHalf(half: { readonly voters?: unknown; readonly learners?: unknown }): string {
  const weights = half.voters !== null && typeof half.voters === 'object' ? Object.entries(half.voters) : [];
  const voters = weights.map(([id, weight]) => `${id}=${weight}`).join(' ');
  return Array.isArray(half.learners) && half.learners.length > 0 ? `${voters} (learners: ${half.learners.join(' ')})` : voters;
}

/**
 * A configuration in the client protocol's JSON form (`{ voters, learners, outgoing }`, as a node
 * answers `cluster.status` and `greenraft restore --json` prints it) as one line:
 * `n1=3 n2=2 (learners: n4)`, then `(joint, outgoing: …)` during a joint change; `unknown` for
 * anything that is not an object.
 */
export function describeConfiguration(config: unknown): string {
  if (config === null || typeof config !== 'object') return 'unknown';
  const { outgoing } = config as { readonly outgoing?: unknown };
  const incoming = describeHalf(config);
  if (outgoing === null || typeof outgoing !== 'object') return incoming;
  // The protocol answers the outgoing half as { voters, learners }; a bare map of weights is its voters.
  const half = 'voters' in outgoing ? outgoing : { voters: outgoing };
  return `${incoming} (joint, outgoing: ${describeHalf(half)})`;
}
