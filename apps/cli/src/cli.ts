/** The `greenraft` command: one sub-command per file in ./commands. */
import { run as demo } from './commands/demo.js';
import { run as lincheck } from './commands/lincheck.js';
import { run as market } from './commands/market.js';
import { run as sim } from './commands/sim.js';

/** A sub-command: takes its arguments, returns the process exit code. */
export type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, { run: Command; summary: string }> = {
  demo: { run: demo, summary: 'run a local 5-node Raft cluster in this process and narrate it' },
  sim: { run: sim, summary: 'deterministic cluster simulation with a nemesis and safety checkers' },
  lincheck: { run: lincheck, summary: 'check a recorded history for linearizability' },
  market: { run: market, summary: 'power-market tools (settle a round from a JSON file)' },
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: greenraft <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'greenraft <command> --help' for a command's options.`;
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`greenraft: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}
