/**
 * The `greenraft` command: one sub-command per file in ./commands, each declared with the
 * argument table of ./args.ts. This file routes a command line to its command and owns what the
 * user sees when something goes wrong: one line on stderr and exit code 2, the stack trace only
 * with `--debug`.
 */
import { createRequire } from 'node:module';
import { InvalidArgumentError, isGreenraftError } from '@greenraft/consensus';
import { type CliCommand, formatHelp, parseCommandLine } from './args.js';
import { adminCommands } from './commands/admin.js';
import { benchCommand } from './commands/bench.js';
import { chaosCommand } from './commands/chaos.js';
import { clusterCommands } from './commands/cluster.js';
import { dashboardCommand } from './commands/dashboard.js';
import { demoCommand } from './commands/demo.js';
import { kvCommands } from './commands/kv.js';
import { lincheckCommand } from './commands/lincheck.js';
import { marketClusterCommands, marketSettleCommand } from './commands/market.js';
import { nodeCommand } from './commands/node.js';
import { paperCommand } from './commands/paper.js';
import { restoreCommand } from './commands/restore.js';
import { simCommand } from './commands/sim.js';

/** Every command, in the order the usage lists them. */
export const COMMANDS: readonly CliCommand[] = [
  demoCommand,
  simCommand,
  lincheckCommand,
  marketSettleCommand,
  paperCommand,
  nodeCommand,
  ...clusterCommands,
  restoreCommand,
  dashboardCommand,
  ...kvCommands,
  ...marketClusterCommands,
  ...adminCommands,
  benchCommand,
  chaosCommand,
];

/** The version of this package, for `--version`. */
function version(): string {
  // From src/ (tests) and from dist/ alike, the manifest is one directory up.
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/** One line per command, its summary in a column after the longest name. */
function summaryLines(commands: readonly CliCommand[]): string[] {
  const width = Math.max(...commands.map((command) => command.spec.name.length)) + 2;
  return commands.map((command) => `  ${command.spec.name.padEnd(width)}${command.spec.summary}`);
}

/** The top-level usage: every command with its summary. */
export function usage(commands: readonly CliCommand[] = COMMANDS): string {
  const lines = summaryLines(commands);
  return [
    'usage: greenraft <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    "Run 'greenraft <command> --help' for a command's options; every command also takes --debug.",
    "'greenraft --version' prints the version.",
  ].join('\n');
}

/** Whether the command line asks for stack traces (`--debug` before any `--`). */
export function wantsDebug(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--debug');
}

/** The one line (or, with `--debug`, the stack trace) an error that escaped a command prints. */
export function describeFailure(prefix: string, error: unknown, debug: boolean): string {
  if (debug && error instanceof Error && error.stack !== undefined) return `${prefix}: ${error.stack}`;
  const message = error instanceof Error ? error.message : String(error);
  // A typed greenraft error is a condition the user can act on; anything else is a bug of the command.
  if (isGreenraftError(error)) return `${prefix}: ${oneLine(message)}`;
  return `${prefix}: unexpected error: ${oneLine(message)} (run again with --debug for the stack trace)`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Runs the `greenraft` command line `argv` (without `node` and the script) and resolves with the
 * exit code; it never rejects. Output goes to `process.stdout`, messages to `process.stderr`.
 */
export function runCli(argv: readonly string[]): Promise<number> {
  return runCommandLine(COMMANDS, argv);
}

/** {@link runCli} over the given commands. */
export async function runCommandLine(commands: readonly CliCommand[], argv: readonly string[]): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${usage(commands)}\n`);
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command =
    commands.find((candidate) => second !== undefined && candidate.spec.name === `${first} ${second}`) ?? commands.find((candidate) => candidate.spec.name === first);
  if (command === undefined) {
    const group = commands.filter((candidate) => candidate.spec.name.startsWith(`${first} `));
    if (group.length === 0) {
      process.stderr.write(`greenraft: unknown command '${first}'; run 'greenraft --help' for the commands\n`);
      return 2;
    }
    const names = group.map((candidate) => candidate.spec.name.slice(first.length + 1));
    if (second === '--help' || second === '-h') {
      process.stdout.write(`usage: greenraft ${first} <${names.join('|')}> [options]\n\n${summaryLines(group).join('\n')}\n`);
      return 0;
    }
    const what = second === undefined ? 'missing sub-command' : `unknown sub-command '${second}'`;
    process.stderr.write(`greenraft ${first}: ${what}; expected ${names.join(' or ')} (run 'greenraft ${first} --help')\n`);
    return 2;
  }
  const prefix = `greenraft ${command.spec.name}`;
  const rest = argv.slice(command.spec.name.split(' ').length);
  const debug = wantsDebug(rest);
  try {
    const parsed = parseCommandLine(command.spec, rest);
    if (parsed === 'help') {
      process.stdout.write(`${formatHelp(command.spec)}\n`);
      return 0;
    }
    return await command.run(parsed);
  } catch (error) {
    if (error instanceof InvalidArgumentError) {
      process.stderr.write(`${prefix}: ${oneLine(error.message)} (run '${prefix} --help' for the options)\n`);
      return 2;
    }
    process.stderr.write(`${describeFailure(prefix, error, debug)}\n`);
    return 2;
  }
}
