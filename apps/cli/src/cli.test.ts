import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError, InvalidArgumentError } from '@greenraft/consensus';
import { afterAll, describe, expect, it } from 'vitest';
import { booleanOption, commandSpec, defineCommand, flagName, formatHelp, integerOption, parseCommandLine, required, textOption } from './args.js';
import { COMMANDS, runCli, runCommandLine } from './cli.js';
import { capture } from './test-support.js';

const app = fileURLToPath(new URL('..', import.meta.url));
const repo = fileURLToPath(new URL('../../..', import.meta.url));
const wrapper = join(app, 'bin', 'greenraft.js');
const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { name: string; version: string; private?: boolean; bin: Record<string, string>; files: string[] };
const scratch = mkdtempSync(join(tmpdir(), 'greenraft-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('one argument table for every command', () => {
  it('lists every command in the usage', async () => {
    const { code, stdout } = await capture(() => runCli(['--help']));
    expect(code).toBe(0);
    expect(COMMANDS.map((command) => command.spec.name)).toEqual(expect.arrayContaining(['demo', 'sim', 'lincheck', 'market settle']));
    for (const command of COMMANDS) expect(stdout).toContain(`  ${command.spec.name} `);
    const bare = await capture(() => runCli([]));
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe(stdout);
  });

  it('shows a required option without brackets in the synopsis, and an optional one in brackets', async () => {
    const paper = await capture(() => runCli(['paper', '--help']));
    expect(paper.stdout).toMatch(/^usage: greenraft paper --out DIR \[/);
    const node = await capture(() => runCli(['node', '--help']));
    expect(node.stdout).toMatch(/^usage: greenraft node --config FILE/);
    const required = COMMANDS.flatMap((command) => Object.entries(command.spec.options).filter(([, option]) => option.required === true).map(([key]) => `${command.spec.name} --${flagName(key)}`));
    expect(required).toEqual(expect.arrayContaining(['paper --out', 'node --config', 'dashboard --endpoints', 'restore --snapshot', 'lincheck --format', 'kv cas --to']));
    for (const command of COMMANDS) {
      const usageLines = formatHelp(command.spec).split('\n\n')[0]!;
      for (const [key, option] of Object.entries(command.spec.options)) {
        const flag = `--${flagName(key)}${option.value === undefined ? '' : ` ${option.value}`}`;
        expect(usageLines, `${command.spec.name} ${flag}`).toContain(option.required === true ? ` ${flag}` : `[${flag}]`);
        if (option.required === true) expect(usageLines).not.toContain(`[${flag}]`);
      }
    }
  });

  it('marks a required option "(required)" in its help line, once, from the table alone', () => {
    for (const command of COMMANDS) {
      const rows = formatHelp(command.spec)
        .split('\n\n')
        .find((section) => section.startsWith('options:\n'))!
        .split('\n')
        .slice(1);
      for (const [key, option] of Object.entries(command.spec.options)) {
        const head = `--${flagName(key)}${option.value === undefined ? '' : ` ${option.value}`}`;
        const row = rows.find((line) => line.replace(/^ {2}(-\w, )?/, '').startsWith(`${head} `));
        expect(row, `${command.spec.name} ${head}`).toBeDefined();
        // The formatter adds the mark; a help text that wrote it too would print it twice.
        expect(option.help, `${command.spec.name} ${head}`).not.toMatch(/\brequired\b/);
        if (option.required === true) expect(row, `${command.spec.name} ${head}`).toMatch(/ \(required\)$/);
        else expect(row, `${command.spec.name} ${head}`).not.toContain('(required)');
      }
    }
    const spec = commandSpec({ name: 'x', summary: 's', description: 'd', options: { out: required(textOption({ value: 'DIR', help: 'where' }), 'the directory') }, exitStatus: '0' });
    expect(formatHelp(spec)).toMatch(/\n {2}--out DIR +where \(required\)\n/);
    expect(() => parseCommandLine(spec, [])).toThrow(new InvalidArgumentError('--out is required: the directory'));
  });

  it('lists a group of sub-commands with their summaries in one column after the longest name', async () => {
    const group = COMMANDS.filter((command) => command.spec.name.startsWith('admin '));
    expect(group.length).toBeGreaterThan(1);
    const { code, stdout } = await capture(() => runCli(['admin', '--help']));
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n').slice(2);
    expect(lines).toHaveLength(group.length);
    const column = Math.max(...group.map((command) => command.spec.name.length)) + 4;
    for (const [i, command] of group.entries()) {
      expect(lines[i]!.slice(0, column)).toBe(`  ${command.spec.name}`.padEnd(column));
      expect(lines[i]!.slice(column)).toBe(command.spec.summary);
    }
  });

  for (const command of COMMANDS) {
    const name = command.spec.name;
    it(`${name}: --help and -h print the help generated from the table, naming every option`, async () => {
      const help = await capture(() => runCli([...name.split(' '), '--help']));
      expect(help.code).toBe(0);
      expect(help.stderr).toBe('');
      expect(help.stdout).toBe(`${formatHelp(command.spec)}\n`);
      expect(help.stdout).toMatch(new RegExp(`^usage: greenraft ${name} `));
      for (const [key, option] of Object.entries(command.spec.options)) {
        expect(help.stdout, key).toContain(`--${flagName(key)}${option.value === undefined ? '' : ` ${option.value}`}`);
      }
      for (const flag of ['--debug', '-h, --help', 'exit status: ']) expect(help.stdout).toContain(flag);
      const short = await capture(() => runCli([...name.split(' '), '-h']));
      expect(short).toEqual(help);
    });

    it(`${name}: an unknown flag is one line on stderr naming it, exit 2`, async () => {
      const run = await capture(() => runCli([...name.split(' '), '--no-such-flag', 'x']));
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(`greenraft ${name}: unknown option '--no-such-flag' (run 'greenraft ${name} --help' for the options)\n`);
    });
  }

  it('names an unknown command in one line, exit 2', async () => {
    const run = await capture(() => runCli(['simulate', '--nodes', '3']));
    expect(run).toEqual({ code: 2, stdout: '', stderr: "greenraft: unknown command 'simulate'; run 'greenraft --help' for the commands\n" });
  });

  it('prints its version', async () => {
    const run = await capture(() => runCli(['--version']));
    expect(run).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });
});

describe('parseCommandLine', () => {
  const spec = commandSpec({
    name: 'probe',
    summary: 'a probe',
    description: 'a probe',
    options: {
      seedStart: integerOption({ value: 'S', help: 'first seed', min: 0, max: 9, default: 1 }),
      json: booleanOption({ help: 'json' }),
    },
    positionals: [{ name: 'FILE', help: 'a file' }],
    exitStatus: '0',
  });

  it('reads --flag value, --flag=value, flags, positionals after --, defaults', () => {
    expect(parseCommandLine(spec, ['--seed-start', '4', 'a'])).toEqual({ options: { seedStart: 4, json: false }, positionals: ['a'], debug: false });
    expect(parseCommandLine(spec, ['--json', '--seed-start=7', '--debug', '--', '--odd-name'])).toEqual({
      options: { seedStart: 7, json: true },
      positionals: ['--odd-name'],
      debug: true,
    });
    expect(parseCommandLine(spec, ['a', '-h'])).toBe('help');
  });

  it('refuses every malformed command line with an InvalidArgumentError naming the flag', () => {
    for (const [argv, message] of [
      [['--seeds', '3', 'a'], "unknown option '--seeds'"],
      [['-x', 'a'], "unknown option '-x'"],
      [['--seed-start'], '--seed-start needs a value (S)'],
      [['--seed-start', '--json', 'a'], '--seed-start needs a value (S)'],
      [['--seed-start='], '--seed-start needs a value (S)'],
      [['--json=no', 'a'], '--json takes no value'],
      [['--seed-start', '12', 'a'], "--seed-start takes a whole number from 0 to 9, not '12'"],
      [['--seed-start', '1', '--seed-start', '2', 'a'], '--seed-start is given more than once'],
      [[], 'missing FILE'],
      [['a', 'b'], "unexpected argument 'b': only FILE is taken"],
    ] as const) {
      expect(() => parseCommandLine(spec, argv), argv.join(' ')).toThrow(new InvalidArgumentError(message));
    }
  });
});

describe('errors a command did not expect', () => {
  const crashes = defineCommand(commandSpec({ name: 'crash', summary: 's', description: 'd', options: {}, exitStatus: '2' }), () => {
    // A bug in a command: a TypeError from deep inside.
    return (undefined as unknown as { run(): number }).run();
  });
  const refuses = defineCommand(commandSpec({ name: 'refuse', summary: 's', description: 'd', options: {}, exitStatus: '2' }), () => {
    throw new ConfigurationError('the voters’ total weight must be positive');
  });

  it('print one line on stderr and exit 2, the stack only with --debug', async () => {
    const plain = await capture(() => runCommandLine([crashes], ['crash']));
    expect(plain.code).toBe(2);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toMatch(/^greenraft crash: unexpected error: Cannot read properties of undefined \(reading 'run'\) \(run again with --debug for the stack trace\)\n$/);
    const debug = await capture(() => runCommandLine([crashes], ['crash', '--debug']));
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/^greenraft crash: TypeError: Cannot read properties of undefined/);
    expect(debug.stderr).toMatch(/\n\s+at .*cli\.test\.ts/);
  });

  it('print a typed greenraft error as its message', async () => {
    const run = await capture(() => runCommandLine([refuses], ['refuse']));
    expect(run).toEqual({ code: 2, stdout: '', stderr: 'greenraft refuse: the voters’ total weight must be positive\n' });
  });
});

describe('the committed bin', () => {
  it('is what package.json names, a tracked executable node script, published with the built command', () => {
    expect(manifest.private).toBeUndefined();
    expect(manifest.name).toBe('@greenraft/cli');
    expect(manifest.bin).toEqual({ greenraft: './bin/greenraft.js' });
    expect(manifest.files).toEqual(expect.arrayContaining(['bin', 'dist']));
    expect(readFileSync(wrapper, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    accessSync(wrapper, constants.X_OK);
    // dist/ is ignored, so a bin there would not exist on a fresh clone when npm links it.
    const ignored = spawnSync('git', ['check-ignore', '-q', wrapper], { cwd: repo });
    expect(ignored.status, 'bin/greenraft.js must not be git-ignored').toBe(1);
    const linked = join(repo, 'node_modules', '.bin', 'greenraft');
    expect(realpathSync(linked), 'npm ci links node_modules/.bin/greenraft to the committed bin').toBe(realpathSync(wrapper));
  });

  it('says "run npm run build first" when the command is not built, in one line, exit 2', () => {
    const copy = join(scratch, 'cli', 'bin');
    mkdirSync(copy, { recursive: true });
    copyFileSync(wrapper, join(copy, 'greenraft.js'));
    const run = spawnSync(process.execPath, [join(copy, 'greenraft.js'), 'demo'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('greenraft: the command is not built yet; run npm run build first (at the root of the greenraft repository)\n');
  });

  it('runs the built command: --help', () => {
    const run = spawnSync(process.execPath, [wrapper, '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: greenraft <command> \[options\]/);
  });
});

describe('a closed stdout', () => {
  it('`greenraft demo | head -4` ends quietly with exit 0', () => {
    const run = spawnSync('bash', ['-c', `"${process.execPath}" "${wrapper}" demo | head -4; echo "greenraft exited \${PIPESTATUS[0]}"`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('greenraft exited 0');
    expect(run.stderr).toBe('');
  });

  it('ends a command that is still writing as soon as the reader goes away', async () => {
    const child = spawn(process.execPath, [wrapper, 'demo', '--proposals', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the command kept running after its reader left')), 30_000);
        child.stdout.once('data', () => child.stdout.destroy());
        child.on('exit', (status) => {
          clearTimeout(timer);
          resolve(status);
        });
      });
      expect(code).toBe(0);
      expect(stderr).toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
