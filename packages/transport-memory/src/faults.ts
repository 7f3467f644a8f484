import { InvalidArgumentError, integerOption } from '@greenraft/consensus';

/** One-way delay of a link in milliseconds: fixed, uniform over an integer range, or drawn from the network's seeded PRNG. */
export type Latency = number | { readonly min: number; readonly max: number } | ((random: () => number) => number);

/**
 * The faults of one direction of a link. Fields left out fall back to the network's default link
 * (see {@link MemoryNetwork.setDefaultLink}), and from there to no fault at all.
 */
export interface LinkFaults {
  /**
   * One-way delay in ms. A range `{ min, max }` draws uniformly in `[min, max]` (an integer when
   * both ends are integers); a
   * function receives the network's seeded PRNG (a negative or non-finite result counts as 0).
   * Varying latency never reorders a link by itself: each message leaves no earlier than the one
   * before it, unless {@link LinkFaults.reorder} picks it.
   * @default 0 (delivered on the next clock turn)
   */
  latency?: Latency;
  /**
   * Probability in [0, 1] that a message is dropped.
   * @default 0
   */
  loss?: number;
  /**
   * Probability in [0, 1] that a message is delivered twice.
   * @default 0
   */
  duplicate?: number;
  /**
   * Probability in [0, 1] that a message gets an extra random delay of 1 to
   * {@link LinkFaults.reorderDelay} ms and leaves the link's order, so later messages overtake it.
   * @default 0
   */
  reorder?: number;
  /**
   * The largest extra delay, in ms, of a reordered message.
   * @default 10
   */
  reorderDelay?: number;
}

/** A link's faults with every default filled in. */
export interface ResolvedLinkFaults {
  readonly latency: Latency;
  readonly loss: number;
  readonly duplicate: number;
  readonly reorder: number;
  readonly reorderDelay: number;
}

/** What a link does when nothing is set: deliver everything, in order, on the next clock turn. */
export const FAULT_FREE_LINK: ResolvedLinkFaults = Object.freeze({ latency: 0, loss: 0, duplicate: 0, reorder: 0, reorderDelay: 10 });

/** Every field of {@link LinkFaults}. */
export const LINK_FAULT_KEYS: readonly string[] = ['latency', 'loss', 'duplicate', 'reorder', 'reorderDelay'];

/**
 * Checks `faults` and returns a frozen copy, or throws {@link InvalidArgumentError} naming the
 * bad field. `where` prefixes the message (e.g. `setLink(a → b)`).
 */
export function validateLinkFaults(faults: LinkFaults, where: string): LinkFaults {
  if (typeof faults !== 'object' || faults === null) {
    throw new InvalidArgumentError(`${where}: faults must be an object`);
  }
  for (const key of Object.keys(faults)) {
    if (!LINK_FAULT_KEYS.includes(key)) throw new InvalidArgumentError(`${where}: unknown link fault "${key}"`);
  }
  const copy: LinkFaults = {};
  if (faults.latency !== undefined) copy.latency = validateLatency(faults.latency, where);
  for (const key of ['loss', 'duplicate', 'reorder'] as const) {
    const probability = faults[key];
    if (probability === undefined) continue;
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
      throw new InvalidArgumentError(`${where}: ${key} must be a probability in [0, 1], got ${String(probability)}`);
    }
    copy[key] = probability;
  }
  if (faults.reorderDelay !== undefined) {
    const delay = faults.reorderDelay;
    copy.reorderDelay = integerOption(`${where}: reorderDelay`, delay, { min: 1 });
  }
  return Object.freeze(copy);
}

function validateLatency(latency: Latency, where: string): Latency {
  if (typeof latency === 'function') return latency;
  if (typeof latency === 'number') {
    if (!Number.isFinite(latency) || latency < 0) {
      throw new InvalidArgumentError(`${where}: latency must be a finite number ≥ 0, got ${String(latency)}`);
    }
    return latency;
  }
  if (typeof latency === 'object' && latency !== null) {
    const { min, max } = latency;
    if (typeof min !== 'number' || typeof max !== 'number' || !Number.isFinite(min) || !Number.isFinite(max) || min < 0 || max < min) {
      throw new InvalidArgumentError(`${where}: latency range needs finite 0 ≤ min ≤ max, got min ${String(min)}, max ${String(max)}`);
    }
    return Object.freeze({ min, max });
  }
  throw new InvalidArgumentError(`${where}: latency must be a number, a { min, max } range or a function`);
}

/** Fills in `faults` from `fallback` field by field. */
export function resolveLinkFaults(faults: LinkFaults | undefined, fallback: LinkFaults): ResolvedLinkFaults {
  return {
    latency: faults?.latency ?? fallback.latency ?? FAULT_FREE_LINK.latency,
    loss: faults?.loss ?? fallback.loss ?? FAULT_FREE_LINK.loss,
    duplicate: faults?.duplicate ?? fallback.duplicate ?? FAULT_FREE_LINK.duplicate,
    reorder: faults?.reorder ?? fallback.reorder ?? FAULT_FREE_LINK.reorder,
    reorderDelay: faults?.reorderDelay ?? fallback.reorderDelay ?? FAULT_FREE_LINK.reorderDelay,
  };
}

/** Draws one delay in ms from `latency`; never negative, never NaN. */
export function sampleLatency(latency: Latency, random: () => number): number {
  let delay: number;
  if (typeof latency === 'number') delay = latency;
  else if (typeof latency === 'function') delay = latency(random);
  else if (Number.isInteger(latency.min) && Number.isInteger(latency.max)) {
    delay = latency.min + Math.floor(random() * (latency.max - latency.min + 1));
  } else delay = latency.min + random() * (latency.max - latency.min);
  return typeof delay === 'number' && Number.isFinite(delay) && delay > 0 ? delay : 0;
}
