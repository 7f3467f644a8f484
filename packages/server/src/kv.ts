/** The key-value store a `kv` server replicates: UTF-8 keys and values, each with the index of the write that set it. */

/** One stored value. */
export interface KvValue {
  readonly value: string;
  /** The log index of the write that set it (its modification index). */
  readonly index: number;
}

/** The store of one replica. Only the server's state machine writes to it, on apply. */
export class KvStore {
  readonly #values = new Map<string, KvValue>();

  get size(): number {
    return this.#values.size;
  }

  get(key: string): KvValue | undefined {
    return this.#values.get(key);
  }

  put(key: string, value: string, index: number): void {
    this.#values.set(key, { value, index });
  }

  /** Sets `key` to `to` if it holds `from` (`null`: if it is absent); whether it did. */
  compareAndSwap(key: string, from: string | null, to: string, index: number): boolean {
    const current = this.#values.get(key);
    const matches = from === null ? current === undefined : current?.value === from;
    if (matches) this.#values.set(key, { value: to, index });
    return matches;
  }

  delete(key: string): boolean {
    return this.#values.delete(key);
  }

  entries(): IterableIterator<[string, KvValue]> {
    return this.#values.entries();
  }

  clear(): void {
    this.#values.clear();
  }
}
