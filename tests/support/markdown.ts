/**
 * What the repository tests read out of its markdown: fenced code blocks with the section they
 * sit in, inline code, links and heading anchors. One parser (markdown-it, CommonMark), so a
 * README change is picked up by every test with no test change.
 */
import { readFileSync } from 'node:fs';
import MarkdownIt from 'markdown-it';
import type Token from 'markdown-it/lib/token.mjs';

const md = new MarkdownIt({ html: true });

/** A fenced code block. */
export interface CodeBlock {
  /** The info string's first word: `ts`, `sh`, `text`. */
  readonly lang: string;
  readonly content: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The headings above it, outermost first (`['@greenraft/raft', 'Example']`). */
  readonly headings: readonly string[];
  /** The prose between the previous block (or heading) and this one. */
  readonly before: string;
}

/** A link or image target. */
export interface Link {
  readonly href: string;
  readonly line: number;
}

/** Everything one markdown file holds that the tests look at. */
export interface MarkdownFile {
  readonly path: string;
  readonly blocks: readonly CodeBlock[];
  /** Inline code spans with the line they are on. */
  readonly inlineCode: readonly { readonly text: string; readonly line: number }[];
  readonly links: readonly Link[];
  /** GitHub-style anchors of the headings. */
  readonly anchors: ReadonlySet<string>;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function slugger(): (heading: string) => string {
  const seen = new Map<string, number>();
  return (heading) => {
    const base = heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}-${count}`;
  };
}

function inlineText(token: Token): string {
  return (token.children ?? []).map((child) => (child.type === 'code_inline' || child.type === 'text' ? child.content : '')).join('');
}

/** Parses the markdown `source` of `path` (read from disk when not given). */
export function readMarkdown(path: string, source: string = readFileSync(path, 'utf8')): MarkdownFile {
  const tokens = md.parse(source, {});
  const blocks: CodeBlock[] = [];
  const inlineCode: { text: string; line: number }[] = [];
  const links: Link[] = [];
  const anchors = new Set<string>();
  const slug = slugger();
  const headings: { level: number; text: string }[] = [];
  let prose: string[] = [];
  let line = 1;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    // Inline tokens inside tables carry no position: they are on the line of the row before them.
    if (token.map) line = token.map[0] + 1;
    if (token.type === 'heading_open') {
      const text = inlineText(tokens[i + 1]!);
      const level = Number(token.tag.slice(1));
      while (headings.length > 0 && headings[headings.length - 1]!.level >= level) headings.pop();
      headings.push({ level, text });
      anchors.add(slug(text));
      prose = [];
      continue;
    }
    if (token.type === 'fence') {
      blocks.push({ lang: token.info.trim().split(/\s+/)[0] ?? '', content: token.content, line, headings: headings.map((h) => h.text), before: prose.join('\n') });
      prose = [];
      continue;
    }
    if (token.type === 'html_block') {
      for (const match of token.content.matchAll(/\s(?:href|src)="([^"]+)"/g)) links.push({ href: match[1]!, line });
      for (const match of token.content.matchAll(/\sid="([^"]+)"/g)) anchors.add(match[1]!);
    }
    if (token.type !== 'inline') continue;
    prose.push(token.content);
    for (const child of token.children ?? []) {
      if (child.type === 'code_inline') inlineCode.push({ text: child.content, line });
      if (child.type === 'link_open') links.push({ href: child.attrGet('href') ?? '', line });
      if (child.type === 'image') links.push({ href: child.attrGet('src') ?? '', line });
      if (child.type === 'html_inline') for (const match of child.content.matchAll(/\s(?:href|src)="([^"]+)"/g)) links.push({ href: match[1]!, line });
    }
  }
  return { path, blocks, inlineCode, links, anchors };
}

/** The section of `file` under a heading named `heading` (any level): its code blocks. */
export function sectionBlocks(file: MarkdownFile, heading: string): CodeBlock[] {
  return file.blocks.filter((block) => block.headings.includes(heading));
}
