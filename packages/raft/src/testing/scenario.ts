import { type ClusterConfig, type Configuration, configuration, GreenraftError, type NodeId } from '@greenraft/consensus';
import { type CoreNetwork, coreNetwork, type TestCoreOptions, utf8 } from './core-network.js';
import { unsafeLocalWeightsOptions } from './engine-bugs.js';

/** The arguments of one story command: `verb a b key=value`. */
export interface ScenarioArguments {
  /** Arguments without `=`, in order. */
  readonly positional: readonly string[];
  /** `key=value` arguments. */
  readonly named: ReadonlyMap<string, string>;
}

/**
 * A command a story may use besides the built-in ones: it gets its arguments and the story's
 * network and returns the lines it prints (none: the runner prints only role changes, or `ok`).
 */
export type ScenarioCommand = (args: ScenarioArguments, network: CoreNetwork) => readonly string[] | undefined;

/** Options of {@link runScenario}. */
export interface ScenarioInit {
  /**
   * Extra core options of each node `add-nodes` creates, merged over the story's own (`election=`,
   * `heartbeat=`, `pre-vote=`, `check-quorum=`, seed = the node's number): e.g. an election-timeout policy.
   * @default no extra options
   */
  options?: (id: NodeId) => Partial<TestCoreOptions>;
  /**
   * Commands of the caller's own, by verb. A built-in verb cannot be replaced.
   * @default none
   */
  commands?: Readonly<Record<string, ScenarioCommand>>;
}

/** One command of a story, what the story expects it to print and what it printed. */
export interface ScenarioBlock {
  /** The command's line number in the story (1-based). */
  readonly line: number;
  readonly command: string;
  readonly expected: readonly string[];
  readonly actual: readonly string[];
}

/** What a story did. */
export interface ScenarioResult {
  /** Every command, in order. */
  readonly blocks: readonly ScenarioBlock[];
  /** The blocks whose output differs from the story's. */
  readonly mismatches: readonly ScenarioBlock[];
  /** The story with every expected output replaced by the actual one (to review and commit after a deliberate change). */
  readonly rewritten: string;
}

interface ParsedBlock {
  readonly preamble: string[];
  readonly command: string;
  readonly expected: string[];
  readonly line: number;
}

function parse(story: string): { blocks: ParsedBlock[]; trailer: string[] } {
  const lines = story.split('\n');
  const blocks: ParsedBlock[] = [];
  let preamble: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      continue;
    }
    if (lines[i + 1] !== '----') throw new SyntaxError(`line ${i + 2}: expected ---- after the command "${line}"`);
    const expected: string[] = [];
    let j = i + 2;
    while (j < lines.length && lines[j]!.trim() !== '') expected.push(lines[j++]!);
    blocks.push({ preamble, command: line, expected, line: i + 1 });
    preamble = [];
    i = j - 1;
  }
  return { blocks, trailer: preamble };
}

/** `1=3,2=1,3=1` (voter=weight) and `4,5` (learners) as a configuration. */
function target(voters: string, learners: string | undefined): Configuration {
  const weights = new Map(
    voters
      .split(',')
      .filter(Boolean)
      .map((pair) => {
        const [id, weight] = pair.split('=') as [string, string | undefined];
        return [id, Number(weight ?? 1)] as const;
      }),
  );
  return configuration(weights, learners?.split(',').filter(Boolean) ?? []);
}

function formatHalf(config: Configuration): string {
  const voters = [...config.voters].map(([id, weight]) => `${id}=${weight}`).join(',');
  return config.learners.size > 0 ? `${voters} learners=${[...config.learners].join(',')}` : voters;
}

/** `1=3,2=1,3=1`, or `joint 1=1,2=3,3=1 | 1=3,2=1,3=1` (incoming | outgoing) during a joint change. */
function formatConfig(config: ClusterConfig): string {
  return config.outgoing === undefined ? formatHalf(config.incoming) : `joint ${formatHalf(config.incoming)} | ${formatHalf(config.outgoing)}`;
}

/** Runs the commands of one story against a fresh network. */
class Interpreter {
  private net: CoreNetwork | undefined;
  private electionTicks = 10;
  private heartbeatTicks = 1;
  private readonly lastSeen = new Map<NodeId, string>();
  /** `set-local-weights`: the weights each node counts quorums with instead of its log's (UNSAFE). */
  private readonly localWeights = new Map<NodeId, ReadonlyMap<NodeId, number>>();

  constructor(private readonly init: ScenarioInit) {}

  private get network(): CoreNetwork {
    if (this.net === undefined) throw new SyntaxError('add-nodes first');
    return this.net;
  }

  run(command: string): string[] {
    const [verb = '', ...args] = command.trim().split(/\s+/);
    const named = new Map(args.filter((a) => a.includes('=')).map((a) => a.split('=', 2) as [string, string]));
    const positional = args.filter((a) => !a.includes('='));
    const out: string[] = [];
    try {
      if (!this.builtIn(verb, args, positional, named, out)) {
        const custom = this.init.commands?.[verb];
        if (custom === undefined) throw new SyntaxError(`unknown command ${verb}`);
        out.push(...(custom({ positional, named }, this.network) ?? []));
      }
    } catch (error) {
      if (!(error instanceof GreenraftError)) throw error;
      out.push(`error ${error.name}: ${error.message}`);
    }
    if (verb === 'status' || verb === 'applied' || verb === 'config') return out;
    out.push(...this.stateChanges());
    return out.length > 0 ? out : ['ok'];
  }

  /** Runs a built-in command; false when `verb` is none. */
  private builtIn(verb: string, args: readonly string[], positional: readonly string[], named: ReadonlyMap<string, string>, out: string[]): boolean {
    switch (verb) {
      case 'add-nodes': {
        const count = Number(positional[0]);
        const ids = Array.from({ length: count }, (_, i) => String(i + 1));
        const weights = named.get('weights')?.split(',').map(Number);
        const voters = new Map(ids.map((id, i) => [id, weights?.[i] ?? 1] as const));
        this.electionTicks = Number(named.get('election') ?? 10);
        this.heartbeatTicks = Number(named.get('heartbeat') ?? 1);
        const options: Partial<TestCoreOptions> = {
          electionTicks: this.electionTicks,
          heartbeatTicks: this.heartbeatTicks,
          preVote: named.get('pre-vote') !== 'false',
          checkQuorum: named.get('check-quorum') !== 'false',
        };
        const extra = this.init.options;
        this.localWeights.clear();
        this.net = coreNetwork({
          bootstrap: configuration(voters),
          options: (id) => ({
            ...options,
            seed: Number(id),
            ...unsafeLocalWeightsOptions(() => this.localWeights.get(id)),
            ...(extra === undefined ? {} : extra(id)),
          }),
        });
        this.snapshotStates();
        out.push('ok');
        return true;
      }
      case 'campaign':
        this.network.core(positional[0]!).campaign();
        this.network.processReady(positional[0]!);
        return true;
      case 'stabilize':
        this.network.stabilize();
        return true;
      case 'deliver': {
        // One round: every node's Ready, then the messages queued so far (not their answers).
        for (const id of this.network.ids) this.network.processReady(id);
        const delivered = this.network.deliverQueued();
        for (const m of delivered) {
          const kind = 'preVote' in m && m.preVote ? ' (pre-vote)' : '';
          const verdict = 'granted' in m ? (m.granted ? ' granted' : ' rejected') : 'success' in m ? (m.success ? ' ok' : ' rejected') : '';
          out.push(`${m.from}->${m.to} ${m.type}${kind} term=${m.term}${verdict}`);
        }
        return true;
      }
      case 'partition': {
        const groups = args.join(' ').split('|').map((group) => group.trim().split(/\s+/).filter(Boolean));
        this.network.partition(...groups);
        out.push('ok');
        return true;
      }
      case 'cut': {
        // `cut 1->2` drops what 1 sends to 2; `cut 1<->2` both ways; until `heal`.
        for (const link of positional) {
          const both = link.includes('<->');
          const [from, to] = link.split(both ? '<->' : '->') as [string, string];
          this.network.drop((m) => (m.from === from && m.to === to) || (both && m.from === to && m.to === from));
        }
        out.push('ok');
        return true;
      }
      case 'heal':
        this.network.heal();
        out.push('ok');
        return true;
      case 'propose-config': {
        // `propose-config 1 1=3,2=1,3=1 [learners=4,5]`: the change to that target, by joint consensus.
        const proposed = this.network.core(args[0]!).proposeConfigChange(target(args[1] ?? '', named.get('learners')));
        this.network.processReady(args[0]!);
        out.push(`proposed index=${proposed.index} term=${proposed.term}`);
        return true;
      }
      case 'set-local-weights':
        // UNSAFE on purpose: the naive way of changing weights, from local state instead of the log.
        this.localWeights.set(args[0]!, target(args[1] ?? '', undefined).voters);
        out.push('ok');
        return true;
      case 'config':
        for (const id of positional.length > 0 ? positional : this.network.ids) out.push(`${id}: ${formatConfig(this.network.core(id).config)}`);
        return true;
      case 'propose': {
        const proposed = this.network.core(positional[0]!).propose(utf8(positional[1] ?? ''));
        this.network.processReady(positional[0]!);
        out.push(`proposed index=${proposed.index} term=${proposed.term}`);
        return true;
      }
      case 'tick':
        this.network.tick(positional[0]!, Number(positional[1] ?? 1));
        return true;
      case 'tick-heartbeat':
        this.network.tick(positional[0]!, this.heartbeatTicks);
        return true;
      case 'tick-election': {
        const id = positional[0]!;
        const core = this.network.core(id);
        // A leader's check-quorum timer is the plain election timeout; a follower's is randomized.
        if (core.role === 'leader') this.network.tick(id, this.electionTicks);
        else this.network.tickElection(id);
        return true;
      }
      case 'transfer-leadership': {
        const from = named.get('from')!;
        this.network.core(from).transferLeadership(named.get('to')!);
        this.network.processReady(from);
        out.push('ok');
        return true;
      }
      case 'status':
        for (const id of this.network.ids) {
          const core = this.network.core(id);
          out.push(`${id}: ${core.role} term=${core.term} leader=${core.leader ?? 'none'} commit=${core.commitIndex} last=${core.lastIndex}`);
        }
        return true;
      case 'applied':
        for (const id of this.network.ids) out.push(`${id}: ${this.network.record(id).applied.join(' ') || '(nothing)'}`);
        return true;
      default:
        return false;
    }
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
    if (this.net === undefined) return [];
    const lines: string[] = [];
    for (const id of this.network.ids) {
      const now = this.describe(id);
      if (this.lastSeen.get(id) !== now) lines.push(`${id}: ${this.lastSeen.get(id) ?? '(new)'} -> ${now}`);
      this.lastSeen.set(id, now);
    }
    return lines;
  }
}

/**
 * Runs a scripted scenario (etcd-io/raft's datadriven `testdata/*.txt`): a story of commands, each
 * followed by `----` and the lines it must print, against a synchronous {@link coreNetwork} of
 * nodes `1`..`n`. Lines starting with `#` are comments. Commands:
 *
 * - `add-nodes N [weights=w1,w2,...] [election=10] [heartbeat=1] [pre-vote=true] [check-quorum=true]`
 * - `campaign ID`, `propose ID TEXT`, `transfer-leadership from=ID to=ID`
 * - `tick ID [N]`, `tick-heartbeat ID`, `tick-election ID` (until its election timer fires)
 * - `deliver` (one round of messages, printed), `stabilize` (until no node has work)
 * - `partition A B | C`, `cut A->B` (one way), `cut A<->B` (both ways), `heal` (removes both)
 * - `propose-config ID 1=3,2=1,3=1 [learners=4,5]` (a change by joint consensus, on the leader ID)
 * - `set-local-weights ID 1=1,2=3,3=1`: UNSAFE, ID counts every quorum with these weights instead of
 *   its log's, the naive weight change that loses committed entries
 * - `status` (role, term, leader, commit and last index of every node), `applied` (what each node
 *   applied), `config [ID...]` (the configuration in effect, `joint new | old` while joint)
 *
 * After each command the runner prints every node whose role, term or known leader changed. A
 * `GreenraftError` a command throws is printed as `error Name: message`; anything else propagates.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { runScenario } from '@greenraft/raft/testing';
 * import { expect, it } from 'vitest';
 *
 * it('rank timeouts', () => {
 *   const { blocks } = runScenario(readFileSync(new URL('../testdata/rank.txt', import.meta.url), 'utf8'));
 *   for (const block of blocks) expect(block.actual, `line ${block.line}: ${block.command}`).toEqual(block.expected);
 * });
 * ```
 */
export function runScenario(story: string, init: ScenarioInit = {}): ScenarioResult {
  const { blocks, trailer } = parse(story);
  const interpreter = new Interpreter(init);
  const results: ScenarioBlock[] = [];
  const rewritten: string[] = [];
  for (const block of blocks) {
    const actual = interpreter.run(block.command);
    results.push({ line: block.line, command: block.command, expected: block.expected, actual });
    rewritten.push(...block.preamble, block.command, '----', ...actual);
  }
  const mismatches = results.filter((block) => block.actual.length !== block.expected.length || block.actual.some((line, i) => line !== block.expected[i]));
  return { blocks: results, mismatches, rewritten: [...rewritten, ...trailer].join('\n') };
}
