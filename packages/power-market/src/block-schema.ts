/** The shape of a ledger block's header and hashes, shared by every reader of blocks (not exported from the package). */
import * as z from 'zod';

/** A SHA-256 hash as the ledger writes it. */
export const HEX64 = /^[0-9a-f]{64}$/;

export const hex64 = z.string().regex(HEX64, 'expected 64 lowercase hex digits');

/** A block header: exactly these five fields. Heights and log indexes start at 1. */
export const blockHeaderSchema = z.strictObject({
  height: z.int().min(1),
  term: z.int().min(0),
  index: z.int().min(1),
  previousHash: hex64,
  merkleRoot: hex64,
});
