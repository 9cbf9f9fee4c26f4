/** Loads the published JSON schemas in `schemas/` and compiles them once with ajv (2020-12). */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

const SCHEMA_DIR = new URL('../schemas/', import.meta.url);

export type SchemaName = 'roster' | 'config' | 'gallery-targets';

const compiled = new Map<string, ValidateFunction>();

export function loadSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`${name}.schema.json`, SCHEMA_DIR), 'utf8')) as Record<string, unknown>;
}

/**
 * A validator for one schema. `useDefaults` fills in schema defaults, so the schema is
 * the single place where defaults live.
 */
export function schemaValidator(name: SchemaName, options: { useDefaults: boolean }): ValidateFunction {
  const key = `${name}:${options.useDefaults}`;
  let validate = compiled.get(key);
  if (validate === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, useDefaults: options.useDefaults });
    validate = ajv.compile(loadSchema(name));
    compiled.set(key, validate);
  }
  return validate;
}
