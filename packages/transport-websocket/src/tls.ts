import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { TransportError } from '@greenraft/consensus';
import type { PemSource, TlsInit } from './options.js';

/** PEM material read from its sources, ready for `https.createServer`, `setSecureContext` and dialling. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer[] | undefined;
  readonly passphrase: string | undefined;
  readonly mutual: boolean;
}

async function readPem(source: PemSource, what: string): Promise<Buffer> {
  if (source instanceof Uint8Array) return Buffer.from(source);
  if (source.trimStart().startsWith('-----BEGIN')) return Buffer.from(source);
  try {
    return await readFile(source);
  } catch (error) {
    throw new TransportError(`could not read the TLS ${what} from ${source}`, { cause: error });
  }
}

/**
 * Reads every PEM source and checks that they make a usable secure context (the key matches the
 * certificate, every PEM parses), so a bad rotation is refused before anything switches to it.
 */
export async function loadTls(tls: TlsInit): Promise<TlsMaterial> {
  const caSources = tls.ca === undefined ? undefined : Array.isArray(tls.ca) ? tls.ca : [tls.ca as PemSource];
  const [cert, key, ca] = await Promise.all([
    readPem(tls.cert, 'certificate'),
    readPem(tls.key, 'key'),
    caSources === undefined ? Promise.resolve(undefined) : Promise.all(caSources.map((source) => readPem(source, 'CA'))),
  ]);
  const material: TlsMaterial = { cert, key, ca, passphrase: tls.passphrase, mutual: tls.mutual ?? false };
  try {
    createSecureContext(secureContextOptions(material));
  } catch (error) {
    throw new TransportError(`the TLS certificate, key or CA is not usable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return material;
}

/** The options shared by the server's secure context and the dialler's. */
export function secureContextOptions(material: TlsMaterial): { cert: Buffer; key: Buffer; ca?: Buffer[]; passphrase?: string; minVersion: 'TLSv1.2' } {
  return {
    cert: material.cert,
    key: material.key,
    ...(material.ca === undefined ? {} : { ca: material.ca }),
    ...(material.passphrase === undefined ? {} : { passphrase: material.passphrase }),
    minVersion: 'TLSv1.2',
  };
}
