import { GreenraftError } from '@greenraft/consensus';

/**
 * The cluster of a chaos run could not be set up: a node did not start, no leader was elected,
 * no free ports. Nothing was tested; the message says where the node logs are.
 */
export class ChaosSetupError extends GreenraftError<'CHAOS_SETUP'> {
  /** The run's directory, kept for its logs. */
  readonly dir: string;

  constructor(message: string, dir: string, options: { cause?: unknown } = {}) {
    super('CHAOS_SETUP', message, options);
    this.name = 'ChaosSetupError';
    this.dir = dir;
  }
}
