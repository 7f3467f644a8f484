/**
 * A package README read as a doc test: what its install line installs, its example, and what
 * the example says it prints. The conventions (each README follows them, so a README change is
 * picked up with no test change):
 *
 * - the first `npm install …` line of a shell block under an `Install` heading names what to
 *   install; `@types/node` anywhere in the README means TypeScript needs it, and it is added;
 * - the example is the first `ts` block under an `Example` heading (for a package with a command
 *   and no `ts` example, the first `sh` block there, run as a script); a first line
 *   `// name.test.ts` names the file, and a test file is run with vitest;
 * - a `text` block after it in the same section is what the example prints, line by line; `…` in a
 *   line matches any text.
 */
import { builtinModules } from 'node:module';
import type { CodeBlock, MarkdownFile } from './markdown.js';

/** What the doc test needs from one README. */
export interface ReadmeExample {
  /** Every package the install line names, in order. */
  readonly install: readonly string[];
  /** The README says TypeScript needs `@types/node`. */
  readonly typesNode: boolean;
  readonly example: CodeBlock;
  /** The example's file name: `example.ts`, `memory.spec.test.ts`, `example.sh`. */
  readonly fileName: string;
  /** What it prints, when the README says. */
  readonly prints: string | undefined;
}

/** Reads the doc test out of a README; throws, saying what is missing, when it has none. */
export function readmeExample(file: MarkdownFile, source: string, hasBin: boolean): ReadmeExample {
  const installBlock = file.blocks.find((block) => block.headings.includes('Install') && ['sh', 'bash', 'shell'].includes(block.lang) && /^npm (install|i) /m.test(block.content));
  if (installBlock === undefined) throw new Error(`${file.path} has no install line: a shell block under "## Install" with \`npm install <packages>\``);
  const installLine = installBlock.content.split('\n').find((line) => /^npm (install|i) /.test(line))!;
  const install = installLine
    .replace(/#.*$/, '')
    .trim()
    .split(/\s+/)
    .slice(2)
    .filter((word) => !word.startsWith('-'));
  const inExample = file.blocks.filter((block) => block.headings.includes('Example'));
  const example = inExample.find((block) => block.lang === 'ts') ?? (hasBin ? inExample.find((block) => block.lang === 'sh') : undefined);
  if (example === undefined) throw new Error(`${file.path} has no example: a \`ts\` block under "## Example"${hasBin ? ' (or, for a command, a `sh` block)' : ''}`);
  const after = inExample.slice(inExample.indexOf(example) + 1);
  const prints = after.find((block) => block.lang === 'text')?.content;
  const named = /^\/\/ ([\w.-]+\.ts)\s*$/m.exec(example.content.split('\n')[0] ?? '');
  const fileName = example.lang === 'sh' ? 'example.sh' : (named?.[1] ?? 'example.ts');
  return { install, typesNode: source.includes('@types/node'), example, fileName, prints };
}

/** The packages an example imports (bare specifiers, `node:` and Node built-ins left out). */
export function importedPackages(code: string): string[] {
  const specifiers = [...code.matchAll(/(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)].map(
    (match) => match[1] ?? match[2] ?? match[3]!,
  );
  const packages = specifiers
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:') && !builtinModules.includes(specifier))
    .map((specifier) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!));
  return [...new Set(packages)];
}

/** Whether `actual` is what `expected` says, line by line; `…` in an expected line matches any text. */
export function printsAsSaid(actual: string, expected: string): boolean {
  const want = expected.trimEnd().split('\n');
  const got = actual.trimEnd().split('\n');
  if (want.length !== got.length) return false;
  return want.every((line, i) => {
    const pattern = new RegExp(`^${line.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return pattern.test(got[i]!);
  });
}
