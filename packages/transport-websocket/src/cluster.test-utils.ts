// Helpers shared by this package's tests: transports on loopback, waiting on counters.
import { eventually } from '@greenraft/consensus-compliance';
import type { NodeId } from '@greenraft/consensus';
import { type WebSocketTransport, websocketTransport } from './transport.js';
import type { WebSocketTransportInit } from './options.js';
import { DROP_REASONS, type DropReason } from './stats.js';

export const CLUSTER_ID = 'greenraft-test';
export const SECRET = 'test secret: 32 bytes of cluster key';

/** Drop reasons a receiver counts for frames it got. */
export const INCOMING_DROPS: readonly DropReason[] = ['undecodable', 'invalid', 'wrongSender', 'wrongAddressee', 'oversizedFrame', 'notStarted'];

export type TransportOverrides = Partial<Omit<WebSocketTransportInit, 'id'>>;

/** Creates, listens and wires together a transport for each id (every one gets the full peer map). */
export async function loopbackTransports(ids: readonly NodeId[], overrides: TransportOverrides | ((id: NodeId) => TransportOverrides) = {}): Promise<Map<NodeId, WebSocketTransport>> {
  const transports = new Map<NodeId, WebSocketTransport>();
  for (const id of ids) {
    const extra = typeof overrides === 'function' ? overrides(id) : overrides;
    transports.set(id, websocketTransport({ id, clusterId: CLUSTER_ID, secret: SECRET, pingIntervalMs: 200, ...extra }));
  }
  const peers: Record<NodeId, string> = {};
  for (const [id, transport] of transports) peers[id] = await transport.listen();
  for (const transport of transports.values()) transport.setPeers(peers);
  return transports;
}

/** Adds `id` to every transport's peer map (and gives the newcomer the full map). */
export async function joinTransport(transports: Map<NodeId, WebSocketTransport>, id: NodeId, overrides: TransportOverrides = {}): Promise<WebSocketTransport> {
  const transport = websocketTransport({ id, clusterId: CLUSTER_ID, secret: SECRET, pingIntervalMs: 200, ...overrides });
  await transport.listen();
  transports.set(id, transport);
  const peers: Record<NodeId, string> = {};
  for (const [peer, t] of transports) if (t.url !== undefined) peers[peer] = t.url;
  for (const t of transports.values()) t.setPeers({ ...Object.fromEntries(t.peers()), ...peers });
  return transport;
}

export function incomingDrops(drops: Readonly<Record<DropReason, number>>): number {
  return INCOMING_DROPS.reduce((sum, reason) => sum + drops[reason], 0);
}

export function totalDrops(drops: Readonly<Record<DropReason, number>>): number {
  return DROP_REASONS.reduce((sum, reason) => sum + drops[reason], 0);
}

/**
 * Resolves once every message written between started transports has been delivered or dropped by
 * its receiver and no queue holds anything (or after `timeoutMs`: messages to a peer that
 * stopped may never be accounted for).
 */
export async function settle(transports: Iterable<WebSocketTransport>, timeoutMs = 3000): Promise<void> {
  const list = [...transports];
  const settled = (): boolean => {
    const stats = new Map(list.map((t) => [t.localId, t.stats()]));
    for (const sender of stats.values()) {
      if (sender.state !== 'started') continue;
      for (const [peer, out] of Object.entries(sender.peers)) {
        const receiver = stats.get(peer);
        if (receiver === undefined || receiver.state !== 'started') continue;
        if (out.queuedMessages > 0 || out.bufferedBytes > 0) return false;
        const back = receiver.peers[sender.localId];
        if (back === undefined) continue;
        if (out.messagesSent !== back.messagesReceived + incomingDrops(back.drops)) return false;
      }
    }
    return true;
  };
  try {
    await eventually(settled, { timeoutMs, what: 'the transports to settle', intervalMs: 2 });
  } catch {
    // Best effort: the caller's own assertions say what went wrong.
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
