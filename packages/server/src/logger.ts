/** The server's logger: pino JSON lines with the node id, term and role on every line; pretty on a terminal. */
import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { ServerConfig } from './config.js';

/** Options of {@link createServerLogger}. */
export interface ServerLoggerInit {
  readonly node: string;
  readonly log: ServerConfig['log'];
  /** Read for every line: the node's term and role now. */
  readonly state: () => { readonly term: number; readonly role: string };
  /** Where lines go. @default stdout */
  readonly destination?: DestinationStream;
}

/** Creates the logger of one server. */
export function createServerLogger(init: ServerLoggerInit): Logger {
  const prettyOutput = init.destination === undefined && (init.log.format === 'pretty' || (init.log.format === 'auto' && process.stdout.isTTY === true));
  const destination = init.destination ?? (prettyOutput ? pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : pino.destination({ sync: true }));
  return pino(
    {
      level: init.log.level,
      base: { node: init.node },
      mixin: () => init.state(),
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}
