import type { ApplyInput, StateMachine } from '@greenraft/consensus';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The state machine the ConsensusNode suite runs: an append-only journal of applied entries.
 * `apply` records and returns `"<index>:<text>"`, so a test can compare what every replica
 * applied, in which order and at which index.
 */
export class AppendOnlyJournal implements StateMachine<string> {
  /** Every applied entry, as `"<index>:<text>"`, in apply order. */
  records: string[] = [];

  apply({ index, data }: ApplyInput): string {
    const record = `${index}:${decoder.decode(data)}`;
    this.records.push(record);
    return record;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.records));
  }

  restore(data: Uint8Array): void {
    this.records = data.length === 0 ? [] : (JSON.parse(decoder.decode(data)) as string[]);
  }
}
