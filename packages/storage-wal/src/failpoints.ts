import { InvalidArgumentError, integerOption, rejectUnknownOptions } from '@greenraft/consensus';

/**
 * Where a failpoint can strike: just before or after a write to a segment or snapshot file, a
 * file fsync (`fdatasync` of a segment, `fsync` of a new segment or snapshot), or a rename that
 * installs a new segment or snapshot.
 */
export type WalFailpoint = 'beforeWrite' | 'afterWrite' | 'beforeFsync' | 'afterFsync' | 'beforeRename' | 'afterRename';

/** A failpoint: what happens the `hit`-th time the store reaches `point`. For crash tests. */
export interface WalFailpointInit {
  /** Where to strike. */
  point: WalFailpoint;
  /**
   * Strike the `hit`-th time `point` is reached (counting from 1).
   * @default 1
   */
  hit?: number;
  /**
   * `'crash'` kills the process with SIGKILL, as a power cut or `kill -9` would stop it;
   * `'error'` makes the operation fail as an I/O error would (the store then fails for good).
   * @default 'crash'
   */
  action?: 'crash' | 'error';
}

/** The environment variable that sets a failpoint when the init option does not: `point[:hit[:action]]`, e.g. `afterWrite:3`. */
export const FAILPOINT_ENV = 'GREENRAFT_WAL_FAILPOINT';

const POINTS: readonly WalFailpoint[] = ['beforeWrite', 'afterWrite', 'beforeFsync', 'afterFsync', 'beforeRename', 'afterRename'];

/** The error an `'error'` failpoint raises where the file-system call would have failed. */
export class InjectedFailure extends Error {
  constructor(point: WalFailpoint, hit: number) {
    super(`injected failure at ${point} (hit ${hit})`);
    this.name = 'InjectedFailure';
  }
}

/** Parses the `GREENRAFT_WAL_FAILPOINT` syntax, `point[:hit[:action]]`. */
export function parseFailpoint(text: string): WalFailpointInit {
  const [point, hit, action, ...rest] = text.trim().split(':');
  if (rest.length > 0 || !POINTS.includes(point as WalFailpoint)) {
    throw new InvalidArgumentError(`${FAILPOINT_ENV}=${text}: expected point[:hit[:action]] with point one of ${POINTS.join(', ')}`);
  }
  const init: WalFailpointInit = { point: point as WalFailpoint };
  if (hit !== undefined && hit !== '') init.hit = Number(hit);
  if (action !== undefined && action !== '') init.action = action as WalFailpointInit['action'];
  return checkFailpoint(init);
}

function checkFailpoint(init: WalFailpointInit): WalFailpointInit {
  if (init === null || typeof init !== 'object') throw new InvalidArgumentError('failpoint must be an object with a point');
  rejectUnknownOptions('failpoint', init, ['point', 'hit', 'action']);
  if (!POINTS.includes(init.point)) throw new InvalidArgumentError(`failpoint.point must be one of ${POINTS.join(', ')}`);
  if (init.hit !== undefined) integerOption('failpoint.hit', init.hit, { min: 1 });
  if (init.action !== undefined && init.action !== 'crash' && init.action !== 'error') {
    throw new InvalidArgumentError(`failpoint.action must be 'crash' or 'error', not ${String(init.action)}`);
  }
  return init;
}

/** Counts how often each point is reached and strikes once at the configured hit. */
export class Failpoints {
  readonly #init: WalFailpointInit | undefined;
  #count = 0;

  constructor(init: WalFailpointInit | undefined) {
    this.#init = init === undefined ? undefined : checkFailpoint(init);
  }

  /** From the init option, else from the environment variable, else none. */
  static resolve(init: WalFailpointInit | undefined, env: string | undefined = process.env[FAILPOINT_ENV]): Failpoints {
    if (init !== undefined) return new Failpoints(init);
    return new Failpoints(env === undefined || env === '' ? undefined : parseFailpoint(env));
  }

  reach(point: WalFailpoint): void {
    const init = this.#init;
    if (init === undefined || init.point !== point) return;
    this.#count++;
    const hit = init.hit ?? 1;
    if (this.#count !== hit) return;
    if ((init.action ?? 'crash') === 'crash') {
      // As abrupt as a power cut: no exit handlers, no flushing of anything.
      process.kill(process.pid, 'SIGKILL');
    }
    throw new InjectedFailure(point, hit);
  }
}
