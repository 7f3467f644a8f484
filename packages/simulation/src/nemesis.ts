import { InvalidArgumentError, integerOption } from '@greenraft/consensus';
import type { LinkFaults } from '@greenraft/transport-memory';
import { type Rng, rng } from './random.js';
import { type ReconfigurationChange, reconfigurationLane } from './reconfig-plan.js';

/**
 * The faults the nemesis can inject. Network shape: `partition` (two random halves),
 * `majority` (a minority, often holding the leader, cut off from the majority), `one-way`
 * (random one-way cuts), `bridge` (two halves that talk only through one node). Link bursts:
 * `loss`, `duplicate`, `reorder`, `delay`. Nodes: `crash` (losing unsynced writes, then a
 * restart from disk), `pause` (no ticks, messages queue up, then resume). Configuration:
 * `reconfigure` (membership and weight changes by joint consensus through the leader, spare nodes
 * joining and members leaving). `heal`: every fault ends at once at random moments (the schedule
 * always heals at its end).
 */
export type FaultKind =
  | 'partition'
  | 'majority'
  | 'one-way'
  | 'bridge'
  | 'loss'
  | 'duplicate'
  | 'reorder'
  | 'delay'
  | 'crash'
  | 'pause'
  | 'reconfigure'
  | 'heal';

/** Every {@link FaultKind}: what `--nemesis all` selects. */
export const FAULT_KINDS: readonly FaultKind[] = [
  'partition',
  'majority',
  'one-way',
  'bridge',
  'loss',
  'duplicate',
  'reorder',
  'delay',
  'crash',
  'pause',
  'reconfigure',
  'heal',
];

const NETWORK_FAULTS: readonly FaultKind[] = ['partition', 'majority', 'one-way', 'bridge'];
const LINK_FAULTS: readonly FaultKind[] = ['loss', 'duplicate', 'reorder', 'delay'];
const NODE_FAULTS: readonly FaultKind[] = ['crash', 'pause'];

/**
 * Parses a nemesis selection: `none`, `all`, or a comma-separated list of {@link FAULT_KINDS}.
 * Returns the kinds in canonical order, without duplicates. Throws `InvalidArgumentError` (from `@greenraft/consensus`)
 * naming an unknown kind.
 *
 * @example
 * ```ts
 * parseNemesis('crash,partition'); // ['partition', 'crash']
 * parseNemesis('none');            // []
 * ```
 */
export function parseNemesis(spec: string): FaultKind[] {
  const trimmed = spec.trim();
  if (trimmed === 'none') return [];
  if (trimmed === 'all') return [...FAULT_KINDS];
  const names = trimmed.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(FAULT_KINDS as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(`unknown nemesis fault '${name}'; use none, all, or a comma-separated list of ${FAULT_KINDS.join(', ')}`);
    }
  }
  return FAULT_KINDS.filter((kind) => names.includes(kind));
}

/** The canonical text of a selection: `none`, `all`, or the comma list in canonical order. */
export function formatNemesis(kinds: readonly FaultKind[]): string {
  const set = new Set(kinds);
  if (set.size === 0) return 'none';
  if (FAULT_KINDS.every((kind) => set.has(kind))) return 'all';
  return FAULT_KINDS.filter((kind) => set.has(kind)).join(',');
}

/**
 * Which node a node fault hits: the leader at that moment, a follower that has just voted for
 * another node in its current term (crashing voters is what tests that votes are durable), or a
 * fixed node by position. `fallback` is used when no node fits.
 */
export type NodeTarget =
  | { readonly kind: 'leader'; readonly fallback: number }
  | { readonly kind: 'voter'; readonly fallback: number }
  | { readonly kind: 'node'; readonly index: number };

/**
 * Where in a node's Ready cycle a crash strikes: before its batch is durable (the batch and its
 * messages are lost), after the batch is durable but before its messages leave, or between cycles.
 */
export type CrashPoint = 'before-persist' | 'after-persist' | 'between-readies';

/** One thing the nemesis does at a step. Node positions are 0-based indices into the cluster. */
export type NemesisAction =
  | { readonly type: 'partition'; readonly fault: 'partition' | 'majority'; readonly groups: readonly (readonly number[])[]; readonly withLeader: boolean }
  | { readonly type: 'cut'; readonly fault: 'one-way' | 'bridge'; readonly links: readonly (readonly [number, number])[] }
  | { readonly type: 'heal-network' }
  | { readonly type: 'link-faults'; readonly fault: 'loss' | 'duplicate' | 'reorder' | 'delay'; readonly faults: LinkFaults }
  | { readonly type: 'clear-link-faults' }
  /** `slot` pairs a crash or pause with its end when the target is chosen at run time. */
  | { readonly type: 'crash'; readonly slot: number; readonly target: NodeTarget; readonly point: CrashPoint; readonly atMs: number }
  | { readonly type: 'restart'; readonly slot: number }
  | { readonly type: 'pause'; readonly slot: number; readonly target: NodeTarget }
  | { readonly type: 'resume'; readonly slot: number }
  /** Ask the leader for `change`; `choice` in [0, 1) picks the node it hits, `weight` is a drawn weight (0–4). */
  | { readonly type: 'reconfigure'; readonly change: ReconfigurationChange; readonly choice: number; readonly weight: number }
  | { readonly type: 'heal-all' };

/** A nemesis action and the step at whose start it happens. */
export interface NemesisEvent {
  readonly step: number;
  readonly action: NemesisAction;
}

/** Options of {@link nemesisSchedule}. */
export interface NemesisScheduleInit {
  /** Seeds every choice of the schedule. */
  seed: number;
  /** Cluster size (3 or more). */
  nodes: number;
  /**
   * Spare nodes beyond `nodes`, outside the initial configuration (reconfiguration adds them).
   * Network and node faults hit them too; the number of node lanes still follows `nodes`.
   * @default 0
   */
  spares?: number;
  /** The schedule covers steps `[0, steps)` and ends with a `heal-all` at `steps`. */
  steps: number;
  /** The faults to draw from. */
  faults: readonly FaultKind[];
  /**
   * Length of a step in virtual milliseconds (crashes strike at a random moment within it).
   * @default 10
   */
  tickMs?: number;
}

/**
 * Draws a nemesis schedule from a seed: independent lanes (network shape, link bursts,
 * ⌊(nodes − 1) / 2⌋ node lanes, so at most a minority of the initial voters is crashed or paused at
 * once, and a configuration lane), each alternating quiet gaps and faults of random length;
 * optional `heal-all` events; always a final `heal-all` at `steps`. The same init always gives
 * the same schedule.
 *
 * @example
 * ```ts
 * const events = nemesisSchedule({ seed: 7, nodes: 5, steps: 1000, faults: parseNemesis('all') });
 * console.log(events.at(-1)); // { step: 1000, action: { type: 'heal-all' } }
 * ```
 */
export function nemesisSchedule(init: NemesisScheduleInit): NemesisEvent[] {
  const { seed, nodes, steps, faults } = init;
  const tickMs = init.tickMs ?? 10;
  const spares = init.spares ?? 0;
  integerOption('nodes', nodes, { min: 1 });
  integerOption('spares', spares, { min: 0 });
  const positions = nodes + spares;
  integerOption('steps', steps, { min: 0 });
  const enabled = new Set(faults);
  const events: NemesisEvent[] = [];
  // Each lane has its own stream, so enabling a fault in one lane never changes another lane's draws.
  const networkKinds = NETWORK_FAULTS.filter((kind) => enabled.has(kind));
  if (networkKinds.length > 0) networkLane(rng(seed ^ 0x1f3d5b79), positions, steps, networkKinds, events);
  const linkKinds = LINK_FAULTS.filter((kind) => enabled.has(kind));
  if (linkKinds.length > 0) linkLane(rng(seed ^ 0x2a6c8e01), steps, linkKinds, events);
  const nodeKinds = NODE_FAULTS.filter((kind) => enabled.has(kind));
  let slot = 0;
  for (let lane = 0; lane < Math.floor((nodes - 1) / 2) && nodeKinds.length > 0; lane++) {
    slot = nodeLane(rng(seed ^ (0x3b7d9f13 + lane * 0x10001)), positions, steps, nodeKinds, tickMs, slot, events);
  }
  if (enabled.has('reconfigure')) reconfigurationLane(rng(seed ^ 0x5e1a7c3d), steps, events);
  if (enabled.has('heal')) {
    const draw = rng(seed ^ 0x4c8ea025);
    for (let step = draw.int(100, 400); step < steps; step += draw.int(100, 400)) events.push({ step, action: { type: 'heal-all' } });
  }
  events.push({ step: steps, action: { type: 'heal-all' } });
  // Stable sort: events at the same step keep lane order, which is itself deterministic.
  return events.map((event, order) => ({ event, order })).sort((a, b) => a.event.step - b.event.step || a.order - b.order).map(({ event }) => event);
}

function networkLane(draw: Rng, nodes: number, steps: number, kinds: readonly FaultKind[], events: NemesisEvent[]): void {
  const all = Array.from({ length: nodes }, (_, i) => i);
  for (let step = draw.int(0, 60); step < steps; ) {
    const kind = draw.pick(kinds);
    const duration = draw.int(20, 200);
    const shuffled = draw.shuffle(all);
    let action: NemesisAction;
    if (kind === 'partition') {
      const cut = draw.int(1, nodes - 1);
      action = { type: 'partition', fault: 'partition', groups: [shuffled.slice(0, cut), shuffled.slice(cut)], withLeader: false };
    } else if (kind === 'majority') {
      const minority = Math.max(1, Math.floor((nodes - 1) / 2));
      action = { type: 'partition', fault: 'majority', groups: [shuffled.slice(0, minority), shuffled.slice(minority)], withLeader: draw.chance(0.6) };
    } else if (kind === 'one-way') {
      const links: [number, number][] = [];
      for (let k = draw.int(1, nodes); k > 0; k--) {
        const from = draw.int(0, nodes - 1);
        const to = (from + draw.int(1, nodes - 1)) % nodes;
        links.push([from, to]);
      }
      action = { type: 'cut', fault: 'one-way', links };
    } else {
      // Bridge: halves A and B exchange nothing directly; the bridge node talks to both.
      const rest = shuffled.slice(1); // shuffled[0] is the bridge
      const cut = Math.max(1, Math.floor(rest.length / 2));
      const left = rest.slice(0, cut);
      const right = rest.slice(cut);
      const links: [number, number][] = [];
      for (const a of left) for (const b of right) links.push([a, b], [b, a]);
      action = { type: 'cut', fault: 'bridge', links };
    }
    events.push({ step, action });
    const end = Math.min(step + duration, steps);
    events.push({ step: end, action: { type: 'heal-network' } });
    step = end + draw.int(10, 120);
  }
}

function linkLane(draw: Rng, steps: number, kinds: readonly FaultKind[], events: NemesisEvent[]): void {
  for (let step = draw.int(0, 80); step < steps; ) {
    const kind = draw.pick(kinds) as 'loss' | 'duplicate' | 'reorder' | 'delay';
    let faults: LinkFaults;
    if (kind === 'loss') faults = { loss: 0.05 + 0.35 * draw() };
    else if (kind === 'duplicate') faults = { duplicate: 0.05 + 0.35 * draw() };
    else if (kind === 'reorder') faults = { reorder: 0.1 + 0.5 * draw(), reorderDelay: draw.int(5, 30) };
    else faults = { latency: { min: draw.int(2, 10), max: draw.int(15, 60) } };
    events.push({ step, action: { type: 'link-faults', fault: kind, faults } });
    const end = Math.min(step + draw.int(10, 150), steps);
    events.push({ step: end, action: { type: 'clear-link-faults' } });
    step = end + draw.int(10, 120);
  }
}

function nodeLane(draw: Rng, nodes: number, steps: number, kinds: readonly FaultKind[], tickMs: number, slot: number, events: NemesisEvent[]): number {
  for (let step = draw.int(0, 50); step < steps; ) {
    const kind = draw.pick(kinds);
    const roll = draw();
    const target: NodeTarget =
      roll < 0.3
        ? { kind: 'leader', fallback: draw.int(0, nodes - 1) }
        : roll < 0.5
          ? { kind: 'voter', fallback: draw.int(0, nodes - 1) }
          : { kind: 'node', index: draw.int(0, nodes - 1) };
    let end: number;
    if (kind === 'crash') {
      const point = draw.pick(['before-persist', 'after-persist', 'between-readies'] as const);
      // Mostly short outages: a node back within an election timeout is what tests its durable term and vote.
      const down = draw.chance(0.6) ? draw.int(1, 15) : draw.int(16, 150);
      events.push({ step, action: { type: 'crash', slot, target, point, atMs: draw.int(0, tickMs - 1) } });
      end = Math.min(step + down, steps);
      events.push({ step: end, action: { type: 'restart', slot } });
    } else {
      events.push({ step, action: { type: 'pause', slot, target } });
      end = Math.min(step + draw.int(3, 60), steps);
      events.push({ step: end, action: { type: 'resume', slot } });
    }
    slot++;
    step = end + draw.int(1, 60);
  }
  return slot;
}
