/**
 * The state machine a server replicates: the application state (a KV store or the power
 * market), the client sessions that make writes exactly-once, the directory of members added at
 * run time, and the scoring strategy in force. Applying is total: an entry that cannot be
 * applied is refused the same way on every replica, and nothing half-changes.
 */
import type { ApplyInput, StateMachine } from '@greenraft/consensus';
import { GreenraftError } from '@greenraft/consensus';
import {
  type ApplyResult,
  type PowerMarket,
  type PowerMarketInit,
  type RoundSummary,
  type TransactionReceipt,
  powerMarket,
} from '@greenraft/power-market';
import { EventEmitter } from 'eventemitter3';
import { type DecodedEntry, type EntryHeader, type EntryOp, decodeEntry, entryFingerprint } from './entry.js';
import { KvStore } from './kv.js';
import { type EntryOutcome, SESSION_LIMITS, type SessionLimits, type SessionSnapshotRecord, SessionTable } from './sessions.js';

/** A member's addresses. */
export interface MemberAddresses {
  readonly peerUrl: string;
  readonly clientUrl: string;
}

/** The scoring strategy in force in a market cluster: replicated, changed only by a log entry. */
export interface ScoringSelection {
  readonly name: string;
  readonly version: string;
  /** The strategy's parameters, as its module reads them. */
  readonly params?: unknown;
}

/** The strategy a market cluster starts with: the paper's, with its §5.2 leader-election parameters. */
export const DEFAULT_SCORING: ScoringSelection = Object.freeze({ name: 'paper', version: '1' });

/** What applying one entry gave, as the proposer's `propose()` resolves with it. */
export interface AppliedEntry {
  /** The index the outcome was first applied at (an earlier one for a retried idempotency key). */
  readonly index: number;
  /** True when the entry repeated an idempotency key already applied: nothing changed, `outcome` is the first one. */
  readonly duplicate: boolean;
  readonly op: EntryOp | 'invalid';
  readonly outcome: EntryOutcome;
}

/** Thrown by `restore` for bytes that are not a server snapshot of this kind. */
export class ServerSnapshotError extends GreenraftError<'INVALID_SNAPSHOT'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('INVALID_SNAPSHOT', message, options);
    this.name = 'ServerSnapshotError';
  }
}

/** Events of the state machine, emitted while an entry is applied (listeners must not throw). */
export interface ServerStateEvents {
  applied: (entry: AppliedEntry & { readonly appliedAt: number; readonly term: number }) => void;
  membersChange: () => void;
  scoringChange: (selection: ScoringSelection) => void;
  round: (summary: RoundSummary) => void;
  restored: () => void;
}

/** Options of {@link ServerStateMachine}. */
export interface ServerStateMachineInit {
  readonly kind: 'kv' | 'market';
  /** The market's genesis options (the same on every replica), without `onRound`. */
  readonly market?: Omit<PowerMarketInit, 'onRound'>;
  readonly sessionLimits?: SessionLimits;
}

const SNAPSHOT_FORMAT = 'greenraft-server-state';
const SNAPSHOT_VERSION = 1;
const RECENT_OPS = 8192;
const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

function refused(code: 'REJECTED' | 'CONFLICT' | 'BAD_REQUEST', message: string, reason?: string): EntryOutcome {
  return reason === undefined ? { ok: false, code, message } : { ok: false, code, message, reason };
}

function mapToObject(map: ReadonlyMap<string, number> | undefined): Record<string, number> | null {
  return map === undefined ? null : Object.fromEntries(map);
}

/**
 * A receipt as JSON. A settled round carries its number, scores and vote weights, and its
 * settlement (eq. 26–34): every contract's money, penalties and allocation with the volumes
 * contracted and metered (read from `market`, the same on every replica), and every node's outcome.
 */
export function receiptJSON(receipt: TransactionReceipt, market?: PowerMarket): Record<string, unknown> {
  const { round, ...rest } = receipt;
  if (round === undefined) return { ...rest };
  const { settlement } = round;
  const contracts = settlement.contracts.map((contract) => {
    const held = market?.contract(contract.id);
    return { ...contract, contractedKWh: held?.contractedKWh ?? null, generatedKWh: held?.generatedKWh ?? null, consumedKWh: held?.consumedKWh ?? null };
  });
  return {
    ...rest,
    round: {
      round: round.round,
      scores: mapToObject(round.scores),
      voteWeights: mapToObject(round.voteWeights),
      settlement: { totalContractedKWh: settlement.totalContractedKWh, gridBalanceChange: settlement.gridBalanceChange, contracts, nodes: settlement.nodes.map((node) => ({ ...node })) },
    },
  };
}

function marketOutcome(result: ApplyResult, single: boolean, market: PowerMarket): EntryOutcome {
  const outcomes = result.outcomes.map((outcome) =>
    outcome.accepted ? { accepted: true, receipt: receiptJSON(outcome.receipt, market) } : { accepted: false, error: { code: outcome.error.code, message: outcome.error.message } },
  );
  if (single && result.outcomes.length === 1) {
    const only = result.outcomes[0]!;
    if (!only.accepted) return refused('REJECTED', only.error.message, only.error.code);
    return { ok: true, value: { block: result.block ?? null, receipt: receiptJSON(only.receipt, market) } };
  }
  return { ok: true, value: { block: result.block ?? null, outcomes } };
}

/** The replicated state of one server. */
export class ServerStateMachine extends EventEmitter<ServerStateEvents> implements StateMachine<AppliedEntry> {
  readonly kind: 'kv' | 'market';
  readonly kv: KvStore;
  readonly market: PowerMarket | undefined;
  readonly sessions: SessionTable;
  /** Members added at run time (they overlay the configuration's peers). */
  readonly members = new Map<string, MemberAddresses>();
  /** Members removed at run time. */
  readonly removed = new Set<string>();
  /** Contracts by id, in the order they were proposed (the market keeps no list of them). */
  readonly contractIds: string[] = [];
  #scoring: ScoringSelection = DEFAULT_SCORING;
  #appliedIndex = 0;
  readonly #recentOps = new Map<number, EntryOp | 'invalid'>();

  constructor(init: ServerStateMachineInit) {
    super();
    this.kind = init.kind;
    this.kv = new KvStore();
    this.sessions = new SessionTable(init.sessionLimits ?? SESSION_LIMITS);
    this.market =
      init.kind === 'market'
        ? powerMarket({
            ...init.market,
            onRound: (summary) => this.#emit('round', summary),
          })
        : undefined;
  }

  /** The last index applied. */
  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  /** The scoring strategy in force. */
  get scoring(): ScoringSelection {
    return this.#scoring;
  }

  /** The operation of a recently applied entry (the last few thousand), or `undefined`. */
  opAt(index: number): EntryOp | 'invalid' | undefined {
    return this.#recentOps.get(index);
  }

  apply({ index, term, data }: ApplyInput): AppliedEntry {
    this.#appliedIndex = index;
    this.sessions.expire(index);
    const decoded = decodeEntry(data);
    let applied: AppliedEntry;
    if (typeof decoded === 'string') {
      applied = { index, duplicate: false, op: 'invalid', outcome: refused('BAD_REQUEST', decoded) };
    } else {
      applied = this.#applyDecoded(decoded, index, term);
    }
    this.#recentOps.set(index, applied.op);
    if (this.#recentOps.size > RECENT_OPS) this.#recentOps.delete(this.#recentOps.keys().next().value as number);
    this.#emit('applied', { ...applied, appliedAt: index, term });
    return applied;
  }

  #applyDecoded(entry: DecodedEntry, index: number, term: number): AppliedEntry {
    const header = entry.header;
    const session = 'c' in header && 'k' in header && header.c !== undefined && header.k !== undefined ? { client: header.c, key: header.k } : undefined;
    let fingerprint = '';
    if (session !== undefined) {
      fingerprint = entryFingerprint(entry);
      const known = this.sessions.lookup(session.client, session.key);
      if (known !== undefined) {
        if (known.fingerprint === fingerprint) return { index: known.index, duplicate: true, op: header.op, outcome: known.outcome };
        return {
          index,
          duplicate: false,
          op: header.op,
          outcome: refused('CONFLICT', `idempotency key ${JSON.stringify(session.key)} was used by client ${JSON.stringify(session.client)} for another request`),
        };
      }
    }
    let outcome: EntryOutcome;
    try {
      outcome = this.#execute(header, entry.payload, index, term);
    } catch (error) {
      // Only a bug gets here; every replica runs the same code on the same entry, so all refuse alike.
      outcome = refused('REJECTED', `the entry could not be applied: ${(error as Error).message}`);
    }
    if (session !== undefined) this.sessions.record(session.client, session.key, { index, fingerprint, outcome });
    return { index, duplicate: false, op: header.op, outcome };
  }

  #execute(header: EntryHeader, payload: Uint8Array, index: number, term: number): EntryOutcome {
    switch (header.op) {
      case 'kv.put':
      case 'kv.cas':
      case 'kv.delete': {
        if (this.kind !== 'kv') return refused('BAD_REQUEST', 'this cluster runs the market state machine, not the KV store');
        if (header.op === 'kv.delete') return { ok: true, value: { deleted: this.kv.delete(header.key) } };
        let value: string;
        try {
          value = decoder.decode(payload);
        } catch {
          return refused('BAD_REQUEST', 'the value is not UTF-8');
        }
        if (header.op === 'kv.put') {
          this.kv.put(header.key, value, index);
          return { ok: true, value: {} };
        }
        return { ok: true, value: { swapped: this.kv.compareAndSwap(header.key, header.from, value, index) } };
      }
      case 'market':
      case 'market.participation': {
        if (this.market === undefined) return refused('BAD_REQUEST', 'this cluster runs the KV store, not the market');
        const result = this.market.apply({ index, term, data: payload });
        for (const outcome of result.outcomes) {
          if (outcome.accepted && outcome.receipt.contractId !== undefined) this.contractIds.push(outcome.receipt.contractId);
        }
        return marketOutcome(result, header.op === 'market', this.market);
      }
      case 'member.put':
        this.members.set(header.id, { peerUrl: header.peerUrl, clientUrl: header.clientUrl });
        this.removed.delete(header.id);
        this.#emit('membersChange');
        return { ok: true, value: {} };
      case 'member.remove':
        this.members.delete(header.id);
        this.removed.add(header.id);
        this.#emit('membersChange');
        return { ok: true, value: {} };
      case 'scoring.set':
        if (this.kind !== 'market') return refused('BAD_REQUEST', 'scoring strategies apply to market clusters only');
        this.#scoring = Object.freeze({ name: header.name, version: header.version, ...(header.params === undefined ? {} : { params: header.params }) });
        this.#emit('scoringChange', this.#scoring);
        return { ok: true, value: { scoring: this.#scoring } };
    }
  }

  #emit<E extends keyof ServerStateEvents>(event: E, ...args: Parameters<ServerStateEvents[E]>): void {
    try {
      (this.emit as (event: E, ...rest: Parameters<ServerStateEvents[E]>) => boolean)(event, ...args);
    } catch {
      // A listener's failure is the server's problem, never the replicated state's.
    }
  }

  snapshot(): Uint8Array {
    const records: Uint8Array[] = [];
    const kvEntries = this.kind === 'kv' ? [...this.kv.entries()] : [];
    const sessions = this.sessions.snapshot();
    records.push(
      encoder.encode(
        JSON.stringify({
          format: SNAPSHOT_FORMAT,
          version: SNAPSHOT_VERSION,
          kind: this.kind,
          appliedIndex: this.#appliedIndex,
          members: [...this.members],
          removed: [...this.removed],
          scoring: this.#scoring,
          contractIds: this.contractIds,
          values: kvEntries.length,
          sessions: sessions.length,
        }),
      ),
    );
    for (const [key, { value, index }] of kvEntries) records.push(encoder.encode(JSON.stringify([key, value, index])));
    if (this.market !== undefined) records.push(this.market.snapshot());
    for (const record of sessions) records.push(encoder.encode(JSON.stringify(record)));
    let total = 0;
    for (const record of records) total += 4 + record.length;
    const bytes = new Uint8Array(total);
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (const record of records) {
      view.setUint32(offset, record.length);
      bytes.set(record, offset + 4);
      offset += 4 + record.length;
    }
    return bytes;
  }

  restore(data: Uint8Array): void {
    const records = splitRecords(data);
    const header = parseJSON(records[0], 'header') as Record<string, unknown> | undefined;
    if (header === undefined || typeof header !== 'object' || header === null || header.format !== SNAPSHOT_FORMAT || header.version !== SNAPSHOT_VERSION) {
      throw new ServerSnapshotError('not a greenraft server snapshot of a known version');
    }
    if (header.kind !== this.kind) throw new ServerSnapshotError(`the snapshot is of a ${String(header.kind)} server, this one runs ${this.kind}`);
    const { appliedIndex, members, removed, scoring, contractIds, values, sessions } = header;
    if (!Number.isSafeInteger(appliedIndex) || !Number.isSafeInteger(values) || !Number.isSafeInteger(sessions)) throw new ServerSnapshotError('malformed snapshot header');
    if (!Array.isArray(members) || !Array.isArray(removed) || !Array.isArray(contractIds) || typeof scoring !== 'object' || scoring === null) {
      throw new ServerSnapshotError('malformed snapshot header');
    }
    const marketRecords = this.market === undefined ? 0 : 1;
    if (records.length !== 1 + (values as number) + marketRecords + (sessions as number)) throw new ServerSnapshotError('the snapshot has the wrong number of records');
    const kvValues: [string, string, number][] = [];
    for (let i = 0; i < (values as number); i++) {
      const value = parseJSON(records[1 + i], 'value');
      if (!Array.isArray(value) || value.length !== 3 || typeof value[0] !== 'string' || typeof value[1] !== 'string' || !Number.isSafeInteger(value[2])) {
        throw new ServerSnapshotError(`malformed value record ${i}`);
      }
      kvValues.push(value as [string, string, number]);
    }
    const sessionRecords: SessionSnapshotRecord[] = [];
    const sessionStart = 1 + (values as number) + marketRecords;
    for (let i = 0; i < (sessions as number); i++) {
      const record = parseJSON(records[sessionStart + i], 'session');
      if (!Array.isArray(record) || record.length !== 5 || typeof record[0] !== 'string' || typeof record[1] !== 'string' || !Number.isSafeInteger(record[2])) {
        throw new ServerSnapshotError(`malformed session record ${i}`);
      }
      sessionRecords.push(record as unknown as SessionSnapshotRecord);
    }
    const memberList = members as unknown[];
    for (const member of memberList) {
      if (!Array.isArray(member) || typeof member[0] !== 'string' || typeof member[1]?.peerUrl !== 'string' || typeof member[1]?.clientUrl !== 'string') {
        throw new ServerSnapshotError('malformed member record');
      }
    }
    const selection = scoring as Record<string, unknown>;
    if (typeof selection.name !== 'string' || typeof selection.version !== 'string') throw new ServerSnapshotError('malformed scoring selection');
    // Everything checked: now replace the state (the market checks its own part first, and throws before changing anything).
    if (this.market !== undefined) {
      try {
        this.market.restore(records[1 + (values as number)]!);
      } catch (cause) {
        throw new ServerSnapshotError(`the market's snapshot is invalid: ${(cause as Error).message}`, { cause });
      }
    }
    this.kv.clear();
    for (const [key, value, index] of kvValues) this.kv.put(key, value, index);
    this.sessions.restore(sessionRecords);
    this.members.clear();
    for (const [id, addresses] of memberList as [string, MemberAddresses][]) this.members.set(id, { peerUrl: addresses.peerUrl, clientUrl: addresses.clientUrl });
    this.removed.clear();
    for (const id of removed as unknown[]) if (typeof id === 'string') this.removed.add(id);
    this.contractIds.length = 0;
    for (const id of contractIds as unknown[]) if (typeof id === 'string') this.contractIds.push(id);
    this.#scoring = Object.freeze({ name: selection.name, version: selection.version, ...(selection.params === undefined ? {} : { params: selection.params }) });
    this.#appliedIndex = appliedIndex as number;
    this.#recentOps.clear();
    this.#emit('restored');
    this.#emit('membersChange');
    this.#emit('scoringChange', this.#scoring);
  }
}

function splitRecords(data: Uint8Array): Uint8Array[] {
  const records: Uint8Array[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  while (offset < data.length) {
    if (offset + 4 > data.length) throw new ServerSnapshotError('the snapshot is truncated');
    const length = view.getUint32(offset);
    if (offset + 4 + length > data.length) throw new ServerSnapshotError('the snapshot is truncated');
    records.push(data.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  if (records.length === 0) throw new ServerSnapshotError('the snapshot is empty');
  return records;
}

function parseJSON(bytes: Uint8Array | undefined, what: string): unknown {
  if (bytes === undefined) throw new ServerSnapshotError(`the snapshot lacks its ${what}`);
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new ServerSnapshotError(`the snapshot's ${what} is not JSON`, { cause });
  }
}
