/**
 * The bounds of every quantity the market accepts.
 *
 * They are chosen so that every amount of money stays an exact integer number of milli-yuan
 * (below 2^53), whatever the accepted input. One round moves at most about
 * `maxPrice · maxRoundKWh · (2 · maxCreditWeight + 6)` yuan: V_f and V_y are each at most
 * `maxPrice` per kWh, and each penalty (eq. 32–33) is at most `maxPrice · C_e · (1 + W_a^max)`.
 * With the values below that is 2.06 · 10^12 yuan, or 2.06 · 10^15 milli-yuan, which is under
 * 2^53 ≈ 9.007 · 10^15. Every balance and the grid's account stay within ±(2^53 − 1) milli-yuan:
 * a transaction that would take one further is refused with `LimitExceededError`.
 *
 * Input above a bound is refused with a typed error (`InvalidQuantityError` for a quantity,
 * `InvalidTransactionError` for a size, `LimitExceededError` for an account or table that is full)
 * and changes nothing.
 *
 * @example
 * ```ts
 * import { MARKET_LIMITS } from '@greenraft/power-market';
 *
 * MARKET_LIMITS.maxContractKWh; // 1e9: one contract is at most 1 TWh
 * MARKET_LIMITS.maxBalance; // 9007199254740991 milli-yuan, about 9 · 10^12 yuan
 * ```
 */
export const MARKET_LIMITS = Object.freeze({
  /** The longest node id, in UTF-16 code units. Ids hold no whitespace or control characters. */
  maxIdLength: 128,
  /** The highest price, yuan/kWh: S, B and G of the market, and every unit price U. */
  maxPrice: 10,
  /** The highest W_a^max (eq. 15); credit weights lie in [0, W_a^max]. */
  maxCreditWeight: 100,
  /** The largest contracted volume C_e of one contract, kWh (1 TWh). */
  maxContractKWh: 1e9,
  /** The largest metered volume E_a of one delivery report, kWh. */
  maxMeteredKWh: 1e9,
  /** The largest total of one round, kWh: each of Σ C_e, Σ E_a,f and Σ E_a,y over its contracts. */
  maxRoundKWh: 1e9,
  /** The most contracts one round settles. */
  maxRoundContracts: 256,
  /** The most nodes a market registers. */
  maxNodes: 10_000,
  /** The highest handling fee of one contract, yuan, paid by each party. */
  maxHandlingFee: 1e9,
  /** The most green certificates one offer sells. */
  maxCertificateCount: 1e6,
  /** The highest price of one green certificate, yuan. */
  maxCertificatePrice: 1e6,
  /** The largest amount of one field (quota, purchased, emitted) of one `recordCarbon`, tonnes of CO2. */
  maxCarbonTonnes: 1e9,
  /** The largest total of one field of a node's carbon account over a cycle, tonnes of CO2. */
  maxCarbonAccountTonnes: 1e12,
  /** The most renewable generation a node accumulates, kWh (eq. 6's running total). */
  maxLifetimeKWh: 1e15,
  /** The most acknowledgements one `recordParticipation` lists. */
  maxAcknowledgements: 1024,
  /** The most signed transactions one log entry holds. */
  maxEntryTransactions: 1024,
  /** The largest log entry the market decodes, bytes. */
  maxEntryBytes: 4 * 1024 * 1024,
  /** The deepest nesting of arrays and objects in any canonical JSON the market decodes. */
  maxDepth: 16,
  /** The latest delivery time, ms since the Unix epoch (the largest valid `Date`). */
  maxTime: 8_640_000_000_000_000,
  /** The largest magnitude of a balance, and of the grid's account, milli-yuan: 2^53 − 1. */
  maxBalance: Number.MAX_SAFE_INTEGER,
});
