import type * as z from 'zod';
import type { ConfigIssue } from './errors.js';

/** A value as an error message shows it: short, never calling the value's own methods. */
export function describeInput(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}…` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/** A zod path as a dotted field name (`peers.n2.peerUrl`, `tokens[0].subject`). */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text.length === 0 ? String(part) : `.${String(part)}`;
  }
  return text.length === 0 ? '(root)' : text;
}

function expectedText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'an integer' : issue.expected === 'object' ? 'an object' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`;
      return `expected ${expected}, got ${describeInput(issue.input)}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}, got ${describeInput(issue.input)}`;
    case 'too_small': {
      const inclusive = issue.inclusive === false ? 'more than' : 'at least';
      const unit = issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : '';
      return `expected ${inclusive} ${String(issue.minimum)}${unit}, got ${describeInput(issue.input)}`;
    }
    case 'too_big': {
      const inclusive = issue.inclusive === false ? 'less than' : 'at most';
      const unit = issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : '';
      return `expected ${inclusive} ${String(issue.maximum)}${unit}, got ${describeInput(issue.input)}`;
    }
    case 'unrecognized_keys':
      return 'unknown field';
    case 'invalid_format':
      return `${issue.message}, got ${describeInput(issue.input)}`;
    default:
      return issue.message;
  }
}

/** zod issues as field paths and messages that say what was expected; an unknown field is named in the path. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const result: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) result.push({ path: fieldPath([...issue.path, key]), message: 'unknown field' });
      continue;
    }
    result.push({ path: fieldPath(issue.path), message: expectedText(issue) });
  }
  return result;
}
