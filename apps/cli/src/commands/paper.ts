/**
 * `greenraft paper --out DIR`: regenerates the seed paper's §5 (Tables 1–7, Figures 1–10) from
 * greenraft's market, scoring and weighted-Raft packages on a simulated cluster, and the studies
 * beyond it, as Markdown, CSV and JSON tables and SVG and PNG charts.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { InvalidArgumentError } from '@greenraft/consensus';
import { PAPER_STUDIES, type PaperProgress, type PaperReproduction, type PaperStudy, paperReproduction } from '@greenraft/simulation';
import { booleanOption, commandSpec, defineCommand, integerOption, type OptionSpec, type ParsedCommandLine, required, textOption } from '../args.js';
import { print, printError } from '../io.js';
import { progressDisplay } from '../paper/progress.js';
import { type WrittenFiles, writeReproduction } from '../paper/write.js';

const outOption = required(textOption({ value: 'DIR', help: 'the directory to write the tables and figures into (created if need be)' }), 'the directory to write the tables and figures into');

const studyOption: OptionSpec<readonly PaperStudy[]> = {
  value: 'all|none|LIST',
  help: `studies beyond the paper, a comma list of ${PAPER_STUDIES.join(', ')}`,
  defaultText: 'all',
  parse: (text, flag) => {
    if (text === undefined || text === 'all') return PAPER_STUDIES;
    if (text === 'none') return [];
    const names = text.split(',').map((name) => name.trim());
    for (const name of names) {
      if (!(PAPER_STUDIES as readonly string[]).includes(name)) throw new InvalidArgumentError(`${flag} takes all, none or a comma list of ${PAPER_STUDIES.join(', ')}, not '${name}'`);
    }
    // In the order the reproduction runs them, each once.
    return PAPER_STUDIES.filter((study) => names.includes(study));
  },
};

/** The table of `greenraft paper`. */
export const paperSpec = commandSpec({
  name: 'paper',
  summary: 'regenerate the paper\u2019s \u00a75 (Tables 1\u20137, Figures 1\u201310) and the studies beyond it',
  description: [
    "Reproduces the seed paper's section 5 on greenraft's own packages: Tables 1-2 (the first trading",
    'round, settled by the power market), Tables 3-4 (leaders of 200 elections, classic vs weighted),',
    'Figures 1-6 and Tables 5-7 (the time of each consensus and the totals, for leaders 1, 2 and 5, on',
    'a simulated 30-node cluster whose links have a seeded lognormal latency), and Figures 7-10 (credit,',
    'green-certificate and total weights). Then, unless --study none, the studies the paper left out:',
    'what agreeing on the weights costs (epochs), cluster size x latency spread (sweep), and crashed',
    'heavy nodes with the fault-tolerance guard on and off (availability).',
  ].join('\n'),
  options: {
    out: outOption,
    seed: integerOption({ value: 'N', help: 'seeds the market, the network and every engine', min: 0, max: 0xffffffff, default: 1 }),
    rounds: integerOption({ value: 'N', help: 'trading rounds (one consensus each) of the consensus-time runs', min: 1, max: 10_000, default: 200 }),
    elections: integerOption({ value: 'N', help: 'leader elections per policy (Tables 3-4)', min: 1, max: 100_000, default: 200 }),
    study: studyOption,
    sweepRounds: integerOption({ value: 'N', help: 'trading rounds of each of the sweep\u2019s 60 runs', min: 2, max: 10_000, default: 50 }),
    json: booleanOption({ help: 'print {"tables":{"1":…,"7":…},"figures":[paths]} on stdout instead of a summary' }),
  },
  examples: ['greenraft paper --out docs/paper', 'greenraft paper --out /tmp/paper --rounds 40 --elections 20 --study none --json'],
  notes: [
    [
      'Writes DIR/README.md (every table and figure), DIR/paper.json (all the data), DIR/tables/table-N.{md,csv,json}',
      'and study-NAME.{md,csv,json}, DIR/figures/figure-N.{svg,png,vl.json} and study-NAME.{svg,png,vl.json}.',
      'With --json, tables 5-7 are arrays of {"consensus":k,"beforeMs":x,"afterMs":y,"gainPct":z}.',
      'The same options always write the same bytes.',
    ].join('\n'),
  ],
  exitStatus: '0 written, 2 bad arguments or a directory that cannot be written.',
});

/** `file` relative to the working directory, with forward slashes (for `--json` and messages). */
function displayPath(file: string): string {
  return relative(process.cwd(), file).split('\\').join('/') || '.';
}

/** The command line that reproduces a run with these options, as the index page quotes it. */
function canonicalCommand(options: ParsedCommandLine<typeof paperSpec.options>['options']): string {
  const parts = ['greenraft paper', `--out ${options.out}`];
  if (options.seed !== 1) parts.push(`--seed ${options.seed}`);
  if (options.rounds !== 200) parts.push(`--rounds ${options.rounds}`);
  if (options.elections !== 200) parts.push(`--elections ${options.elections}`);
  if (options.study.length !== PAPER_STUDIES.length) parts.push(`--study ${options.study.length === 0 ? 'none' : options.study.join(',')}`);
  if (options.sweepRounds !== 50 && options.study.includes('sweep')) parts.push(`--sweep-rounds ${options.sweepRounds}`);
  return parts.join(' ');
}

/** Runs `greenraft paper`; resolves with the exit code. */
export async function runPaper({ options }: ParsedCommandLine<typeof paperSpec.options>): Promise<number> {
  const started = performance.now();
  const out = resolve(options.out);
  // Before minutes of work: a directory that cannot be written fails now, not at the end.
  try {
    await mkdir(out, { recursive: true });
    await access(out, constants.W_OK);
  } catch (error) {
    printError(`greenraft paper: cannot write to ${options.out}: ${(error as Error).message}`);
    return 2;
  }
  const progress = progressDisplay(process.stderr);
  let result: PaperReproduction;
  let written: WrittenFiles;
  try {
    let last: PaperProgress = { step: '', done: 0, total: 1 };
    result = await paperReproduction({
      seed: options.seed,
      rounds: options.rounds,
      elections: options.elections,
      studies: options.study,
      sweepRounds: options.sweepRounds,
      onProgress: (step) => {
        last = step;
        progress.update(step);
      },
    });
    progress.update({ ...last, step: 'rendering the figures' });
    try {
      written = await writeReproduction(out, result, canonicalCommand(options));
    } catch (error) {
      if (typeof (error as NodeJS.ErrnoException).code !== 'string') throw error;
      printError(`greenraft paper: cannot write to ${options.out}: ${(error as Error).message}`);
      return 2;
    }
    progress.update({ ...last, done: last.total, step: 'done' });
  } finally {
    progress.stop();
  }
  const figures = written.figures.filter((file) => !file.endsWith('.vl.json')).map((file) => displayPath(file));
  if (options.json) {
    print(JSON.stringify({ tables: result.tables, figures }));
    return 0;
  }
  const gains = (['5', '6', '7'] as const).map((key) => `${result.tables[key].at(-1)!.gainPct.toFixed(2)} %`).join(', ');
  print(
    [
      `greenraft paper: wrote ${written.tables.length} table files and ${written.figures.length} figure files under ${displayPath(out)} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      `  weighted Raft's gain after ${result.rounds} consensus rounds, scenarios 1-3 (Tables 5-7): ${gains}`,
      `  index: ${displayPath(written.index)}`,
    ].join('\n'),
  );
  return 0;
}

/** `greenraft paper`. */
export const paperCommand = defineCommand(paperSpec, runPaper);
