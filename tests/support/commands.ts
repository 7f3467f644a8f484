/**
 * The `greenraft` command lines the documentation shows: every line of a shell block that runs
 * the command, and every inline code span that is a whole command line (`npx greenraft …`).
 */
import { type MarkdownFile, readMarkdown } from './markdown.js';

/** How the documentation runs the command. */
const INVOCATION = /(^|[\s;&|(]|\bdo\s)(npx (--no )?greenraft|npx @greenraft\/cli|node apps\/cli\/(dist\/bin|bin\/greenraft)\.js)(\s|$)/;
/** A synopsis, not a command line: placeholders and alternatives (`[--weighted]`, `N`, `a|b`). */
const SYNOPSIS = /\[[^\]]*\]|\s[A-Z]{1,5}(\s|$)|\s\S*[a-z]\|[a-z]\S*(\s|$)|…/;

/** A command line found in the documentation. */
export interface DocumentedCommand {
  /** As written, without a trailing comment. */
  readonly command: string;
  /** `README.md:42`. */
  readonly where: string;
  /** The comment after it on its line, or the comment lines right after it in its block. */
  readonly comment: string;
  /** Whether it sits in the `Example` section of a package README (the README doc test runs those in a fresh project). */
  readonly inExample: boolean;
}

/** Drops a trailing `# comment` that is outside quotes. */
export function splitComment(line: string): { command: string; comment: string } {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return { command: line.slice(0, i).trimEnd(), comment: line.slice(i + 1).trim() };
  }
  return { command: line.trimEnd(), comment: '' };
}

/** The command lines of one markdown file (relative path `path`). */
export function documentedCommands(file: MarkdownFile): DocumentedCommand[] {
  const found: DocumentedCommand[] = [];
  const isPackageReadme = /^(packages|apps)\/[^/]+\/README\.md$/.test(file.path);
  for (const block of file.blocks) {
    if (!['sh', 'bash', 'shell', 'console'].includes(block.lang)) continue;
    const lines = block.content.replace(/\\\n\s*/g, ' ').split('\n');
    for (const [index, raw] of lines.entries()) {
      const text = raw.replace(/^\$\s+/, '');
      if (text.trim().startsWith('#')) continue;
      const { command, comment } = splitComment(text);
      if (!INVOCATION.test(command)) continue;
      const following: string[] = [];
      for (const next of lines.slice(index + 1)) {
        if (!next.trim().startsWith('#')) break;
        following.push(next.trim().slice(1).trim());
      }
      found.push({
        command: command.trim(),
        where: `${file.path}:${block.line + 1 + index}`,
        comment: [comment, ...following].filter(Boolean).join(' '),
        inExample: isPackageReadme && block.headings.includes('Example'),
      });
    }
  }
  for (const { text, line } of file.inlineCode) {
    // A span that only names the command (`npx greenraft`) is a mention, not a command line.
    if (!INVOCATION.test(text) || SYNOPSIS.test(text) || !/(greenraft|cli|\.js)\s+\S/.test(text)) continue;
    found.push({ command: text.trim(), where: `${file.path}:${line}`, comment: '', inExample: false });
  }
  return found;
}

/** {@link documentedCommands} of a file given by path and contents. */
export function commandsOf(path: string, source: string): DocumentedCommand[] {
  return documentedCommands(readMarkdown(path, source));
}
