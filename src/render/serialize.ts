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

function scalar(value: unknown): string {
  if (typeof value === 'string') return PLAIN.test(value) && !RESERVED.test(value) ? value : quoted(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  throw new TypeError(`cannot serialize ${typeof value} as YAML`);
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isEmptyMap(map: Record<string, unknown>): boolean {
  for (const key in map) if (map[key] !== undefined) return false;
  return true;
}

/** A value that fits after `key: ` or `- ` on the same line, or undefined when it needs a block. */
function inline(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
  if (isMap(value)) return isEmptyMap(value) ? '{}' : undefined;
  return scalar(value);
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
 * Maps every student shares (probes, resources, security contexts) are one frozen object
 * in a render (see SharedParts in objects.ts), so their text is written once per indent.
 */
const frozenTexts = new WeakMap<object, Map<string, string>>();

function mapBlock(map: Record<string, unknown>, indent: string): string {
  if (!Object.isFrozen(map)) return emitMap(map, indent);
  let byIndent = frozenTexts.get(map);
  if (byIndent === undefined) frozenTexts.set(map, (byIndent = new Map<string, string>()));
  let text = byIndent.get(indent);
  if (text === undefined) byIndent.set(indent, (text = emitMap(map, indent)));
  return text;
}

/** A map's lines; `firstPrefix` replaces the indent of its first line (`- ` in a list). */
function emitMap(map: Record<string, unknown>, indent: string, firstPrefix = indent): string {
  // Strings are concatenated, not joined: V8 keeps them as ropes until the text is read.
  let out = '';
  let prefix = firstPrefix;
  const keys = Object.keys(map);
  // The default sort compares UTF-16 code units: the same order on every machine.
  if (keys.length > 1) keys.sort();
  for (const key of keys) {
    const value = map[key];
    if (value === undefined) continue;
    const head = keyText(key);
    const short = inline(value);
    if (short !== undefined) {
      out += `${prefix}${head} ${short}\n`;
    } else {
      out += `${prefix}${head}\n${nested(value as object, `${indent}  `)}`;
    }
    prefix = indent;
  }
  return out;
}

/** A map or list that takes lines of its own, at `indent`. */
function nested(value: object, indent: string): string {
  return Array.isArray(value) ? emitList(value, indent) : mapBlock(value as Record<string, unknown>, indent);
}

function emitList(list: readonly unknown[], indent: string): string {
  let out = '';
  for (const item of list) {
    const short = inline(item);
    if (short !== undefined) out += `${indent}- ${short}\n`;
    else if (Array.isArray(item)) out += `${indent}-\n${nested(item, `${indent}  `)}`;
    else out += emitMap(item as Record<string, unknown>, `${indent}  `, `${indent}- `);
  }
  return out;
}

/** One YAML document for a map (without the `---` line). */
export function toYaml(value: Record<string, unknown>): string {
  return emitMap(value, '');
}

/** One document of a multi-document stream, introduced by `---`. */
export const yamlDocument = (object: KubeObject): string => `---\n${toYaml(object)}`;

/** A multi-document stream. */
export function objectsToYaml(objects: readonly KubeObject[]): string {
  return objects.map(yamlDocument).join('');
}
