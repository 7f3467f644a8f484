import { integerOption } from '@greenraft/consensus';
import { InvalidScoreInputError } from './errors.js';

// Shared input checks: every public function validates before computing, so bad input
// throws a typed error instead of producing NaN or a silently wrong score.

/** Throws unless `value` is a finite number ≥ 0. */
export function requireNonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidScoreInputError(`${name} must be a finite number ≥ 0, got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is a finite number. */
export function requireFinite(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidScoreInputError(`${name} must be a finite number, got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is a finite number in [min, max]. */
export function requireInRange(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidScoreInputError(`${name} must be a finite number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is a safe integer in [min, max]: greenraft's one integer check, with this package's error. */
export function requireInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  try {
    return integerOption(name, value, { min, max });
  } catch (error) {
    throw new InvalidScoreInputError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** Throws unless `value` is a finite number > 0. */
export function requirePositive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidScoreInputError(`${name} must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

/** The score scale's bounds: every score this package returns lies in [0, 100]. */
export const MAX_SCORE = 100;

/** Clamps a finite number into the score scale [0, 100]. */
export function clampScore(value: number): number {
  return Math.min(MAX_SCORE, Math.max(0, value));
}
