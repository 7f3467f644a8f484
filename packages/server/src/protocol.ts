/**
 * The client API's requests (docs/client-protocol.md), as one zod schema per operation. The
 * WebSocket protocol parses frames with them; the HTTP gateway builds the same request objects
 * from routes and bodies and parses them the same way, so both protocols refuse the same
 * mistakes with the same messages.
 */
import * as z from 'zod';
import { ApiError } from './errors.js';
import { describeInput, formatIssues } from './validation.js';

const encoder = new TextEncoder();

/** Keys: 1 to 512 bytes of UTF-8, without `/`. */
export const MAX_KEY_BYTES = 512;
/** Idempotency keys: at most 128 bytes. */
export const MAX_IDEMPOTENCY_KEY_BYTES = 128;
/** Client ids: at most 128 bytes. */
export const MAX_CLIENT_ID_BYTES = 128;

const key = z.string().refine((text) => {
  const bytes = encoder.encode(text).length;
  return bytes >= 1 && bytes <= MAX_KEY_BYTES && !text.includes('/');
}, { error: `expected a key of 1 to ${MAX_KEY_BYTES} bytes of UTF-8 without "/"` });
const idempotencyKey = z
  .string()
  .refine((text) => text.length > 0 && encoder.encode(text).length <= MAX_IDEMPOTENCY_KEY_BYTES, { error: `expected 1 to ${MAX_IDEMPOTENCY_KEY_BYTES} bytes` })
  .optional();
const memberId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, { error: 'expected a node id: 1 to 128 letters, digits, ".", "_" or "-"' });

/** The read consistency levels. */
export const CONSISTENCY_LEVELS = ['linearizable', 'lease', 'stale'] as const;
/** How fresh a read must be. */
export type Consistency = (typeof CONSISTENCY_LEVELS)[number];
const consistency = z.enum(CONSISTENCY_LEVELS).default('linearizable');

/** What `market.query` can ask for. */
export const MARKET_QUERIES = ['balances', 'nodes', 'contracts', 'certificates', 'weights', 'carbon', 'ledger', 'head'] as const;

/** The subscription topics. */
export const TOPICS = ['status', 'commitQuorum', 'leader', 'market'] as const;
/** A subscription topic. */
export type Topic = (typeof TOPICS)[number];

const schemas = {
  put: z.strictObject({ key, value: z.string(), idempotencyKey }),
  get: z.strictObject({ key, consistency }),
  cas: z.strictObject({ key, from: z.string().nullable(), to: z.string(), idempotencyKey }),
  delete: z.strictObject({ key, idempotencyKey }),
  'market.submit': z.strictObject({ transaction: z.unknown().refine((value) => value !== undefined, { error: 'expected a signed transaction' }), idempotencyKey }),
  'market.submitOwn': z.strictObject({ transaction: z.record(z.string(), z.unknown()), idempotencyKey }),
  // The command is checked by the running state machine's schema when the request is served (kvCommandRequest, or as a signed transaction).
  propose: z.strictObject({ command: z.looseObject({}), idempotencyKey }),
  'market.query': z.strictObject({
    what: z.enum(MARKET_QUERIES),
    consistency,
    /** ledger: the first block's height. */
    from: z.int().min(1).optional(),
    /** ledger: how many blocks. */
    limit: z.int().min(1).max(1000).optional(),
    /** contracts: one contract. */
    id: z.string().min(1).max(300).optional(),
  }),
  'cluster.status': z.strictObject({}),
  'cluster.addMember': z.strictObject({
    member: memberId,
    peerUrl: z.string().min(1).max(2048),
    clientUrl: z.string().min(1).max(2048),
    weight: z.int().min(0).default(1),
    learner: z.boolean().default(false),
  }),
  'cluster.removeMember': z.strictObject({ member: memberId }),
  'cluster.setWeights': z.strictObject({ weights: z.record(memberId, z.int().min(0)) }),
  'cluster.transferLeader': z.strictObject({ to: memberId }),
  'cluster.setScoring': z.strictObject({ name: z.string().min(1).max(128), version: z.string().min(1).max(64), params: z.unknown().optional() }),
} as const;

/** Every operation of the client API that the handler serves (the WebSocket protocol adds `hello`, `subscribe` and `unsubscribe`). */
export type ApiOp = keyof typeof schemas;
/** Every {@link ApiOp}. */
export const API_OPS = Object.keys(schemas) as ApiOp[];

/** A parsed request, by operation. */
export type ApiRequest = { [Op in ApiOp]: { op: Op } & z.output<(typeof schemas)[Op]> }[ApiOp];

/** Operations that change the replicated state (and so go through the leader). */
export const WRITE_OPS: ReadonlySet<ApiOp> = new Set<ApiOp>([
  'put',
  'cas',
  'delete',
  'propose',
  'market.submit',
  'market.submitOwn',
  'cluster.addMember',
  'cluster.removeMember',
  'cluster.setWeights',
  'cluster.transferLeader',
  'cluster.setScoring',
]);

/**
 * The cluster changes of one step (weights, leadership, scoring). One that a leader change
 * refused did nothing (its entry was refused or overwritten, never committed), so the node asked
 * may wait for the next leader and try it again, as it does reads and writes. A membership change
 * takes several steps (addresses, learner, promotion or removal), and one cut off after its first
 * step would meet its own half-done change: it is answered at once.
 */
export const ONE_STEP_CLUSTER_OPS: ReadonlySet<ApiOp> = new Set<ApiOp>(['cluster.setWeights', 'cluster.transferLeader', 'cluster.setScoring']);

/** True for a cluster operation (`cluster.*`): a change of membership, weights, leadership or scoring, or the status. */
export function isClusterOp(op: ApiOp): boolean {
  return op.startsWith('cluster.');
}

/** True for a known operation. */
export function isApiOp(op: unknown): op is ApiOp {
  return typeof op === 'string' && Object.hasOwn(schemas, op);
}

/**
 * Parses the fields of a request for `op` (everything but `id` and `op`).
 * @throws {@link ApiError} `BAD_REQUEST` naming the first field at fault.
 */
export function parseRequest(op: ApiOp, fields: unknown): ApiRequest {
  const result = schemas[op].safeParse(fields, { reportInput: true });
  if (!result.success) {
    const issue = formatIssues(result.error.issues)[0]!;
    throw new ApiError('BAD_REQUEST', `${op}: ${issue.path}: ${issue.message}`);
  }
  return { op, ...result.data } as ApiRequest;
}

/** The KV store's commands, as `propose` carries them: `put`, `cas` and `delete` with the fields of those operations. */
export const KV_COMMAND_TYPES = ['put', 'cas', 'delete'] as const;
type KvCommandType = (typeof KV_COMMAND_TYPES)[number];
/** A KV write request, as `put`, `cas` and `delete` make it. */
export type KvWriteRequest = Extract<ApiRequest, { op: KvCommandType }>;

/** Each command's schema: its operation's fields (the same schema, so the two cannot drift) and its `type`; the idempotency key travels beside the command. */
function kvCommandSchema<T extends KvCommandType>(type: T) {
  const { idempotencyKey: _key, ...shape } = schemas[type].shape;
  return z.strictObject({ type: z.literal(type), ...shape });
}
const kvCommands = { put: kvCommandSchema('put'), cas: kvCommandSchema('cas'), delete: kvCommandSchema('delete') };

/**
 * The KV write request a `propose` command stands for (`{"type":"put","key","value"}`,
 * `{"type":"cas","key","from","to"}`, `{"type":"delete","key"}`), with the idempotency key.
 * @throws {@link ApiError} `BAD_REQUEST` naming the field of the command at fault (`propose: command.key: …`).
 */
export function kvCommandRequest(command: Readonly<Record<string, unknown>>, idempotencyKey: string | undefined): KvWriteRequest {
  const type = command.type;
  if (typeof type !== 'string' || !(KV_COMMAND_TYPES as readonly string[]).includes(type)) {
    throw new ApiError('BAD_REQUEST', `propose: command.type: expected one of ${KV_COMMAND_TYPES.map((name) => JSON.stringify(name)).join(', ')}, got ${describeInput(type)}`);
  }
  const result = kvCommands[type as KvCommandType].safeParse(command, { reportInput: true });
  if (!result.success) {
    const issue = formatIssues(result.error.issues)[0]!;
    throw new ApiError('BAD_REQUEST', `propose: command${issue.path === '(root)' ? '' : `.${issue.path}`}: ${issue.message}`);
  }
  const { type: op, ...fields } = result.data;
  return { op, ...fields, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) } as KvWriteRequest;
}
