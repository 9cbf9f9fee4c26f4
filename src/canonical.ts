/** Canonical JSON and hashes of plain data: equal data gives equal text, whatever the key order. */
import { hash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const map = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, the same order everywhere.
  const keys = Object.keys(map).sort();
  let out = '{';
  for (const key of keys) {
    const v = map[key];
    if (v === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/** A 128-bit hex digest of a text: short enough for an annotation, long enough to never collide by chance. */
export function textHash(text: string): string {
  return hash('sha256', text, 'hex').slice(0, 32);
}

/** The text hash of the canonical form. */
export function contentHash(value: unknown): string {
  return textHash(canonicalJson(value));
}
