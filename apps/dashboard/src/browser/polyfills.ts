/**
 * What the engine needs from Node's globals and a browser lacks: `setImmediate` (the driver's
 * end-of-turn kick) and `crypto.randomUUID` outside a secure context (a page served over plain
 * http from another host). Imported first by the page; nothing here runs in Node, where the
 * globals exist. `Buffer` is not a global here: the build injects the subset in `./buffer.ts`
 * into the modules that use it.
 */

type Immediate = { readonly id: number };

/**
 * A macrotask without `setTimeout`'s clamping (nested timers wait at least 4 ms in browsers, which
 * would make every zero-latency hop of the in-page cluster cost 4 ms): a MessageChannel message.
 */
function installSetImmediate(target: Record<string, unknown>): void {
  const queue = new Map<number, () => void>();
  let nextId = 1;
  const channel = new MessageChannel();
  channel.port1.onmessage = (event: MessageEvent<number>) => {
    const callback = queue.get(event.data);
    if (callback === undefined) return;
    queue.delete(event.data);
    callback();
  };
  target.setImmediate = (callback: (...args: unknown[]) => void, ...args: unknown[]): Immediate => {
    const id = nextId++;
    queue.set(id, () => callback(...args));
    channel.port2.postMessage(id);
    return { id };
  };
  target.clearImmediate = (handle: Immediate | undefined): void => {
    if (handle !== undefined) queue.delete(handle.id);
  };
}

/** RFC 4122 version 4 from `crypto.getRandomValues`, which every context has. */
function randomUUID(): `${string}-${string}-${string}-${string}-${string}` {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const scope = globalThis as unknown as Record<string, unknown>;
if (typeof scope.setImmediate !== 'function') installSetImmediate(scope);
if (typeof globalThis.crypto?.randomUUID !== 'function') Object.defineProperty(globalThis.crypto, 'randomUUID', { value: randomUUID, configurable: true });

export {};
