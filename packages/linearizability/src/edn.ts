/**
 * A reader for the small subset of EDN that recorded histories use: nil, booleans, integers,
 * strings, keywords, vectors and maps with keyword keys. Commas are whitespace, as in EDN.
 */

/** An EDN keyword such as `:invoke`, without its colon. */
export interface EdnKeyword {
  keyword: string;
}

/** A value read from EDN. Maps are keyed by keyword name (without the colon). */
export type EdnValue = null | boolean | number | string | EdnKeyword | EdnValue[] | Map<string, EdnValue>;

/** Thrown by {@link readEdn}; the parsers turn it into a {@link HistoryParseError} with the line. */
export class EdnSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EdnSyntaxError';
  }
}

const DELIMITERS = new Set(['{', '}', '[', ']', '(', ')', '"', ',']);

/** Reads exactly one EDN value from `text`; anything but whitespace after it is an error. */
export function readEdn(text: string): EdnValue {
  const reader = { text, at: 0 };
  const value = readValue(reader);
  skipWhitespace(reader);
  if (reader.at < text.length) throw new EdnSyntaxError(`unexpected '${text.slice(reader.at, reader.at + 10)}' after the value`);
  return value;
}

/** Whether a value read by {@link readEdn} is the keyword `name`. */
export function isKeyword(value: EdnValue | undefined, name?: string): value is EdnKeyword {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Map) &&
    (name === undefined || value.keyword === name)
  );
}

/** Renders a value for an error message. */
export function showEdn(value: EdnValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `[${value.map(showEdn).join(' ')}]`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `:${k} ${showEdn(v)}`).join(', ')}}`;
  return `:${value.keyword}`;
}

interface Reader {
  text: string;
  at: number;
}

function skipWhitespace(reader: Reader): void {
  while (reader.at < reader.text.length) {
    const ch = reader.text[reader.at]!;
    if (ch === ',' || ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') reader.at++;
    else break;
  }
}

function readValue(reader: Reader): EdnValue {
  skipWhitespace(reader);
  const ch = reader.text[reader.at];
  if (ch === undefined) throw new EdnSyntaxError('unexpected end of line');
  if (ch === '{') return readMap(reader);
  if (ch === '[') return readSequence(reader, ']');
  if (ch === '(') return readSequence(reader, ')');
  if (ch === '"') return readString(reader);
  if (ch === '}' || ch === ']' || ch === ')') throw new EdnSyntaxError(`unexpected '${ch}'`);
  const start = reader.at;
  while (reader.at < reader.text.length) {
    const c = reader.text[reader.at]!;
    if (DELIMITERS.has(c) || c === ' ' || c === '\t' || c === '\n' || c === '\r') break;
    reader.at++;
  }
  const token = reader.text.slice(start, reader.at);
  if (token === 'nil') return null;
  if (token === 'true') return true;
  if (token === 'false') return false;
  if (/^[-+]?\d+$/.test(token)) {
    const value = Number(token);
    if (!Number.isSafeInteger(value)) throw new EdnSyntaxError(`integer ${token} is too large`);
    return value;
  }
  if (/^:[^:\s]+$/.test(token)) return { keyword: token.slice(1) };
  throw new EdnSyntaxError(`cannot read '${token}'`);
}

function readSequence(reader: Reader, close: string): EdnValue[] {
  reader.at++;
  const items: EdnValue[] = [];
  for (;;) {
    skipWhitespace(reader);
    if (reader.at >= reader.text.length) throw new EdnSyntaxError(`missing '${close}'`);
    if (reader.text[reader.at] === close) {
      reader.at++;
      return items;
    }
    items.push(readValue(reader));
  }
}

function readMap(reader: Reader): Map<string, EdnValue> {
  reader.at++;
  const map = new Map<string, EdnValue>();
  for (;;) {
    skipWhitespace(reader);
    if (reader.at >= reader.text.length) throw new EdnSyntaxError("missing '}'");
    if (reader.text[reader.at] === '}') {
      reader.at++;
      return map;
    }
    const key = readValue(reader);
    if (!isKeyword(key)) throw new EdnSyntaxError(`map keys must be keywords, got ${showEdn(key)}`);
    skipWhitespace(reader);
    if (reader.text[reader.at] === '}' || reader.at >= reader.text.length) {
      throw new EdnSyntaxError(`key :${key.keyword} has no value`);
    }
    if (map.has(key.keyword)) throw new EdnSyntaxError(`key :${key.keyword} appears twice`);
    map.set(key.keyword, readValue(reader));
  }
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

function readString(reader: Reader): string {
  const { text } = reader;
  let at = reader.at + 1;
  let out = '';
  for (;;) {
    const ch = text[at];
    if (ch === undefined) throw new EdnSyntaxError('unterminated string');
    if (ch === '"') break;
    if (ch === '\\') {
      const escaped = text[at + 1];
      if (escaped === 'u') {
        const hex = text.slice(at + 2, at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new EdnSyntaxError(`bad escape \\u${hex}`);
        out += String.fromCharCode(Number.parseInt(hex, 16));
        at += 6;
        continue;
      }
      const replacement = escaped === undefined ? undefined : ESCAPES[escaped];
      if (replacement === undefined) throw new EdnSyntaxError(`bad escape \\${escaped ?? ''}`);
      out += replacement;
      at += 2;
      continue;
    }
    out += ch;
    at++;
  }
  reader.at = at + 1;
  return out;
}
