// Compiles the schema validators ahead of time (ajv standalone code) into dist/validators/,
// so the CLI does not compile them on every start. Run by `npm run build`, after tsc.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { VALIDATORS, ajvOptions, compiledValidatorFile, loadSchema } from '../dist/schemas.js';

const out = new URL('../dist/validators/', import.meta.url);
mkdirSync(out, { recursive: true });
for (const { name, options } of VALIDATORS) {
  const ajv = new Ajv2020({ ...ajvOptions(options), code: { source: true } });
  const code = standaloneCode(ajv, ajv.compile(loadSchema(name)));
  writeFileSync(new URL(compiledValidatorFile(name, options), out), code);
}
