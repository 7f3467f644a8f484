/** TLS everywhere: mutual TLS between nodes, HTTPS and WSS for clients, forwarding over WSS; certificates made with openssl at run time. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestCluster, startCluster } from './cluster.test-utils.js';

function openssl(args: string[], cwd: string): void {
  execFileSync('/usr/bin/openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

/** A CA and one certificate for 127.0.0.1 (server and client use), in `dir`. */
function certificates(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=greenraft test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  writeFileSync(join(dir, 'node.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n');
  openssl(['req', ...ec, '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=node'], dir);
  openssl(['x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', '0x1234', '-days', '2', '-out', 'node.crt', '-extfile', 'node.ext'], dir);
}

let cluster: TestCluster;
let ca = '';
beforeAll(async () => {
  cluster = await startCluster({
    prepare: certificates,
    overrides: (_id, dir) => ({
      peer: { tls: { certFile: join(dir, 'node.crt'), keyFile: join(dir, 'node.key'), caFile: join(dir, 'ca.crt'), mutual: true } },
      client: { tls: { certFile: join(dir, 'node.crt'), keyFile: join(dir, 'node.key'), caFile: join(dir, 'ca.crt') } },
    }),
  });
  ca = execFileSync('cat', [join(cluster.dir, 'ca.crt')], { encoding: 'utf8' });
  await cluster.leader();
});
afterAll(() => cluster?.close());

function https(url: string, method: string, body?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('a cluster with TLS', () => {
  it('replicates over mutual TLS, serves HTTPS, and forwards a follower\u2019s write to the leader over WSS', async () => {
    const follower = cluster.followers()[0]!;
    const url = cluster.url(follower.id);
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(follower.addresses!.peerUrl).toMatch(/^wss:\/\//);
    const put = await https(`${url}/v1/kv/secure`, 'PUT', 'sealed');
    expect(put.status).toBe(200);
    const other = cluster.followers()[1]!;
    expect((await https(`${cluster.url(other.id)}/v1/kv/secure`, 'GET')).body.value).toBe('sealed');
    // Without the CA, a client refuses the node's certificate.
    await expect(fetch(`${url}/livez`)).rejects.toThrow();
    await follower.reloadTls();
    expect((await https(`${url}/livez`, 'GET')).body).toEqual({ status: 'ok' });
  });
});
