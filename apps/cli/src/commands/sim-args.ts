/**
 * Arguments of `greenraft sim`. One table describes every option (its value, default, check and
 * help line), so a new option (`--policy`, `--scoring`, `--scenario`) is one more row.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '@greenraft/consensus';
import { ENGINE_BUGS, type EngineBug } from '@greenraft/raft';
import {
  SIMULATION_POLICIES,
  SIMULATION_SCORINGS,
  FAULT_KINDS,
  type SimulationPolicy,
  type SimulationScoring,
  formatNemesis,
  parseNemesis,
} from '@greenraft/simulation';

/** The scripted scenarios `--scenario` runs instead of seeded simulations. */
export const SIM_SCENARIOS = ['paper-elections'] as const;
/** One of {@link SIM_SCENARIOS}. */
export type SimScenario = (typeof SIM_SCENARIOS)[number];

/** Everything `greenraft sim` was asked to do. */
export interface SimArguments {
  nodes: number;
  seeds: number;
  seedStart: number;
  steps: number;
  /** Canonical nemesis text: `none`, `all` or a comma list in canonical order. */
  nemesis: string;
  injectBug: EngineBug | undefined;
  workers: number;
  json: boolean;
  /** `classic` (every weight 1) or `weighted` (weights from `scoring`, changed by joint consensus). */
  policy: SimulationPolicy;
  scoring: SimulationScoring;
  /** Weighted runs: committed client entries between two weight epochs. */
  epoch: number;
  /** A scripted scenario to run instead of seeded simulations. */
  scenario: SimScenario | undefined;
  /** `--scenario paper-elections`: elections per policy. */
  elections: number;
}

interface OptionRow<Key extends keyof SimArguments> {
  readonly flag: string;
  readonly key: Key;
  readonly placeholder?: string;
  readonly help: string;
  /** Default as printed in the help; `undefined` for none. */
  readonly defaultText?: string;
  /** Turns the raw text (or `undefined` when absent) into the value; throws InvalidArgumentError. */
  readonly parse: (text: string | undefined) => SimArguments[Key];
}

function integer(flag: string, min: number, max: number, fallback: () => number) {
  return (text: string | undefined): number => {
    if (text === undefined) return fallback();
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${flag} takes a whole number from ${min} to ${max}, not '${text}'`);
    }
    return value;
  };
}

function oneOf<Value extends string>(flag: string, values: readonly Value[], fallback: Value) {
  return (text: string | undefined): Value => {
    if (text === undefined) return fallback;
    if (!(values as readonly string[]).includes(text)) throw new InvalidArgumentError(`${flag} takes one of ${values.join(', ')}, not '${text}'`);
    return text as Value;
  };
}

const MAX_SEED = 0xffffffff;

/** The option table; `json` is the only flag without a value. */
const ROWS: readonly OptionRow<keyof SimArguments>[] = [
  { flag: 'nodes', key: 'nodes', placeholder: 'N', help: 'cluster size', defaultText: '5', parse: integer('--nodes', 3, 15, () => 5) },
  { flag: 'seeds', key: 'seeds', placeholder: 'K', help: 'how many seeds (runs)', defaultText: '100', parse: integer('--seeds', 1, 10_000_000, () => 100) },
  { flag: 'seed-start', key: 'seedStart', placeholder: 'S', help: 'first seed', defaultText: '1', parse: integer('--seed-start', 0, MAX_SEED, () => 1) },
  { flag: 'steps', key: 'steps', placeholder: 'T', help: 'steps (ticks) per run', defaultText: '2000', parse: integer('--steps', 1, 10_000_000, () => 2000) },
  {
    flag: 'nemesis',
    key: 'nemesis',
    placeholder: 'none|all|LIST',
    help: `faults: ${FAULT_KINDS.join(', ')}`,
    defaultText: 'all',
    parse: (text) => formatNemesis(parseNemesis(text ?? 'all')),
  },
  {
    flag: 'inject-bug',
    key: 'injectBug',
    placeholder: 'NAME',
    help: `build the engine with a known bug: ${ENGINE_BUGS.join(', ')}`,
    parse: (text) => {
      if (text === undefined) return undefined;
      if (!(ENGINE_BUGS as readonly string[]).includes(text)) throw new InvalidArgumentError(`unknown --inject-bug '${text}'; known: ${ENGINE_BUGS.join(', ')}`);
      return text as EngineBug;
    },
  },
  {
    flag: 'workers',
    key: 'workers',
    placeholder: 'W',
    help: 'worker threads to spread the seeds over',
    defaultText: 'number of CPUs',
    parse: integer('--workers', 1, 256, () => availableParallelism()),
  },
  {
    flag: 'policy',
    key: 'policy',
    placeholder: 'classic|weighted',
    help: 'weighted: weights from --scoring, rank timeouts (eq. 7), weight epochs by joint consensus',
    defaultText: 'classic',
    parse: oneOf('--policy', SIMULATION_POLICIES, 'classic'),
  },
  {
    flag: 'scoring',
    key: 'scoring',
    placeholder: 'paper|uniform|latency',
    help: 'weighted runs: the paper\u2019s scores over a simulated power market, equal scores, or ack latencies',
    defaultText: 'paper',
    parse: oneOf('--scoring', SIMULATION_SCORINGS, 'paper'),
  },
  {
    flag: 'epoch',
    key: 'epoch',
    placeholder: 'E',
    help: 'weighted runs: new weights every E committed client entries',
    defaultText: '20',
    parse: integer('--epoch', 1, 1_000_000, () => 20),
  },
  {
    flag: 'scenario',
    key: 'scenario',
    placeholder: 'NAME',
    help: `run a scripted scenario instead of seeds: ${SIM_SCENARIOS.join(', ')} (the paper\u2019s Tables 3\u20134)`,
    parse: (text) => (text === undefined ? undefined : oneOf('--scenario', SIM_SCENARIOS, SIM_SCENARIOS[0])(text)),
  },
  {
    flag: 'elections',
    key: 'elections',
    placeholder: 'N',
    help: '--scenario paper-elections: elections per policy (its seed is --seed-start)',
    defaultText: '200',
    parse: integer('--elections', 1, 100_000, () => 200),
  },
  { flag: 'json', key: 'json', help: 'print one JSON object on stdout instead of a summary', parse: (text) => text !== undefined },
];

/** The help text, built from the option table. */
export const SIM_USAGE = [
  'usage: greenraft sim [--nodes N] [--seeds K] [--seed-start S] [--steps T] [--nemesis none|all|LIST]',
  '                     [--inject-bug NAME] [--workers W] [--policy classic|weighted]',
  '                     [--scoring paper|uniform|latency] [--epoch E] [--json]',
  '       greenraft sim --scenario paper-elections [--elections N] [--seed-start S] [--json]',
  '',
  'Runs K deterministic simulations of an N-node cluster (seeds S … S+K−1) under a seeded nemesis',
  'and checks Election Safety, Leader Append-Only, Log Matching, Leader Completeness, State Machine',
  'Safety, durability, the configuration in use and liveness after every step, and the clients\'',
  'key-value history for linearizability at the end of each run. A failing seed prints the command',
  'replaying it.',
  '',
  ...ROWS.map((row) => {
    const head = `  --${row.flag}${row.placeholder ? ` ${row.placeholder}` : ''}`;
    return `${head.padEnd(30)} ${row.help}${row.defaultText ? ` (default ${row.defaultText})` : ''}`;
  }),
  '',
  'With --scenario paper-elections --json: {"classic":{"1":count,…,"30":count},"weighted":{…}}',
  'With --json: {"runs":K,"violations":[{"seed":..,"property":"..","step":..,"replay":".."}],"elections":..,"commits":..,"maxTerm":..,',
  '              "linearizable":true|false,"historyOps":..,"linearizabilityUnknown":..}',
  'Exit status: 0 no violation, 1 violations found, 2 bad arguments.',
].join('\n');

/**
 * Parses `greenraft sim` arguments; `'help'` for `--help`. Throws {@link InvalidArgumentError} with
 * a message fit for the user on an unknown option, a missing value or a bad value.
 */
export function parseSimArguments(argv: readonly string[]): SimArguments | 'help' {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const row of ROWS) options[row.flag] = { type: row.key === 'json' ? 'boolean' : 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message.replace(/\. To specify a positional.*$/s, '') : String(error));
  }
  if (values.help === true) return 'help';
  const parsed: Partial<Record<keyof SimArguments, unknown>> = {};
  for (const row of ROWS) {
    const raw = values[row.flag];
    parsed[row.key] = row.parse(raw === undefined || raw === false ? undefined : raw === true ? '' : raw);
  }
  const result = parsed as SimArguments;
  if (result.seedStart + result.seeds - 1 > MAX_SEED) throw new InvalidArgumentError(`--seed-start + --seeds − 1 must not exceed ${MAX_SEED}`);
  return result;
}
