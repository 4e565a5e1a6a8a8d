/**
 * Paths into JSON documents (docs/json.md): a small, strict subset of JSONPath (RFC 9535) that
 * names exactly one place in a document.
 *
 *   $                 the whole document
 *   .name             an object member; name = (ALPHA / "_" / non-ASCII) (ALPHA / DIGIT / "_" / non-ASCII)*
 *   ['name'] ["name"] an object member, any name; escapes \' \" \\ \/ \b \f \n \r \t \uXXXX
 *   [n]               an array element; n = 0, 1, ...; negative n counts from the end (-1 = last)
 *
 * Blank space (space, tab, newline, carriage return) is allowed inside brackets, nowhere else.
 * Anything else is `invalid_argument` saying at which character the path went wrong.
 */
import {
  hasLoneSurrogate,
  invalidArgument,
  JSON_PATH_LENGTH_MAX,
  JSON_PATH_STEPS_MAX,
} from '../base/index.js';

/** One step of a path: an object member by name, or an array element by index. */
export type JsonStep = { kind: 'name'; name: string } | { kind: 'index'; index: number };

/** Largest array index a path may name (an array holds at most 2^32 - 1 elements). */
export const JSON_INDEX_MAX = 0xffff_fffe;

const ROOT: readonly JsonStep[] = Object.freeze([]);

/**
 * Parses `path` into its steps (none for `$`). Requires a string; throws `invalid_argument`
 * naming the position (0-based character offset) where the path stops being valid.
 */
export function parsePath(path: unknown): readonly JsonStep[] {
  if (typeof path !== 'string')
    throw invalidArgument(
      `a path must be a string such as '$.a[0]', got ${path === null ? 'null' : typeof path}`,
    );
  if (path === '$') return ROOT;
  if (path.length > JSON_PATH_LENGTH_MAX)
    throw invalidArgument(
      `path is ${path.length} characters long, more than the limit of ${JSON_PATH_LENGTH_MAX}`,
    );
  const fail = (at: number, what: string): never => {
    throw invalidArgument(`invalid path '${clip(path)}' at position ${at}: ${what}`);
  };
  if (path.charCodeAt(0) !== 0x24) fail(0, "a path starts with '$' (the document), as in '$.name'");
  const steps: JsonStep[] = [];
  let i = 1;
  while (i < path.length) {
    if (steps.length >= JSON_PATH_STEPS_MAX) fail(i, `a path has at most ${JSON_PATH_STEPS_MAX} steps`);
    const c = path.charCodeAt(i);
    if (c === 0x2e) {
      // .name
      const start = ++i;
      if (i >= path.length) fail(i, "expected a member name after '.'");
      if (!isNameFirst(path.charCodeAt(i)))
        fail(i, `'${path[i]}' cannot start a member name after '.'; write ['...'] for any name`);
      i++;
      while (i < path.length && isNameChar(path.charCodeAt(i))) i++;
      const name = path.slice(start, i);
      if (hasLoneSurrogate(name))
        fail(start, 'the member name is not valid Unicode (it has a lone surrogate)');
      steps.push({ kind: 'name', name });
      continue;
    }
    if (c !== 0x5b) fail(i, `expected '.' or '[', got '${path[i]}'`);
    i = skipBlank(path, i + 1);
    if (i >= path.length) fail(i, "expected a quoted name or an index after '['");
    const q = path.charCodeAt(i);
    if (q === 0x27 || q === 0x22) {
      const [name, next] = readQuoted(path, i, fail);
      if (hasLoneSurrogate(name)) fail(i, 'the member name is not valid Unicode (it has a lone surrogate)');
      steps.push({ kind: 'name', name });
      i = next;
    } else if (q === 0x2d || (q >= 0x30 && q <= 0x39)) {
      const start = i;
      if (q === 0x2d) i++;
      const digits = i;
      while (i < path.length && path.charCodeAt(i) >= 0x30 && path.charCodeAt(i) <= 0x39) i++;
      if (i === digits) fail(i, "expected a digit after '-'");
      if (path.charCodeAt(digits) === 0x30 && i - digits > 1) fail(digits, 'an index has no leading zeros');
      const text = path.slice(start, i);
      if (text === '-0') fail(start, "'-0' is not an index");
      const index = Number(text);
      if (Math.abs(index) > JSON_INDEX_MAX)
        fail(start, `an index is at most ${JSON_INDEX_MAX} (or that far from the end)`);
      steps.push({ kind: 'index', index });
    } else {
      fail(i, `expected a quoted name ('name' or "name") or an index, got '${path[i]}'`);
    }
    i = skipBlank(path, i);
    if (i >= path.length || path.charCodeAt(i) !== 0x5d) fail(i, "expected ']'");
    i++;
  }
  return steps;
}

/** Reads the quoted string at `at` (its opening quote); returns the name and the index after it. */
function readQuoted(path: string, at: number, fail: (at: number, what: string) => never): [string, number] {
  const quote = path.charCodeAt(at);
  let out = '';
  let i = at + 1;
  for (;;) {
    if (i >= path.length) fail(i, 'the quoted name is not closed');
    const c = path.charCodeAt(i);
    if (c === quote) return [out, i + 1];
    if (c < 0x20) fail(i, 'a control character must be escaped inside a quoted name');
    if (c !== 0x5c) {
      out += path[i];
      i++;
      continue;
    }
    const e = path[i + 1];
    switch (e) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '/':
      case '\\':
        out += e;
        break;
      case "'":
      case '"':
        if (e.charCodeAt(0) !== quote)
          fail(i, `\\${e} is not an escape inside ${quote === 0x27 ? "'...'" : '"..."'}`);
        out += e;
        break;
      case 'u': {
        const hex = path.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail(i, 'expected four hex digits after \\u');
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
        continue;
      }
      default:
        fail(i, e === undefined ? 'the quoted name ends inside an escape' : `unknown escape \\${e}`);
    }
    i += 2;
  }
}

function skipBlank(path: string, i: number): number {
  while (i < path.length) {
    const c = path.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

function isNameFirst(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80;
}

function isNameChar(c: number): boolean {
  return isNameFirst(c) || (c >= 0x30 && c <= 0x39);
}

function clip(path: string): string {
  return path.length <= 200 ? path : `${path.slice(0, 200)}…`;
}

/** Formats steps as a path that parsePath reads back to the same steps: `$.a['b c'][0]`. */
export function formatPath(steps: readonly JsonStep[]): string {
  let out = '$';
  for (const s of steps) {
    if (s.kind === 'index') out += `[${s.index}]`;
    else if (isShorthand(s.name)) out += `.${s.name}`;
    else out += `['${escapeName(s.name)}']`;
  }
  return out;
}

function isShorthand(name: string): boolean {
  if (name.length === 0 || !isNameFirst(name.charCodeAt(0))) return false;
  for (let i = 1; i < name.length; i++) if (!isNameChar(name.charCodeAt(i))) return false;
  return true;
}

function escapeName(name: string): string {
  let out = '';
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    if (ch === "'" || ch === '\\') out += `\\${ch}`;
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}
