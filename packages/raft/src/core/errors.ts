import { GreenraftError, type GreenraftErrorOptions } from '@greenraft/consensus';

/**
 * The core caught itself breaking a Raft invariant (e.g. a leader asked it to overwrite a
 * committed entry). Only a bug (or a bug injected by `@greenraft/raft/testing`) can cause it; the node must stop.
 */
export class InvariantViolationError extends GreenraftError<'INVARIANT_VIOLATION'> {
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('INVARIANT_VIOLATION', message, options);
    this.name = 'InvariantViolationError';
  }
}
