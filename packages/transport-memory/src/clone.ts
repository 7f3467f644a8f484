/** Deeper than any Raft message: beyond it the value is handed to `structuredClone`, which also copes with cycles. */
const MAX_DEPTH = 16;

/**
 * A copy of `value` that shares no object with it, as `structuredClone` makes (what a real wire
 * gives the receiver). Raft messages are plain data (objects, arrays, byte arrays, maps and sets)
 * and this copies them directly, several times faster than `structuredClone`, which dominated the
 * cost of an in-process commit. Anything else (a `Date`, another typed array, a class instance, a
 * cycle, a nesting deeper than any message) goes to `structuredClone`, which also throws on what
 * cannot be cloned at all (a function, a symbol), so the network drops it as before.
 */
export function cloneMessage<T>(value: T): T {
  return copy(value, 0) as T;
}

function copy(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) {
    // structuredClone refuses functions and symbols; so does a message.
    if (typeof value === 'function' || typeof value === 'symbol') return structuredClone(value);
    return value;
  }
  if (depth > MAX_DEPTH) return structuredClone(value);
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copy(value[i], depth + 1);
    return out;
  }
  if (value instanceof Uint8Array && value.constructor === Uint8Array) return value.slice();
  if (value instanceof Map && value.constructor === Map) {
    const out = new Map<unknown, unknown>();
    for (const [key, item] of value) out.set(copy(key, depth + 1), copy(item, depth + 1));
    return out;
  }
  if (value instanceof Set && value.constructor === Set) {
    const out = new Set<unknown>();
    for (const item of value) out.add(copy(item, depth + 1));
    return out;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key], depth + 1);
  return out;
}
