// What the crash writer writes, shared with the crash test that checks it: batches are printed
// as small descriptions and rebuilt here byte for byte on both sides.

/** mulberry32: a small seeded PRNG, so every cycle of the crash test replays the same choices. */
export function prng(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The data of entry `index` of `term`: every byte depends on both, so a misplaced or stale entry shows. */
export function payload(index, term, size) {
  const bytes = new Uint8Array(size);
  let x = (index * 2654435761 + term * 40503) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

export function configFor(index, term) {
  const incoming = { voters: new Map([['a', 1 + (index % 3)], ['b', 1], ['c', term % 4]]), learners: new Set(index % 2 === 0 ? ['d'] : []) };
  return index % 5 === 0 ? { incoming, outgoing: { voters: new Map([['a', 1], ['b', 1], ['c', 1]]), learners: new Set() } } : { incoming };
}

/**
 * A batch description: `e` lists entries as [index, term, size] (size -1: a configuration entry),
 * `h` the hard state as [term, vote or null, commit], `s` the snapshot as [index, term, size].
 */
export function batchFrom(description) {
  const batch = {};
  if (description.s) {
    const [index, term, size] = description.s;
    batch.snapshot = { metadata: { index, term, config: configFor(index, term) }, data: payload(index, term + 1_000_000, size) };
  }
  if (description.e) {
    batch.entries = description.e.map(([index, term, size]) =>
      size < 0 ? { type: 'config', index, term, config: configFor(index, term) } : { type: 'normal', index, term, data: payload(index, term, size) },
    );
  }
  if (description.h) {
    const [term, vote, commit] = description.h;
    batch.hardState = { term, vote: vote ?? undefined, commit };
  }
  return batch;
}
