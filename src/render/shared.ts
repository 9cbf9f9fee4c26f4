/**
 * Parts of students' objects that depend only on the config, or on a value many students
 * share (a port, a health endpoint): built once per config, frozen, and handed to every
 * student. Ten thousand students then hold one copy, and the serializer writes each
 * part's text once (isSharedPart).
 */
import type { RenderConfig } from '../config.js';

/** Every object inside a shared part: the serializer may reuse their text, as none of them can change. */
const frozenParts = new WeakSet<object>();

/** Asked of every nested map and list written: most are not frozen, which is a cheaper question than the set's. */
export const isSharedPart = (value: object): boolean => Object.isFrozen(value) && frozenParts.has(value);

/** Freezes a value and everything in it, so a part shared by every student cannot change under one of them. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !frozenParts.has(value)) {
    for (const field of Object.values(value)) deepFreeze(field);
    Object.freeze(value);
    frozenParts.add(value);
  }
  return value;
}

/** Keys are the config's parts and the ports and health endpoints students share: few, unless a roster is odd. */
const MAX_SHARED_PARTS = 4096;

export class SharedParts {
  private readonly byKey = new Map<string, unknown>();

  /**
   * The part for `key`, built by `make` the first time. `make` may read only the config and
   * what the key says (`ports:5000` reads the port, nothing else of the entry): whatever else
   * it read would go from the first student to all. Past MAX_SHARED_PARTS keys, built each time.
   */
  get<T>(key: string, make: () => T): T {
    let part = this.byKey.get(key) as T | undefined;
    if (part === undefined) {
      part = deepFreeze(make());
      if (this.byKey.size < MAX_SHARED_PARTS) this.byKey.set(key, part);
    }
    return part;
  }
}

const sharedByConfig = new WeakMap<RenderConfig, SharedParts>();

export function sharedParts(render: RenderConfig): SharedParts {
  let parts = sharedByConfig.get(render);
  if (parts === undefined) sharedByConfig.set(render, (parts = new SharedParts()));
  return parts;
}
