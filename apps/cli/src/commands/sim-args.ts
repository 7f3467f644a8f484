/**
 * Arguments of `greenraft sim`: its rows of the CLI's one argument table (value, default, check
 * and help line of each option), so a new option is one more row.
 */
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '@greenraft/consensus';
import { ENGINE_BUGS, type EngineBug } from '@greenraft/raft/testing';
import {
  SIMULATION_POLICIES,
  SIMULATION_SCORINGS,
  FAULT_KINDS,
  formatNemesis,
  parseNemesis,
} from '@greenraft/simulation';
import { booleanOption, choiceOption, commandSpec, formatHelp, integerOption, type OptionSpec, type OptionValues, parseCommandLine } from '../args.js';

/** The scripted scenarios `--scenario` runs instead of seeded simulations. */
export const SIM_SCENARIOS = ['paper-elections'] as const;
/** One of {@link SIM_SCENARIOS}. */
export type SimScenario = (typeof SIM_SCENARIOS)[number];

const MAX_SEED = 0xffffffff;

const nemesisOption: OptionSpec<string> = {
  value: 'none|all|LIST',
  help: `faults: ${FAULT_KINDS.join(', ')}`,
  defaultText: 'all',
  // Canonical text: `none`, `all` or a comma list in canonical order.
  parse: (text) => formatNemesis(parseNemesis(text ?? 'all')),
};

const injectBugOption: OptionSpec<EngineBug | undefined> = {
  value: 'NAME',
  help: `build the engine with a known bug: ${ENGINE_BUGS.join(', ')}`,
  parse: (text) => {
    if (text === undefined) return undefined;
    if (!(ENGINE_BUGS as readonly string[]).includes(text)) throw new InvalidArgumentError(`unknown --inject-bug '${text}'; known: ${ENGINE_BUGS.join(', ')}`);
    return text as EngineBug;
  },
};

/** The table of `greenraft sim`. */
export const simSpec = commandSpec({
  name: 'sim',
  summary: 'deterministic cluster simulation with a nemesis and safety checkers',
  usage: ['greenraft sim --scenario paper-elections [--elections N] [--seed-start S] [--json]'],
  description: [
    'Runs K deterministic simulations of an N-node cluster (seeds S … S+K−1) under a seeded nemesis',
    'and checks Election Safety, Leader Append-Only, Log Matching, Leader Completeness, State Machine',
    "Safety, durability, the configuration in use and liveness after every step, and the clients'",
    'key-value history for linearizability at the end of each run. A failing seed prints the command',
    'replaying it.',
  ].join('\n'),
  options: {
    nodes: integerOption({ value: 'N', help: 'cluster size', min: 3, max: 15, default: 5 }),
    seeds: integerOption({ value: 'K', help: 'how many seeds (runs)', min: 1, max: 10_000_000, default: 100 }),
    seedStart: integerOption({ value: 'S', help: 'first seed', min: 0, max: MAX_SEED, default: 1 }),
    steps: integerOption({ value: 'T', help: 'steps (ticks) per run', min: 1, max: 10_000_000, default: 2000 }),
    nemesis: nemesisOption,
    injectBug: injectBugOption,
    workers: integerOption({ value: 'W', help: 'worker threads to spread the seeds over', min: 1, max: 256, default: () => availableParallelism(), defaultText: 'number of CPUs' }),
    policy: choiceOption({
      help: 'weighted: weights from --scoring, rank timeouts (eq. 7), weight epochs by joint consensus',
      values: SIMULATION_POLICIES,
      default: 'classic',
    }),
    scoring: choiceOption({
      help: 'weighted runs: the paper\u2019s scores over a simulated power market, equal scores, or ack latencies',
      values: SIMULATION_SCORINGS,
      default: 'paper',
    }),
    epoch: integerOption({ value: 'E', help: 'weighted runs: new weights every E committed client entries', min: 1, max: 1_000_000, default: 20 }),
    scenario: choiceOption({
      value: 'NAME',
      help: `run a scripted scenario instead of seeds: ${SIM_SCENARIOS.join(', ')} (the paper\u2019s Tables 3\u20134)`,
      values: SIM_SCENARIOS,
    }),
    elections: integerOption({ value: 'N', help: '--scenario paper-elections: elections per policy (its seed is --seed-start)', min: 1, max: 100_000, default: 200 }),
    json: booleanOption({ help: 'print one JSON object on stdout instead of a summary' }),
  },
  examples: [
    'greenraft sim --nodes 3 --seeds 10 --steps 500 --json',
    'greenraft sim --policy weighted --scoring paper --seeds 4 --steps 600',
    'greenraft sim --seeds 3 --steps 300 --inject-bug vote-twice',
    'greenraft sim --scenario paper-elections --elections 20',
  ],
  notes: [
    [
      'With --scenario paper-elections --json: {"classic":{"1":count,…,"30":count},"weighted":{…}}',
      'With --json: {"runs":K,"violations":[{"seed":..,"property":"..","step":..,"replay":".."}],"elections":..,"commits":..,"maxTerm":..,',
      '              "linearizable":true|false,"historyOps":..,"linearizabilityUnknown":..}',
    ].join('\n'),
  ],
  exitStatus: '0 no violation, 1 violations found, 2 bad arguments.',
});

/** Everything `greenraft sim` was asked to do. */
export type SimArguments = OptionValues<typeof simSpec.options>;

/** The help text, built from the option table. */
export const SIM_USAGE = formatHelp(simSpec);

/**
 * Parses `greenraft sim` arguments; `'help'` for `--help`. Throws {@link InvalidArgumentError} with
 * a message fit for the user on an unknown option, a missing value or a bad value.
 */
export function parseSimArguments(argv: readonly string[]): SimArguments | 'help' {
  const parsed = parseCommandLine(simSpec, argv);
  return parsed === 'help' ? 'help' : checkSimArguments(parsed.options);
}

/** The checks that span options. */
export function checkSimArguments(args: SimArguments): SimArguments {
  if (args.seedStart + args.seeds - 1 > MAX_SEED) throw new InvalidArgumentError(`--seed-start + --seeds − 1 must not exceed ${MAX_SEED}`);
  return args;
}
