import type { ClusterConfig, Configuration, LogEntry } from '@greenraft/consensus';

// 32-bit mixing (murmur3's finaliser): cheap, and a changed input bit flips about half the output bits.
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function bytesDigest(data: Uint8Array): number {
  let h = 0x811c9dc5 ^ data.length;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h >>> 0;
}

function configurationDigest(config: Configuration, h: number): number {
  for (const id of [...config.voters.keys()].sort()) {
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    h = mix(h ^ config.voters.get(id)!);
  }
  for (const id of [...config.learners].sort()) {
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    h = mix(h ^ 0x5bd1e995);
  }
  return h;
}

function clusterConfigDigest(config: ClusterConfig): number {
  const incoming = configurationDigest(config.incoming, 0x1b873593);
  return config.outgoing ? mix(configurationDigest(config.outgoing, incoming ^ 0xcc9e2d51)) : incoming;
}

/** What identifies an entry's content: its term, its kind and its data (or configuration). */
export function entryDigest(entry: LogEntry): number {
  const content = entry.type === 'normal' ? bytesDigest(entry.data) : clusterConfigDigest(entry.config) ^ 0x27d4eb2f;
  return mix(content ^ Math.imul(entry.term, 0x9e3779b1));
}

/**
 * The digest of a log prefix ending with `entry`, given the digest of the prefix before it
 * (0 before index 1). Equal chain digests at an index mean equal prefixes, which is what Log
 * Matching and State Machine Safety compare, in O(1) per entry.
 */
export function chainDigest(previous: number, entry: LogEntry): number {
  return mix(Math.imul(previous ^ 0x68e31da4, 0x01000193) ^ entryDigest(entry) ^ Math.imul(entry.index, 0x2545f491));
}

/** Snapshot data of the simulator's state machine: the chain digest of everything applied. */
export function encodeChainSnapshot(chain: number): Uint8Array {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, chain >>> 0);
  return data;
}

/**
 * Reads the chain digest that opens the simulator's snapshot data ({@link encodeChainSnapshot}, or
 * the KV state machine's, which appends its store); `undefined` when there are fewer than 4 bytes.
 */
export function decodeChainSnapshot(data: Uint8Array): number | undefined {
  if (data.byteLength < 4) return undefined;
  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
}
