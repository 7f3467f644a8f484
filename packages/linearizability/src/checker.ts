import { InvalidArgumentError } from '@greenraft/consensus';
import type { CheckOptions, CheckResult, Model, Operation } from './types.js';

/** How a search of one part of a history ended. */
type SearchOutcome = 'ok' | 'illegal' | 'timeout';

/** Reading the clock on every step would cost more than the step itself. */
const STEPS_BETWEEN_CLOCK_READS = 2048;

/**
 * Checks a concurrent history for linearizability against a sequential model.
 *
 * The search is Wing and Gong's, with the memoisation of Lowe and of porcupine: it tries to
 * linearize pending operations one at a time in real-time order, backtracks when an operation's
 * completion is reached before it could be linearized, and never explores the same pair
 * (set of linearized operations, model state) twice. Histories are first split with the model's
 * `partition` (P-compositionality), each part checked on its own.
 *
 * Indefinite operations (`return: undefined`) may take effect at any point after their call,
 * with `output` undefined given to the model, or never: the search succeeds as soon as every
 * completed operation is linearized.
 *
 * @param model - the sequential specification.
 * @param history - the operations, in any order.
 * @param options - a time limit, and whether to narrow a failure down to the smallest failing prefix.
 * @returns the verdict, with the failing part and prefix when the history is not linearizable.
 * @throws {@link @greenraft/consensus!InvalidArgumentError} when an operation's times are not
 * numbers, it returns before its call, or only one of `output` and `return` is undefined.
 *
 * @example
 * ```ts
 * import { checkOperations, casRegisterModel } from '@greenraft/linearizability';
 *
 * const result = checkOperations(casRegisterModel(), [
 *   { clientId: 0, input: { kind: 'write', value: 1 }, call: 0, output: { kind: 'write' }, return: 10 },
 *   { clientId: 1, input: { kind: 'read' }, call: 2, output: { kind: 'read', value: 1 }, return: 3 },
 *   { clientId: 2, input: { kind: 'read' }, call: 4, output: { kind: 'read', value: null }, return: 5 },
 * ]);
 * console.log(result.result); // 'illegal': once a read saw 1, a later read cannot see nil
 * console.log(result.smallestFailingPrefix); // 5: the first five events already fail
 * ```
 */
export function checkOperations<State, Input, Output>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<Input, Output> {
  const started = performance.now();
  validateHistory(history, options);
  const deadline = options.timeoutMs ? started + options.timeoutMs : Number.POSITIVE_INFINITY;
  const findPrefix = options.findSmallestFailingPrefix ?? true;

  const parts = (model.partition ? model.partition([...history]) : [[...history]]).filter((part) => part.length > 0);
  let timedOut = false;
  const failing: number[] = [];
  for (let index = 0; index < parts.length; index++) {
    const outcome = searchLinearization(model, parts[index]!, deadline);
    if (outcome === 'timeout') {
      timedOut = true;
      break;
    }
    if (outcome === 'illegal') {
      failing.push(index);
      if (!findPrefix) break;
    }
  }

  const result: CheckResult<Input, Output> = {
    result: failing.length > 0 ? 'illegal' : timedOut ? 'unknown' : 'ok',
    operations: history.length,
    partitions: parts.length,
    ms: 0,
  };
  if (failing.length > 0) {
    // The earliest failure across parts is the smallest failing prefix of the whole history.
    let best: { index: number; end: FailingPrefix<Input, Output> } | undefined;
    for (const index of failing) {
      const end = findPrefix ? smallestFailingPrefix(model, parts[index]!, deadline) : undefined;
      if (end === undefined) {
        best ??= { index, end: { time: Number.POSITIVE_INFINITY, operation: undefined } };
        continue;
      }
      if (best === undefined || end.time < best.end.time) best = { index, end };
    }
    const part = parts[best!.index]!;
    result.failingPartition = best!.index;
    const name = model.partitionName?.(part);
    if (name !== undefined) result.failingKey = name;
    const operation = best!.end.operation;
    if (operation !== undefined) {
      result.failingOperation = operation;
      result.smallestFailingPrefix = countEventsUpTo(history, best!.end.time);
      const description = model.describe?.(operation.input, operation.output);
      if (description !== undefined) result.failingDescription = description;
    }
  }
  result.ms = performance.now() - started;
  return result;
}

/** Rejects histories the search would misread, before any work is done. */
function validateHistory<Input, Output>(history: readonly Operation<Input, Output>[], options: CheckOptions): void {
  if (!Array.isArray(history)) throw new InvalidArgumentError('the history must be an array of operations');
  const timeout = options.timeoutMs;
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout >= 0)) {
    throw new InvalidArgumentError(`timeoutMs must be a non-negative number of milliseconds, got ${String(timeout)}`);
  }
  history.forEach((op, index) => {
    if (typeof op !== 'object' || op === null) throw new InvalidArgumentError(`operation ${index} is not an object`);
    if (typeof op.call !== 'number' || !Number.isFinite(op.call)) {
      throw new InvalidArgumentError(`operation ${index}: call must be a finite number, got ${String(op.call)}`);
    }
    if (op.return === undefined) {
      if (op.output !== undefined) {
        throw new InvalidArgumentError(`operation ${index} has an output but no return time; an indefinite operation has neither`);
      }
      return;
    }
    if (typeof op.return !== 'number' || !Number.isFinite(op.return)) {
      throw new InvalidArgumentError(`operation ${index}: return must be a finite number or undefined, got ${String(op.return)}`);
    }
    if (op.return < op.call) {
      throw new InvalidArgumentError(`operation ${index} returns (${op.return}) before its call (${op.call})`);
    }
    if (op.output === undefined) {
      throw new InvalidArgumentError(`operation ${index} has a return time but no output; leave both undefined for an indefinite operation`);
    }
  });
}

/** One invocation or completion, ordered by time; at equal times calls come first, so touching intervals overlap. */
interface HistoryEvent {
  time: number;
  isCall: boolean;
  op: number;
}

function eventsOf<Input, Output>(ops: readonly Operation<Input, Output>[]): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  ops.forEach((op, index) => {
    events.push({ time: op.call, isCall: true, op: index });
    if (op.return !== undefined) events.push({ time: op.return, isCall: false, op: index });
  });
  return events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
}

function countEventsUpTo<Input, Output>(history: readonly Operation<Input, Output>[], time: number): number {
  let count = 0;
  for (const op of history) {
    if (op.call <= time) count++;
    if (op.return !== undefined && op.return <= time) count++;
  }
  return count;
}

/** The last event of a part's smallest failing prefix: the completion of `operation` at `time`. */
interface FailingPrefix<Input, Output> {
  time: number;
  operation: Operation<Input, Output> | undefined;
}

/**
 * Binary search for the shortest failing prefix of a part known to fail. Sound because
 * linearizability is prefix-closed: every prefix of a linearizable history (unfinished
 * operations made indefinite) is linearizable.
 */
function smallestFailingPrefix<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  deadline: number,
): FailingPrefix<Input, Output> {
  const events = eventsOf(ops);
  let lo = 1;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const outcome = searchLinearization(model, prefixOf(ops, events, mid), deadline);
    if (outcome === 'timeout') break;
    if (outcome === 'illegal') hi = mid;
    else lo = mid + 1;
  }
  // The last event of a failing prefix is a completion: an invocation alone can never fail.
  const last = events[hi - 1]!;
  return { time: last.time, operation: ops[last.op] };
}

function prefixOf<Input, Output>(
  ops: readonly Operation<Input, Output>[],
  events: readonly HistoryEvent[],
  length: number,
): Operation<Input, Output>[] {
  const completed = new Set<number>();
  const called: number[] = [];
  for (let i = 0; i < length; i++) {
    const event = events[i]!;
    if (event.isCall) called.push(event.op);
    else completed.add(event.op);
  }
  return called.map((index) => {
    const op = ops[index]!;
    return completed.has(index) ? op : { ...op, output: undefined, return: undefined };
  });
}

/** A seeded xorshift32, so Zobrist keys (and hence run times) are the same on every run. */
function zobristKeys(count: number): Int32Array {
  const keys = new Int32Array(count * 2);
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < keys.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    keys[i] = x;
  }
  return keys;
}

/**
 * The Wing–Gong search over one part. The remaining invocations and completions form a doubly
 * linked list (node 0 is the head, node `events + 1` the tail); linearizing an operation lifts
 * its invocation and completion out of the list, backtracking puts them back (dancing links).
 */
function searchLinearization<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  deadline: number,
): SearchOutcome {
  const events = eventsOf(ops);
  const count = events.length;
  const head = 0;
  const tail = count + 1;
  const next = new Int32Array(count + 2);
  const prev = new Int32Array(count + 2);
  const opOfNode = new Int32Array(count + 2);
  const isCall = new Uint8Array(count + 2);
  const match = new Int32Array(count + 2).fill(-1);
  const returnNodeOfOp = new Int32Array(ops.length).fill(-1);
  for (let node = 0; node <= tail; node++) {
    next[node] = node + 1;
    prev[node] = node - 1;
  }
  // Walk backwards so each call node finds its completion's node already numbered.
  for (let i = count - 1; i >= 0; i--) {
    const event = events[i]!;
    const node = i + 1;
    opOfNode[node] = event.op;
    if (event.isCall) {
      isCall[node] = 1;
      match[node] = returnNodeOfOp[event.op]!;
    } else {
      returnNodeOfOp[event.op] = node;
    }
  }

  const lift = (node: number): void => {
    next[prev[node]!] = next[node]!;
    prev[next[node]!] = prev[node]!;
    const completion = match[node]!;
    if (completion >= 0) {
      next[prev[completion]!] = next[completion]!;
      prev[next[completion]!] = prev[completion]!;
    }
  };
  const unlift = (node: number): void => {
    const completion = match[node]!;
    if (completion >= 0) {
      next[prev[completion]!] = completion;
      prev[next[completion]!] = completion;
    }
    next[prev[node]!] = node;
    prev[next[node]!] = node;
  };

  const zobrist = zobristKeys(ops.length);
  const linearized = new Uint32Array(Math.ceil(ops.length / 32));
  let hashLo = 0;
  let hashHi = 0;
  const hash = model.hash?.bind(model);
  const equal = model.equal ? model.equal.bind(model) : Object.is;
  // Hashed states are interned to small integers, so cache keys stay numbers. The same value
  // (or, states being immutable, the same object) always hashes alike, so `hash` runs once per state.
  const idsByHash = new Map<string, number>();
  const idsByValue = new Map<unknown, number>();
  const idsByObject = new WeakMap<object, number>();
  const internState = (state: State): number => {
    if (hash === undefined) return -1;
    const isObject = (typeof state === 'object' && state !== null) || typeof state === 'function';
    const known = isObject ? idsByObject.get(state as object) : idsByValue.get(state);
    if (known !== undefined) return known;
    const key = hash(state);
    let id = idsByHash.get(key);
    if (id === undefined) {
      id = idsByHash.size;
      idsByHash.set(key, id);
    }
    if (isObject) idsByObject.set(state as object, id);
    else idsByValue.set(state, id);
    return id;
  };
  // Explored configurations live in flat typed arrays, found through an open-addressing hash
  // table: far fewer objects for the collector than a Map of buckets. Entry e's linearized set
  // is arena[e * words, (e + 1) * words).
  const words = Math.max(linearized.length, 1);
  let arena = new Uint32Array(words * 1024);
  let entryKeys = new Int32Array(1024);
  let entryStateIds = new Int32Array(1024);
  const entryStates: State[] = [];
  let entries = 0;
  /** Slot -> entry + 1, 0 when empty. */
  let table = new Int32Array(4096);
  let tableMask = table.length - 1;
  const matches = (entry: number, stateId: number, state: State): boolean => {
    if (entryStateIds[entry] !== stateId) return false;
    const base = entry * words;
    for (let w = 0; w < linearized.length; w++) if (arena[base + w] !== linearized[w]) return false;
    return stateId >= 0 || equal(entryStates[entry]!, state);
  };
  const place = (entry: number): void => {
    let slot = entryKeys[entry]! & tableMask;
    while (table[slot] !== 0) slot = (slot + 1) & tableMask;
    table[slot] = entry + 1;
  };
  const addEntry = (key: number, stateId: number, state: State): void => {
    if (entries === entryKeys.length) {
      const capacity = entries * 2;
      const grownArena = new Uint32Array(capacity * words);
      grownArena.set(arena);
      arena = grownArena;
      const grownKeys = new Int32Array(capacity);
      grownKeys.set(entryKeys);
      entryKeys = grownKeys;
      const grownIds = new Int32Array(capacity);
      grownIds.set(entryStateIds);
      entryStateIds = grownIds;
    }
    arena.set(linearized, entries * words);
    entryKeys[entries] = key;
    entryStateIds[entries] = stateId;
    if (stateId < 0) entryStates[entries] = state;
    entries++;
    // Keep the table at most half full so probe runs stay short.
    if (entries * 2 > table.length) {
      table = new Int32Array(table.length * 2);
      tableMask = table.length - 1;
      for (let e = 0; e < entries; e++) place(e);
    } else {
      place(entries - 1);
    }
  };
  /** Records the configuration; false when it was explored already. */
  const remember = (lo: number, hi: number, state: State): boolean => {
    const stateId = internState(state);
    // Mix so that consecutive keys spread over the table.
    const key = Math.imul(lo ^ Math.imul(hi + stateId, 0x9e3779b1), 0x85ebca6b) ^ (hi >>> 15);
    for (let slot = key & tableMask; table[slot] !== 0; slot = (slot + 1) & tableMask) {
      const entry = table[slot]! - 1;
      if (entryKeys[entry] === key && matches(entry, stateId, state)) return false;
    }
    addEntry(key, stateId, state);
    return true;
  };

  const stackNodes = new Int32Array(ops.length);
  const stackStates: State[] = [];
  let depth = 0;
  let state = model.init();
  let node = next[head]!;
  // Candidates up to the first completion are tried in two passes: operations that completed
  // first, indefinite ones second. Indefinite operations usually need not be linearized early,
  // so linearizable histories are found sooner; the candidates tried are the same.
  let indefinitePass = false;
  const hasIndefinite = ops.some((op) => op.return === undefined);
  let steps = 0;
  for (;;) {
    if (++steps % STEPS_BETWEEN_CLOCK_READS === 0 && performance.now() > deadline) return 'timeout';
    // Reaching the tail means every completion was passed, so every completed operation is
    // linearized; indefinite operations still in the list are taken never to have happened.
    if (node === tail) return 'ok';
    if (isCall[node] === 1) {
      if (match[node]! < 0 !== indefinitePass) {
        node = next[node]!;
        continue;
      }
      const opIndex = opOfNode[node]!;
      const op = ops[opIndex]!;
      const stepped = model.step(state, op.input, op.output);
      if (stepped.ok) {
        const word = opIndex >>> 5;
        const bit = 1 << (opIndex & 31);
        linearized[word]! |= bit;
        const lo = hashLo ^ zobrist[opIndex * 2]!;
        const hi = hashHi ^ zobrist[opIndex * 2 + 1]!;
        if (remember(lo, hi, stepped.state)) {
          stackNodes[depth] = node;
          stackStates[depth] = state;
          depth++;
          state = stepped.state;
          hashLo = lo;
          hashHi = hi;
          lift(node);
          node = next[head]!;
          indefinitePass = false;
          continue;
        }
        linearized[word]! &= ~bit;
      }
      node = next[node]!;
      continue;
    }
    if (!indefinitePass && hasIndefinite) {
      indefinitePass = true;
      node = next[head]!;
      continue;
    }
    // A completion whose operation is not linearized yet: undo the latest choice.
    if (depth === 0) return 'illegal';
    depth--;
    const undone = stackNodes[depth]!;
    state = stackStates[depth]!;
    const opIndex = opOfNode[undone]!;
    linearized[opIndex >>> 5]! &= ~(1 << (opIndex & 31));
    hashLo ^= zobrist[opIndex * 2]!;
    hashHi ^= zobrist[opIndex * 2 + 1]!;
    unlift(undone);
    node = next[undone]!;
    indefinitePass = match[undone]! < 0;
  }
}
