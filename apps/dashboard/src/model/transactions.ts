/** Market transactions in words, for the ledger view (both sources read the same transaction shapes). */
import type { TransactionView } from './events.js';

/** The fields of a market transaction the summaries read; the rest is ignored. */
export interface TransactionFields {
  readonly type: string;
  readonly signer: string;
  readonly nonce: number;
}

const kWh = (value: unknown) => `${Number(value).toLocaleString('en-GB', { maximumFractionDigits: 1 })} kWh`;

/** One line that says what `tx` does: `solar offers mill 120 kWh at 0.55 ¥/kWh (contract solar/7)`. */
export function describeTransaction(tx: TransactionFields): string {
  const f = tx as unknown as Record<string, unknown>;
  switch (tx.type) {
    case 'registerNode':
      return `${tx.signer} registers as a ${f.renewable ? 'renewable ' : ''}${String(f.kind)} node`;
    case 'proposeContract':
      return `${tx.signer} offers ${String(f.counterparty)} ${kWh(f.contractedKWh)} at ${String(f.unitPrice)} ¥/kWh (contract ${tx.signer}/${tx.nonce})`;
    case 'acceptContract':
      return `${tx.signer} accepts contract ${String(f.contractId)}`;
    case 'reportDelivery':
      return `${tx.signer} meters ${kWh(f.meteredKWh)} on ${String(f.contractId)}`;
    case 'settleRound':
      return `${tx.signer} settles ${Array.isArray(f.contractIds) ? f.contractIds.length : 0} contract(s)`;
    case 'offerCertificates':
      return `${tx.signer} offers ${String(f.count)} green certificate(s) to ${String(f.buyer)} at ${String(f.unitPrice)} ¥`;
    case 'acceptCertificates':
      return `${tx.signer} takes certificate offer ${String(f.offerId)}`;
    case 'recordCarbon':
      return `${tx.signer} records carbon: quota ${String(f.quota)} t, bought ${String(f.purchased)} t, emitted ${String(f.emitted)} t`;
    case 'reportLineFault':
      return `${tx.signer} reports a line fault on ${String(f.contractId)}`;
    case 'recordParticipation':
      return `${tx.signer} records a commit quorum: ${Array.isArray(f.acknowledgements) ? f.acknowledgements.join(', ') : ''}`;
    default:
      return `${tx.signer}: ${tx.type}`;
  }
}

/** The view of a transaction. */
export function transactionView(tx: TransactionFields): TransactionView {
  return { type: tx.type, signer: tx.signer, nonce: tx.nonce, summary: describeTransaction(tx) };
}
