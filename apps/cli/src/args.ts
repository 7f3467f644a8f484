/**
 * The one argument table of the `greenraft` command. Every command describes its options and
 * positional arguments here (value placeholder, default, check, help line); one parser reads
 * every command line and one formatter prints every `--help`, so all commands accept the same
 * forms (`--flag value`, `--flag=value`), reject the same mistakes with a message naming the
 * flag, and document themselves the same way.
 */
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '@greenraft/consensus';

/** One option of a command. */
export interface OptionSpec<Value> {
  /** The placeholder of the option's value in the help (`N`, `FILE`); absent for a flag without a value. */
  readonly value?: string;
  /** A one-letter alias (`h` for `-h`). */
  readonly short?: string;
  /** One line of help. */
  readonly help: string;
  /** The default as the help prints it; absent when there is none. */
  readonly defaultText?: string;
  /** The command needs it: the synopsis shows it without brackets and its help line ends `(required)`. Set by {@link required}, which also refuses its absence. */
  readonly required?: boolean;
  /**
   * Turns what the command line gave into the value: the text after the flag, `undefined` when
   * the option is absent, and for a flag without a value `''` when present. Throws
   * {@link InvalidArgumentError} with a message for the user that names `flag` (`--nodes`).
   */
  readonly parse: (text: string | undefined, flag: string) => Value;
}

/** A positional argument of a command. */
export interface PositionalSpec {
  /** As the help prints it: `FILE`. */
  readonly name: string;
  readonly help: string;
}

/** Options by the name of their value in the parsed result; the flag is the kebab-case name (`seedStart` → `--seed-start`). */
export type OptionTable = Record<string, OptionSpec<unknown>>;

/** What a command line parses to: each option's value by name. */
export type OptionValues<Options extends OptionTable> = { -readonly [Key in keyof Options]: ReturnType<Options[Key]['parse']> };

/** Everything one command declares: its table, its help, its examples. */
export interface CommandSpec<Options extends OptionTable = OptionTable> {
  /** The words after `greenraft`: `sim`, `market settle`. */
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** What the command does, printed under the usage line. */
  readonly description: string;
  readonly options: Options;
  /** Positional arguments, every one required. */
  readonly positionals?: readonly PositionalSpec[];
  /** More usage lines after the generated one (another way to call the command). */
  readonly usage?: readonly string[];
  /** Command lines (starting with `greenraft`) that the help prints and the tests run. */
  readonly examples?: readonly string[];
  /** Extra paragraphs before the exit status (output formats, ...). */
  readonly notes?: readonly string[];
  /** What each exit code means. */
  readonly exitStatus: string;
}

/** A parsed command line. */
export interface ParsedCommandLine<Options extends OptionTable> {
  readonly options: OptionValues<Options>;
  /** The positional arguments, in order, as many as the command declares. */
  readonly positionals: readonly string[];
  /** `--debug`: print the stack trace of an unexpected error. */
  readonly debug: boolean;
}

/** The options every command takes. */
const GLOBAL_HELP = [
  ['--debug', 'on an unexpected error, print its stack trace'],
  ['-h, --help', 'show this help'],
] as const;

/** `seedStart` → `seed-start`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/**
 * Parses `argv` by `spec`'s table. Returns `'help'` for `--help`/`-h`; throws
 * {@link InvalidArgumentError} naming the culprit for an unknown option, a missing or unexpected
 * value, a repeated option, a missing or extra positional argument, or a value the option's own
 * check refuses.
 */
export function parseCommandLine<Options extends OptionTable>(spec: CommandSpec<Options>, argv: readonly string[]): ParsedCommandLine<Options> | 'help' {
  const byFlag = new Map<string, { key: string; option: OptionSpec<unknown> }>();
  const shorts: Record<string, string> = {};
  for (const [key, option] of Object.entries(spec.options)) {
    byFlag.set(flagName(key), { key, option });
    if (option.short !== undefined) shorts[option.short] = flagName(key);
  }
  const parserOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } };
  for (const [flag, { option }] of byFlag) {
    parserOptions[flag] = { type: option.value === undefined ? 'boolean' : 'string', ...(option.short === undefined ? {} : { short: option.short }) };
  }
  // Not strict: the checks below word every mistake themselves, each naming the flag.
  const { tokens } = parseArgs({ args: [...argv], options: parserOptions, strict: false, allowPositionals: true, tokens: true });
  let help = false;
  let debug = false;
  const texts = new Map<string, string>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    if (token.name === 'help' || token.name === 'debug') {
      if (token.value !== undefined) throw new InvalidArgumentError(`${token.rawName} takes no value`);
      if (token.name === 'help') help = true;
      else debug = true;
      continue;
    }
    const entry = byFlag.get(token.name);
    if (entry === undefined) throw new InvalidArgumentError(`unknown option '${token.rawName}'`);
    if (texts.has(token.name)) throw new InvalidArgumentError(`--${token.name} is given more than once`);
    if (entry.option.value === undefined) {
      if (token.value !== undefined) throw new InvalidArgumentError(`--${token.name} takes no value`);
      texts.set(token.name, '');
      continue;
    }
    // `--nodes --json` would otherwise read '--json' as the number of nodes.
    if (token.value === undefined || token.value === '' || (!token.inlineValue && token.value.startsWith('-') && token.value !== '-')) {
      throw new InvalidArgumentError(`--${token.name} needs a value (${entry.option.value})`);
    }
    texts.set(token.name, token.value);
  }
  if (help) return 'help';
  const wanted = spec.positionals ?? [];
  if (positionals.length > wanted.length) {
    const extra = positionals[wanted.length]!;
    throw new InvalidArgumentError(wanted.length === 0 ? `unexpected argument '${extra}'` : `unexpected argument '${extra}': only ${wanted.map((p) => p.name).join(' ')} is taken`);
  }
  if (positionals.length < wanted.length) throw new InvalidArgumentError(`missing ${wanted[positionals.length]!.name}`);
  const options: Record<string, unknown> = {};
  for (const [flag, { key, option }] of byFlag) options[key] = option.parse(texts.get(flag), `--${flag}`);
  return { options: options as OptionValues<Options>, positionals, debug };
}

/** The `--help` text of a command, generated from its table. */
export function formatHelp(spec: CommandSpec): string {
  const optionEntries = Object.entries(spec.options);
  const synopsis = [
    `greenraft ${spec.name}`,
    ...optionEntries.map(([key, option]) => {
      const flag = `--${flagName(key)}${option.value === undefined ? '' : ` ${option.value}`}`;
      return option.required === true ? flag : `[${flag}]`;
    }),
    ...(spec.positionals ?? []).map((positional) => positional.name),
  ];
  const usage = wrap(synopsis, 'usage: ', 100);
  for (const line of spec.usage ?? []) usage.push(`       ${line}`);
  const rows: [string, string][] = [
    ...(spec.positionals ?? []).map((positional): [string, string] => [positional.name, positional.help]),
    ...optionEntries.map(([key, option]): [string, string] => [
      `${option.short === undefined ? '' : `-${option.short}, `}--${flagName(key)}${option.value === undefined ? '' : ` ${option.value}`}`,
      `${option.help}${option.required === true ? ' (required)' : ''}${option.defaultText === undefined ? '' : ` (default ${option.defaultText})`}`,
    ]),
    ...GLOBAL_HELP.map(([flag, help]): [string, string] => [flag, help]),
  ];
  const width = Math.max(...rows.map(([head]) => head.length)) + 2;
  const sections = [usage.join('\n'), spec.description, `options:\n${rows.map(([head, help]) => `  ${head.padEnd(width)}${help}`).join('\n')}`];
  if (spec.examples !== undefined && spec.examples.length > 0) sections.push(`examples:\n${spec.examples.map((example) => `  ${example}`).join('\n')}`);
  sections.push(...(spec.notes ?? []), `exit status: ${spec.exitStatus}`);
  return sections.join('\n\n');
}

/** Lays `words` out in lines of at most `width` characters, the first after `lead`, the others indented under it. */
function wrap(words: readonly string[], lead: string, width: number): string[] {
  const indent = ' '.repeat(lead.length + words[0]!.length + 1);
  const lines = [`${lead}${words[0]!}`];
  for (const word of words.slice(1)) {
    const last = lines[lines.length - 1]!;
    if (last.length + 1 + word.length > width) lines.push(`${indent}${word}`);
    else lines[lines.length - 1] = `${last} ${word}`;
  }
  return lines;
}

function wholeNumber(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${flag} takes a whole number from ${min} to ${max}, not '${text}'`);
  }
  return value;
}

/** An option taking a whole number from `min` to `max`, with a default (a number, or a function computing it). */
export function integerOption(init: { value: string; help: string; min: number; max: number; default: number | (() => number); defaultText?: string }): OptionSpec<number> {
  return {
    value: init.value,
    help: init.help,
    defaultText: init.defaultText ?? String(init.default),
    parse: (text, flag) => (text === undefined ? (typeof init.default === 'function' ? init.default() : init.default) : wholeNumber(text, flag, init.min, init.max)),
  };
}

/** An option taking a whole number from `min` to `max`; `undefined` when absent. */
export function optionalIntegerOption(init: { value: string; help: string; min: number; max: number }): OptionSpec<number | undefined> {
  return { value: init.value, help: init.help, parse: (text, flag) => (text === undefined ? undefined : wholeNumber(text, flag, init.min, init.max)) };
}

/** A number of milliseconds ≥ 0, fractions allowed. */
export function millisecondsOption(init: { value: string; help: string; default: number }): OptionSpec<number> {
  return {
    value: init.value,
    help: init.help,
    defaultText: String(init.default),
    parse: (text, flag) => {
      if (text === undefined) return init.default;
      const value = Number(text);
      if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(value)) throw new InvalidArgumentError(`${flag} takes a number of milliseconds ≥ 0, not '${text}'`);
      return value;
    },
  };
}

/** An option taking any text; `undefined` when absent. */
export function textOption(init: { value: string; help: string }): OptionSpec<string | undefined> {
  return { value: init.value, help: init.help, parse: (text) => text };
}

/**
 * `spec` made required: the command line must give it (else `--flag is required`, or
 * `--flag is required: <hint>` when a `hint` says what to give, before `spec` parses anything),
 * the synopsis shows it without brackets, its help line ends `(required)`, and its value is
 * never undefined.
 */
export function required<Value>(spec: OptionSpec<Value | undefined>, hint?: string): OptionSpec<Value> {
  const missing = hint === undefined ? 'is required' : `is required: ${hint}`;
  return {
    ...spec,
    required: true,
    parse: (text, flag) => {
      if (text === undefined) throw new InvalidArgumentError(`${flag} ${missing}`);
      // Given a text, an option's parse yields its value: undefined stands only for an absent option.
      return spec.parse(text, flag) as Value;
    },
  };
}

/** An option taking one of `values`. */
export function choiceOption<const Value extends string>(init: { value?: string; help: string; values: readonly Value[]; default: Value }): OptionSpec<Value>;
export function choiceOption<const Value extends string>(init: { value?: string; help: string; values: readonly Value[]; default?: undefined }): OptionSpec<Value | undefined>;
export function choiceOption<const Value extends string>(init: { value?: string; help: string; values: readonly Value[]; default?: Value }): OptionSpec<Value | undefined> {
  return {
    value: init.value ?? init.values.join('|'),
    help: init.help,
    ...(init.default === undefined ? {} : { defaultText: init.default }),
    parse: (text, flag) => {
      if (text === undefined) return init.default;
      if (!(init.values as readonly string[]).includes(text)) throw new InvalidArgumentError(`${flag} takes one of ${init.values.join(', ')}, not '${text}'`);
      return text as Value;
    },
  };
}

/** A flag without a value: `true` when given. */
export function booleanOption(init: { help: string; short?: string }): OptionSpec<boolean> {
  return { help: init.help, ...(init.short === undefined ? {} : { short: init.short }), parse: (text) => text !== undefined };
}


/** Declares a command: returns `spec` unchanged, typed so that its parsed options are. */
export function commandSpec<Options extends OptionTable>(spec: CommandSpec<Options>): CommandSpec<Options> {
  return spec;
}

/** A command of the `greenraft` command: its table and what runs once the command line parsed. */
export interface CliCommand {
  readonly spec: CommandSpec;
  /** Runs with the parsed command line; resolves with the exit code. */
  readonly run: (args: ParsedCommandLine<OptionTable>) => Promise<number> | number;
}

/** Binds a command's table to the function that runs it. */
export function defineCommand<Options extends OptionTable>(spec: CommandSpec<Options>, run: (args: ParsedCommandLine<Options>) => Promise<number> | number): CliCommand {
  return { spec, run: run as CliCommand['run'] };
}
