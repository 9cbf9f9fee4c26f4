/**
 * Objects to YAML text: block style, keys sorted, so equal objects give equal bytes.
 *
 * Rendered objects are plain data (maps, lists, strings, numbers, booleans), so a small
 * emitter does what a general YAML library does ten times slower. A string is written
 * plain only when no YAML 1.1 or 1.2 parser (kubectl's go-yaml among them) could read it
 * as anything but that string; otherwise it is a JSON string, which is valid YAML
 * double-quoted text. Whatever a student wrote therefore stays one string.
 */
import type { KubeObject } from './objects.js';
import { isSharedPart } from './shared.js';

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@-]*(?::[A-Za-z0-9_./@-]+)*$/;
const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null)$/i;
/**
 * What go-yaml (kubectl, kustomize, Argo CD, Flux) refuses even escaped: DEL, C1 controls,
 * U+FFFE/U+FFFF and lone surrogates (which UTF-8 cannot hold). Validation rejects them in
 * student fields; should one slip through, it becomes U+FFFD so the tree stays readable.
 */
const REFUSED = /[\u007f-\u009f\ufffe\uffff\ud800-\udfff]/gu;
/** Readable only escaped: YAML 1.1 reads U+2028/U+2029 as line breaks, and U+FEFF is a byte-order mark. */
const ESCAPED = /[\u2028\u2029\ufeff]/g;

/** Printable ASCII: JSON's escapes alone make it a valid double-quoted scalar. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** A double-quoted YAML scalar: JSON's escapes (valid YAML) plus the ones YAML readers need. */
function quoted(value: string): string {
  if (PRINTABLE_ASCII.test(value)) return JSON.stringify(value);
  return JSON.stringify(value.replace(REFUSED, '\ufffd')).replace(ESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** The longest word RESERVED matches: longer strings need only the PLAIN test. */
const RESERVED_MAX = 'false'.length;
const plain = (value: string) => PLAIN.test(value) && !(value.length <= RESERVED_MAX && RESERVED.test(value));

function scalar(value: unknown): string {
  if (typeof value === 'string') return plain(value) ? value : quoted(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  throw new TypeError(`cannot serialize ${typeof value} as YAML`);
}

function isEmptyMap(map: Record<string, unknown>): boolean {
  for (const key in map) if (map[key] !== undefined) return false;
  return true;
}

/** A value that fits after `key: ` or `- ` on the same line, or undefined when it needs a block. */
function inline(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return scalar(value);
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
  return isEmptyMap(value as Record<string, unknown>) ? '{}' : undefined;
}

/**
 * Keys repeat on every object (the same few dozen field, label and annotation names), so
 * each is checked and quoted once. Bounded, so odd input cannot grow it without end.
 */
const keyTexts = new Map<string, string>();
const MAX_KEY_TEXTS = 4096;

function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = `${scalar(key)}:`;
    if (keyTexts.size < MAX_KEY_TEXTS) keyTexts.set(key, text);
  }
  return text;
}

/**
 * Maps built by the same code list the same keys in the same order, so each order is
 * sorted once and found again by comparing the keys, not sorting them: a tenth of the
 * emitter's time for ten thousand students. Bounded like keyTexts.
 */
const sortedOrders = new Map<string, Array<{ readonly keys: readonly string[]; readonly sorted: string[] }>>();
const MAX_SORTED_ORDERS = 1024;
/** Orders kept per first key: the scan for a map's order stays short. */
const MAX_ORDERS_PER_FIRST_KEY = 16;
let sortedOrderCount = 0;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The keys in sorted order. The default sort compares UTF-16 code units: the same order on every machine. */
function sortedKeys(keys: string[]): readonly string[] {
  if (keys.length < 2) return keys;
  let known = sortedOrders.get(keys[0]!);
  for (const order of known ?? []) if (sameKeys(order.keys, keys)) return order.sorted;
  const sorted = [...keys].sort();
  if (sortedOrderCount < MAX_SORTED_ORDERS && (known?.length ?? 0) < MAX_ORDERS_PER_FIRST_KEY) {
    if (known === undefined) sortedOrders.set(keys[0]!, (known = []));
    known.push({ keys, sorted });
    sortedOrderCount += 1;
  }
  return sorted;
}

/** The text of each shared part (see render/shared.ts) by indent: written once, as it never changes. */
const sharedTexts = new WeakMap<object, Map<string, string>>();

/** A map or list on lines of its own at `indent`; a shared part's text comes from what was written before. */
function emitBlock(value: object, indent: string, out: string[]): void {
  if (!isSharedPart(value)) return emitMapOrList(value, indent, out);
  let byIndent = sharedTexts.get(value);
  if (byIndent === undefined) sharedTexts.set(value, (byIndent = new Map<string, string>()));
  let text = byIndent.get(indent);
  if (text === undefined) {
    const lines: string[] = [];
    emitMapOrList(value, indent, lines);
    byIndent.set(indent, (text = lines.join('')));
  }
  out.push(text);
}

function emitMapOrList(value: object, indent: string, out: string[]): void {
  if (Array.isArray(value)) emitList(value, indent, out);
  else emitMap(value as Record<string, unknown>, indent, out);
}

/**
 * Appends lines to `out`; `firstPrefix` replaces the indent of the first line (`- ` in a
 * list). One array joined at the end gives flat text: writers and hashes read it at once,
 * where text concatenated piece by piece would be walked piece by piece.
 */
function emitMap(map: Record<string, unknown>, indent: string, out: string[], firstPrefix = indent): void {
  let prefix = firstPrefix;
  for (const key of sortedKeys(Object.keys(map))) {
    const value = map[key];
    if (value === undefined) continue;
    const head = keyText(key);
    const short = inline(value);
    if (short !== undefined) {
      out.push(`${prefix}${head} ${short}\n`);
    } else {
      out.push(`${prefix}${head}\n`);
      emitBlock(value as object, `${indent}  `, out);
    }
    prefix = indent;
  }
}

function emitList(list: readonly unknown[], indent: string, out: string[]): void {
  for (const item of list) {
    const short = inline(item);
    if (short !== undefined) {
      out.push(`${indent}- ${short}\n`);
    } else if (Array.isArray(item)) {
      out.push(`${indent}-\n`);
      emitBlock(item, `${indent}  `, out);
    } else {
      emitMap(item as Record<string, unknown>, `${indent}  `, out, `${indent}- `);
    }
  }
}

/** One YAML document for a map (without the `---` line). */
export function toYaml(value: Record<string, unknown>): string {
  const out: string[] = [];
  emitMap(value, '', out);
  return out.join('');
}

/** One document of a multi-document stream, introduced by `---`. */
export const yamlDocument = (object: KubeObject): string => `---\n${toYaml(object)}`;

/** A multi-document stream. */
export function objectsToYaml(objects: readonly KubeObject[]): string {
  return objects.map(yamlDocument).join('');
}
