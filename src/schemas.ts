/**
 * The published JSON schemas in `schemas/` and their validators (ajv, 2020-12).
 *
 * `npm run build` compiles each validator ahead of time into dist/validators/ with ajv's
 * standalone code (scripts/compile-schemas.mjs), because compiling them at start-up was
 * most of what `classops validate` spent. Running from the sources (Jest), where no
 * compiled validator sits beside this module, they are compiled here from the same options.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Options, ValidateFunction } from 'ajv';

const SCHEMA_DIR = new URL('../schemas/', import.meta.url);
const COMPILED_DIR = new URL('./validators/', import.meta.url);
// ajv and the standalone validators are CommonJS; require keeps loading them synchronous.
const requireCjs = createRequire(import.meta.url);

export type SchemaName = 'roster' | 'config' | 'gallery-targets';

export interface ValidatorOptions {
  /** Fill in schema defaults, so the schema is the single place where defaults live. */
  readonly useDefaults: boolean;
}

/** Every validator the code asks for: the build compiles exactly these. */
export const VALIDATORS: ReadonlyArray<{ readonly name: SchemaName; readonly options: ValidatorOptions }> = [
  { name: 'roster', options: { useDefaults: false } },
  { name: 'config', options: { useDefaults: true } },
  { name: 'gallery-targets', options: { useDefaults: false } },
];

const compiled = new Map<string, ValidateFunction>();

export function loadSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`${name}.schema.json`, SCHEMA_DIR), 'utf8')) as Record<string, unknown>;
}

/** The ajv options of a validator, shared by the build and the fallback so both compile the same code. */
export function ajvOptions(options: ValidatorOptions): Options {
  return { allErrors: true, strict: true, useDefaults: options.useDefaults };
}

/** The file name of a validator compiled ahead of time. */
export function compiledValidatorFile(name: SchemaName, options: ValidatorOptions): string {
  return `${name}${options.useDefaults ? '.defaults' : ''}.cjs`;
}

function compileNow(name: SchemaName, options: ValidatorOptions): ValidateFunction {
  const { Ajv2020 } = requireCjs('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  return new Ajv2020(ajvOptions(options)).compile(loadSchema(name));
}

/** A validator for one schema: the one compiled by the build when there is one. */
export function schemaValidator(name: SchemaName, options: ValidatorOptions): ValidateFunction {
  const file = compiledValidatorFile(name, options);
  let validate = compiled.get(file);
  if (validate === undefined) {
    const path = fileURLToPath(new URL(file, COMPILED_DIR));
    validate = existsSync(path) ? (requireCjs(path) as ValidateFunction) : compileNow(name, options);
    compiled.set(file, validate);
  }
  return validate;
}
