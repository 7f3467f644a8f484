import { describeValue, InvalidRoundError } from './errors.js';
import type { NodeKind, RoundContract, RoundInput, RoundNode } from './settlement.js';

/** A round parsed from a round document, with each node's id as the document wrote it. */
export interface ParsedRoundDocument {
  /** The round, ready for {@link settleRound}; node ids are the document's ids as strings. */
  readonly round: RoundInput;
  /** The document's own id for each node (a number or a string), keyed by the string id. */
  readonly originalIds: ReadonlyMap<string, string | number>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(record: Record<string, unknown>, key: string, path: string): unknown {
  if (!Object.hasOwn(record, key)) throw new InvalidRoundError(`${path}.${key} is missing`);
  return record[key];
}

function numberField(record: Record<string, unknown>, key: string, path: string): number {
  const value = field(record, key, path);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidRoundError(`${path}.${key} must be a finite number, got ${describeValue(value)}`);
  return value;
}

function volumeField(record: Record<string, unknown>, key: string, path: string): number {
  const value = numberField(record, key, path);
  if (value < 0) throw new InvalidRoundError(`${path}.${key} must not be negative, got ${value}`);
  return value;
}

function idField(record: Record<string, unknown>, key: string, path: string): string | number {
  const value = field(record, key, path);
  if ((typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length > 0)) return value;
  throw new InvalidRoundError(`${path}.${key} must be a number or a non-empty string, got ${describeValue(value)}`);
}

/**
 * Reads a round in the document format of the paper's Tables 1 and 2 (the format of
 * `fixtures/paper-tables-1-2.json`): `prices` with `feedInTariff_S`, `gridPurchasePrice_B` and
 * `overGridFee_G` (yuan/kWh), an optional `creditWeightMax`, `nodes` with `id`, `kind`
 * (`"generation"` or `"consumption"`) and `creditWeightBefore`, and `contracts` with `generator`,
 * `consumer`, `unitPrice_U`, `contractedKWh`, `actualGeneratedKWh` and `actualConsumedKWh`.
 * Other fields (such as `expected`) are ignored.
 *
 * @throws {@link InvalidRoundError} naming the first missing or malformed field. Deeper checks
 *   (unknown nodes, counterparties, price range) are {@link settleRound}'s.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { parseRoundDocument, settleRound, toYuan } from '@greenraft/power-market';
 *
 * const { round } = parseRoundDocument(JSON.parse(readFileSync('paper-tables-1-2.json', 'utf8')));
 * const settlement = settleRound(round);
 * for (const node of settlement.nodes) console.log(node.id, toYuan(node.revenueOrExpense), node.creditWeightAfter);
 * ```
 */
export function parseRoundDocument(document: unknown): ParsedRoundDocument {
  if (!isRecord(document)) throw new InvalidRoundError('the round document must be a JSON object');
  const prices = field(document, 'prices', 'round');
  if (!isRecord(prices)) throw new InvalidRoundError('round.prices must be an object');
  const feedInTariff = volumeField(prices, 'feedInTariff_S', 'round.prices');
  const gridPurchasePrice = volumeField(prices, 'gridPurchasePrice_B', 'round.prices');
  const overGridFee = volumeField(prices, 'overGridFee_G', 'round.prices');
  let maxCreditWeight: number | undefined;
  if (Object.hasOwn(document, 'creditWeightMax')) maxCreditWeight = numberField(document, 'creditWeightMax', 'round');

  const nodesValue = field(document, 'nodes', 'round');
  if (!Array.isArray(nodesValue)) throw new InvalidRoundError('round.nodes must be an array');
  const originalIds = new Map<string, string | number>();
  const nodes: RoundNode[] = nodesValue.map((node: unknown, position) => {
    const path = `round.nodes[${position}]`;
    if (!isRecord(node)) throw new InvalidRoundError(`${path} must be an object`);
    const original = idField(node, 'id', path);
    const id = String(original);
    if (originalIds.has(id)) throw new InvalidRoundError(`${path}.id ${describeValue(original)} appears twice`);
    originalIds.set(id, original);
    const kind = field(node, 'kind', path);
    if (kind !== 'generation' && kind !== 'consumption') {
      throw new InvalidRoundError(`${path}.kind must be "generation" or "consumption", got ${describeValue(kind)}`);
    }
    return { id, kind: kind as NodeKind, creditWeight: volumeField(node, 'creditWeightBefore', path) };
  });

  const contractsValue = field(document, 'contracts', 'round');
  if (!Array.isArray(contractsValue)) throw new InvalidRoundError('round.contracts must be an array');
  const contracts: RoundContract[] = contractsValue.map((contract: unknown, position) => {
    const path = `round.contracts[${position}]`;
    if (!isRecord(contract)) throw new InvalidRoundError(`${path} must be an object`);
    return {
      generator: String(idField(contract, 'generator', path)),
      consumer: String(idField(contract, 'consumer', path)),
      unitPrice: volumeField(contract, 'unitPrice_U', path),
      contractedKWh: volumeField(contract, 'contractedKWh', path),
      generatedKWh: volumeField(contract, 'actualGeneratedKWh', path),
      consumedKWh: volumeField(contract, 'actualConsumedKWh', path),
    };
  });

  const round: RoundInput = {
    prices: { feedInTariff, gridPurchasePrice, overGridFee },
    nodes,
    contracts,
    ...(maxCreditWeight === undefined ? {} : { maxCreditWeight }),
  };
  return { round, originalIds };
}
