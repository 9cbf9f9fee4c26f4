/**
 * Bytes to a YAML document with source positions. Refuses what must not be parsed (too
 * large, not UTF-8, several documents, alias bombs) and explains YAML errors to a
 * beginner on the line where the problem is.
 */
import {
  Document,
  LineCounter,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import type { Finding } from './model.js';
import {
  complexKeyFinding,
  directiveFinding,
  duplicateKeyFinding,
  explainYamlError,
  loneCarriageReturnFinding,
  mergeKeyFinding,
  otherLineBreakFinding,
  unknownTagFinding,
} from './syntax.js';

export interface ParseLimits {
  readonly maxFileBytes: number;
  readonly maxAliases: number;
  /** Bounds the YAML items a file may hold: ITEMS_PER_ENTRY for each allowed entry. */
  readonly maxEntries: number;
}

/** Lines and values an entry takes at most, generously (six fields, its "- ", a comma or two). */
export const ITEMS_PER_ENTRY = 10;

export interface Position {
  readonly line: number;
  readonly column: number;
}

export type PathSegment = string | number;

export interface ParsedRoster {
  readonly file: string;
  /** The decoded text; empty when the bytes could not be decoded. */
  readonly text: string;
  /** Plain data of the document, or undefined when the file could not be read as YAML. */
  readonly data: unknown;
  readonly findings: readonly Finding[];
  /** Position of the value at a path, or of the nearest existing parent. */
  locate(path: readonly PathSegment[]): Position;
  /** Position of the key of a mapping entry at a path (for unknown or duplicated keys). */
  locateKey(path: readonly PathSegment[]): Position;
  /** The text of the value at a path as written (without comments after it), or undefined. */
  sourceAt(path: readonly PathSegment[]): string | undefined;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const START: Position = { line: 1, column: 1 };

export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

function unreadable(file: string, text: string, findings: Finding[]): ParsedRoster {
  return {
    file,
    text,
    data: undefined,
    findings,
    locate: () => START,
    locateKey: () => START,
    sourceAt: () => undefined,
  };
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return -1;
  } catch {
    // Narrow down: the longest prefix that decodes is valid, the byte after it is not.
    let lo = 0;
    let hi = bytes.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
        lo = mid;
      } catch {
        hi = mid - 1;
      }
    }
    return lo;
  }
}

function decode(file: string, bytes: Uint8Array, findings: Finding[]): string | undefined {
  let body = bytes;
  if (UTF8_BOM.every((b, i) => bytes[i] === b)) {
    body = bytes.subarray(UTF8_BOM.length);
    findings.push({
      code: 'file-bom',
      severity: 'warning',
      message: 'The file starts with a byte-order mark (BOM), which some tools show as stray characters.',
      hint: 'Save the file as "UTF-8" rather than "UTF-8 with BOM" in your editor.',
      file,
      ...START,
    });
  }
  const bad = firstInvalidUtf8(body);
  if (bad === -1) return new TextDecoder('utf-8').decode(body);
  const before = new TextDecoder('utf-8').decode(body.subarray(0, bad));
  findings.push({
    code: 'file-encoding',
    severity: 'error',
    message: 'The file is not valid UTF-8 text.',
    hint: 'Re-save the file with UTF-8 encoding; a character on this line was saved in another encoding (often Latin-1 or Windows-1252).',
    file,
    ...positionAt(before, before.length),
  });
  return undefined;
}

/**
 * An upper bound of the nodes YAML would build, counted without parsing: each line with
 * content, and each comma, "[", "{" and "- " in it (quoted text counts too, which only
 * overestimates). The parser's time grows with the nodes, so bounding them bounds its work.
 */
function countItems(text: string): number {
  let items = 0;
  for (let start = 0; start < text.length;) {
    const end = text.indexOf('\n', start);
    const stop = end === -1 ? text.length : end;
    let i = start;
    while (i < stop && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
    if (i < stop && text[i] !== '#') {
      items += 1;
      for (; i < stop; i++) {
        const c = text[i];
        if (c === ',' || c === '[' || c === '{' || (c === '-' && (text[i + 1] === ' ' || i + 1 === stop))) items += 1;
      }
    }
    start = stop + 1;
  }
  return items;
}

/**
 * A CR that ends no CRLF: the parser here ends lines only at LF, YAML (and other readers)
 * also at a CR alone. One at the very end is a CRLF file cut short, which file-no-final-newline names.
 */
export const LONE_CR = /\r(?!\n|$)/;

/** NEL, LS and PS: line breaks to YAML 1.1 readers (kubectl's go-yaml), text to this parser. */
const OTHER_LINE_BREAK = /[\u0085\u2028\u2029]/;

export function parseRoster(file: string, bytes: Uint8Array, limits: ParseLimits): ParsedRoster {
  const findings: Finding[] = [];
  if (bytes.length > limits.maxFileBytes) {
    findings.push({
      code: 'file-too-large',
      severity: 'error',
      message: `The file is ${bytes.length} bytes; a roster may be at most ${limits.maxFileBytes} bytes.`,
      hint: 'A roster holds one short entry per student. Remove anything pasted by mistake, or ask an instructor to raise policy.limits.maxFileBytes.',
      file,
      ...START,
    });
    return unreadable(file, '', findings);
  }

  const text = decode(file, bytes, findings);
  if (text === undefined) return unreadable(file, '', findings);

  const loneCr = LONE_CR.exec(text);
  const otherBreak = OTHER_LINE_BREAK.exec(text);
  if (loneCr !== null) {
    findings.push(loneCarriageReturnFinding(file, positionAt(text, loneCr.index)));
    return unreadable(file, text, findings);
  }
  if (otherBreak !== null) {
    findings.push(otherLineBreakFinding(file, otherBreak[0], positionAt(text, otherBreak.index)));
    return unreadable(file, text, findings);
  }

  const maxItems = limits.maxEntries * ITEMS_PER_ENTRY + 100;
  const items = countItems(text);
  if (items > maxItems) {
    findings.push({
      code: 'file-too-complex',
      severity: 'error',
      message: `The file holds about ${items} YAML lines and values; a roster of at most ${limits.maxEntries} entries needs no more than ${maxItems}.`,
      hint: 'Each entry is a few `key: value` lines. Remove anything pasted by mistake, or ask an instructor to raise policy.limits.maxEntries.',
      file,
      ...START,
    });
    return unreadable(file, text, findings);
  }

  const lineCounter = new LineCounter();
  // Duplicate keys are found by walkDocument: the parser's own check is quadratic in a mapping's keys.
  // logLevel: what the parser would print (a collection key, say) is reported here, in words.
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: false, prettyErrors: true, logLevel: 'error' });
  const documents = Array.isArray(docs) ? docs : [];
  const [doc, ...extra] = documents;
  const extraWithContent = extra.filter((d) => d.contents !== null || d.errors.length > 0);
  if (extraWithContent.length > 0) {
    const second = extraWithContent[0]!;
    const pos = lineCounter.linePos(second.range[0]);
    findings.push({
      code: 'yaml-multiple-documents',
      severity: 'error',
      message: `The file holds ${1 + extraWithContent.length} YAML documents separated by "---"; a roster is a single document.`,
      hint: 'Remove the "---" line and merge the entries into the one `students:` list at the top.',
      file,
      line: Math.max(1, pos.line - 1),
      column: 1,
    });
    return unreadable(file, text, findings);
  }
  if (doc === undefined || doc.contents === null) {
    findings.push({
      code: 'file-empty',
      severity: 'error',
      message: 'The file is empty.',
      hint: 'A roster starts with apiVersion, kind, metadata (with week) and a students list; copy the header of an existing week.',
      file,
      ...START,
    });
    return unreadable(file, text, findings);
  }
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    findings.push(explainYamlError(file, text, firstError));
    return unreadable(file, text, findings);
  }

  const at = (node: Node | null | undefined): Position | undefined =>
    node?.range ? toPosition(lineCounter.linePos(node.range[0])) : undefined;
  // %YAML 1.1 makes this parser read `No` as false and 1:20 as 80; %TAG renames YAML's own tags.
  const { yaml, tags } = doc.directives ?? { yaml: { version: '1.2' }, tags: {} };
  const tag = Object.keys(tags).find((handle) => handle !== '!!');
  const directive = yaml.version !== '1.2' ? `%YAML ${yaml.version}` : tag && `%TAG ${tag}`;
  if (directive !== undefined) {
    findings.push(directiveFinding(file, directive));
    return unreadable(file, text, findings);
  }
  const unknownTag = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (unknownTag !== undefined) {
    const position = toPosition(lineCounter.linePos(unknownTag.pos[0]));
    findings.push(unknownTagFinding(file, text.slice(...unknownTag.pos), position));
    return unreadable(file, text, findings);
  }
  const keyProblem = findKeyProblem(doc);
  if (keyProblem !== undefined && keyProblem.kind !== 'duplicate') {
    const source = text.slice(keyProblem.key.range?.[0], keyProblem.key.range?.[1]);
    const position = at(keyProblem.key) ?? START;
    findings.push(
      keyProblem.kind === 'merge'
        ? mergeKeyFinding(file, position)
        : complexKeyFinding(file, keyProblem.kind, source, position),
    );
    return unreadable(file, text, findings);
  }
  if (keyProblem?.kind === 'duplicate') {
    const { line, column } = at(keyProblem.second) ?? START;
    findings.push(duplicateKeyFinding(file, keyProblem.key, line, column, at(keyProblem.first)?.line));
    return unreadable(file, text, findings);
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: limits.maxAliases });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    findings.push({
      code: 'yaml-alias-limit',
      severity: 'error',
      message: `The file uses YAML aliases (*name) more than ${limits.maxAliases} times, or in a way that expands without bound.`,
      hint: 'Write each entry out in full; rosters do not need anchors (&name) or aliases (*name).',
      file,
      ...START,
    });
    return unreadable(file, text, findings);
  }

  const index = new WeakMap<YAMLMap, Map<string, Pair>>();
  return {
    file,
    text,
    data,
    findings,
    locate: (path) => locateIn(doc, path, at, false, index),
    locateKey: (path) => locateIn(doc, path, at, true, index),
    sourceAt: (path) => {
      const range = nodeAt(doc, path, index)?.range;
      return range ? text.slice(range[0], range[1]) : undefined;
    },
  };
}

/** The key a mapping entry has in the parsed data, where `1` and `"1"` are one key; undefined for a collection key. */
function keyOf(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

type KeyProblem =
  | { readonly kind: 'duplicate'; readonly key: string; readonly first: Node; readonly second: Node }
  | { readonly kind: 'complex' | 'alias' | 'merge'; readonly key: Node };

/**
 * The first key that repeats within its mapping, or that is a list or mapping (JavaScript
 * would make text of it, as no other reader does), in document order: one pass, one set per mapping.
 */
function findKeyProblem(doc: Document): KeyProblem | undefined {
  // An explicit stack rather than recursion: nesting depth is the author's choice.
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Map<string, Node>();
      for (const pair of node.items) {
        if (isCollection(pair.key)) return { kind: 'complex', key: pair.key };
        if (isAlias(pair.key)) return { kind: 'alias', key: pair.key };
        const key = keyOf(pair);
        if (key === '<<') return { kind: 'merge', key: pair.key as Node };
        if (key === undefined) continue;
        const first = seen.get(key);
        if (first !== undefined) return { kind: 'duplicate', key, first, second: pair.key as Node };
        seen.set(key, pair.key as Node);
      }
      for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]!.value, node.items[i]!.key);
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]);
    }
  }
  return undefined;
}

/** A mapping's entries by key, built once per mapping, so locating every finding stays linear. */
function pairsOf(map: YAMLMap, index: WeakMap<YAMLMap, Map<string, Pair>>): Map<string, Pair> {
  let pairs = index.get(map);
  if (pairs === undefined) {
    pairs = new Map();
    for (const pair of map.items) {
      const key = isPair(pair) ? keyOf(pair) : undefined;
      if (key !== undefined && !pairs.has(key)) pairs.set(key, pair);
    }
    index.set(map, pairs);
  }
  return pairs;
}

function toPosition(p: { line: number; col: number }): Position {
  return { line: p.line, column: p.col };
}

/** The node at exactly this path, or undefined. */
function nodeAt(
  doc: Document,
  path: readonly PathSegment[],
  index: WeakMap<YAMLMap, Map<string, Pair>>,
): Node | undefined {
  let node: unknown = doc.contents;
  for (const segment of path) {
    if (isMap(node)) node = pairsOf(node, index).get(String(segment))?.value;
    else if (isSeq(node) && typeof segment === 'number') node = node.items[segment];
    else return undefined;
  }
  return (node ?? undefined) as Node | undefined;
}

function locateIn(
  doc: Document,
  path: readonly PathSegment[],
  at: (node: Node | null | undefined) => Position | undefined,
  key: boolean,
  index: WeakMap<YAMLMap, Map<string, Pair>>,
): Position {
  let node: unknown = doc.contents;
  let found = at(node as Node) ?? START;
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = pairsOf(node, index).get(String(segment));
      if (pair === undefined) return found;
      const keyPos = at(pair.key as Node);
      if (last && key) return keyPos ?? found;
      // A key with no value (`port:`) points at its key.
      node = pair.value;
      found = at(node as Node) ?? keyPos ?? found;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      found = at(node as Node) ?? found;
    } else {
      return found;
    }
  }
  return found;
}
