/**
 * Scripted scenarios (etcd-io/raft's datadriven style): each file in packages/raft/testdata/*.txt
 * is a story of commands, each followed by `----` and the output it must print. Run with
 * `GREENRAFT_REWRITE=1` to regenerate the expected outputs after a deliberate change, then review the diff.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { configuration, GreenraftError, type NodeId } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import type { RaftCoreOptions } from './api.js';
import { type CoreNetwork, coreNetwork, utf8 } from './testing.js';

const testdata = new URL('../../testdata/', import.meta.url);
const rewrite = process.env.GREENRAFT_REWRITE === '1';

interface Block {
  /** Comment and blank lines before the command, kept verbatim on rewrite. */
  readonly preamble: string[];
  readonly command: string;
  readonly expected: string[];
  readonly line: number;
}

function parse(text: string): { blocks: Block[]; trailer: string[] } {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let preamble: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      continue;
    }
    if (lines[i + 1] !== '----') throw new Error(`line ${i + 2}: expected ---- after the command "${line}"`);
    const expected: string[] = [];
    let j = i + 2;
    while (j < lines.length && lines[j]!.trim() !== '') expected.push(lines[j++]!);
    blocks.push({ preamble, command: line, expected, line: i + 1 });
    preamble = [];
    i = j - 1;
  }
  return { blocks, trailer: preamble };
}

/** Runs the commands of one story against a fresh network. */
class Interpreter {
  private net: CoreNetwork | undefined;
  private electionTicks = 10;
  private heartbeatTicks = 1;
  private lastSeen = new Map<NodeId, string>();

  private get network(): CoreNetwork {
    if (this.net === undefined) throw new Error('add-nodes first');
    return this.net;
  }

  run(command: string): string[] {
    const [verb, ...args] = command.trim().split(/\s+/);
    const named = new Map(args.filter((a) => a.includes('=')).map((a) => a.split('=', 2) as [string, string]));
    const positional = args.filter((a) => !a.includes('='));
    const out: string[] = [];
    try {
      switch (verb) {
        case 'add-nodes': {
          const count = Number(positional[0]);
          const ids = Array.from({ length: count }, (_, i) => String(i + 1));
          const weights = named.get('weights')?.split(',').map(Number);
          const voters = new Map(ids.map((id, i) => [id, weights?.[i] ?? 1] as const));
          this.electionTicks = Number(named.get('election') ?? 10);
          this.heartbeatTicks = Number(named.get('heartbeat') ?? 1);
          const options: Partial<RaftCoreOptions> = {
            electionTicks: this.electionTicks,
            heartbeatTicks: this.heartbeatTicks,
            preVote: named.get('pre-vote') !== 'false',
            checkQuorum: named.get('check-quorum') !== 'false',
          };
          this.net = coreNetwork({ bootstrap: configuration(voters), options: (id) => ({ ...options, seed: Number(id) }) });
          this.snapshotStates();
          out.push('ok');
          break;
        }
        case 'campaign':
          this.network.core(positional[0]!).campaign();
          this.network.processReady(positional[0]!);
          break;
        case 'stabilize':
          this.network.stabilize();
          break;
        case 'deliver': {
          // One round: every node's Ready, then the messages queued so far (not their answers).
          for (const id of this.network.ids) this.network.processReady(id);
          const delivered = this.network.deliverQueued();
          for (const m of delivered) {
            const kind = 'preVote' in m && m.preVote ? ' (pre-vote)' : '';
            const verdict = 'granted' in m ? (m.granted ? ' granted' : ' rejected') : 'success' in m ? (m.success ? ' ok' : ' rejected') : '';
            out.push(`${m.from}->${m.to} ${m.type}${kind} term=${m.term}${verdict}`);
          }
          break;
        }
        case 'partition': {
          const groups = args.join(' ').split('|').map((group) => group.trim().split(/\s+/).filter(Boolean));
          this.network.partition(...groups);
          out.push('ok');
          break;
        }
        case 'heal':
          this.network.heal();
          out.push('ok');
          break;
        case 'propose': {
          const proposed = this.network.core(positional[0]!).propose(utf8(positional[1] ?? ''));
          this.network.processReady(positional[0]!);
          out.push(`proposed index=${proposed.index} term=${proposed.term}`);
          break;
        }
        case 'tick':
          this.network.tick(positional[0]!, Number(positional[1] ?? 1));
          break;
        case 'tick-heartbeat':
          this.network.tick(positional[0]!, this.heartbeatTicks);
          break;
        case 'tick-election': {
          const id = positional[0]!;
          const core = this.network.core(id);
          // A leader's check-quorum timer is the plain election timeout; a follower's is randomized.
          if (core.role === 'leader') this.network.tick(id, this.electionTicks);
          else this.network.tickElection(id);
          break;
        }
        case 'transfer-leadership': {
          const from = named.get('from')!;
          this.network.core(from).transferLeadership(named.get('to')!);
          this.network.processReady(from);
          out.push('ok');
          break;
        }
        case 'status':
          for (const id of this.network.ids) {
            const core = this.network.core(id);
            out.push(
              `${id}: ${core.role} term=${core.term} leader=${core.leader ?? 'none'} commit=${core.commitIndex} last=${core.lastIndex}`,
            );
          }
          return out;
        case 'applied':
          for (const id of this.network.ids) out.push(`${id}: ${this.network.record(id).applied.join(' ') || '(nothing)'}`);
          return out;
        default:
          throw new Error(`unknown command ${verb}`);
      }
    } catch (error) {
      if (!(error instanceof GreenraftError)) throw error;
      out.push(`error ${error.name}: ${error.message}`);
    }
    out.push(...this.stateChanges());
    return out.length > 0 ? out : ['ok'];
  }

  private describe(id: NodeId): string {
    const core = this.network.core(id);
    return `${core.role} term=${core.term} leader=${core.leader ?? 'none'}`;
  }

  private snapshotStates(): void {
    for (const id of this.network.ids) this.lastSeen.set(id, this.describe(id));
  }

  /** One line per node whose role, term or known leader changed since the previous command. */
  private stateChanges(): string[] {
    const lines: string[] = [];
    for (const id of this.network.ids) {
      const now = this.describe(id);
      if (this.lastSeen.get(id) !== now) lines.push(`${id}: ${this.lastSeen.get(id)} -> ${now}`);
      this.lastSeen.set(id, now);
    }
    return lines;
  }
}

const files = readdirSync(testdata).filter((name) => name.endsWith('.txt')).sort();

describe('scripted scenarios (testdata/*.txt)', () => {
  it('has scenario files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(file, () => {
      const url = new URL(file, testdata);
      const { blocks, trailer } = parse(readFileSync(url, 'utf8'));
      const interpreter = new Interpreter();
      const rewritten: string[] = [];
      for (const block of blocks) {
        const actual = interpreter.run(block.command);
        rewritten.push(...block.preamble, block.command, '----', ...actual);
        if (!rewrite) expect(actual, `${file}:${block.line}: ${block.command}`).toEqual(block.expected);
      }
      if (rewrite) writeFileSync(url, [...rewritten, ...trailer].join('\n'));
    });
  }
});
