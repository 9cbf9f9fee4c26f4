/**
 * A roster file's bytes in, a RosterReport out: parse, check the published schema, then
 * apply the course's rules. Pure: no I/O, same input gives the same report.
 */
import type { ErrorObject } from 'ajv';
import type { PolicyConfig } from '../config.js';
import { loadSchema, schemaValidator } from '../schemas.js';
import {
  compareFindings,
  ENTRY_DEFAULTS,
  entriesWithErrors,
  hasErrors,
  type EntryResult,
  type Finding,
  type RosterMetadata,
  type RosterReport,
  type StudentEntry,
  NO_FINAL_NEWLINE,
  NO_METADATA,
} from './model.js';
import { LONE_CR, parseRoster, positionAt, type ParsedRoster, type PathSegment } from './parse.js';
import { quote } from '../unsafe-characters.js';
import {
  checkCharacters,
  checkContainerImage,
  checkEndpoint,
  checkGithubUsername,
  checkName,
  checkNamespace,
  checkPort,
  weekFromFileName,
  type Problem,
} from './rules.js';
import { findSecrets } from './secrets.js';
import { suggestKey } from './suggest.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys each mapping may hold, and those an entry must, read from the schema so the two never disagree. */
function knownKeys(): { top: string[]; metadata: string[]; entry: string[]; entryRequired: string[] } {
  const schema = loadSchema('roster') as {
    properties: Json & { metadata: { properties: Json } };
    $defs: { student: { properties: Json; required: string[] } };
  };
  return {
    top: Object.keys(schema.properties),
    metadata: Object.keys(schema.properties.metadata.properties),
    entry: Object.keys(schema.$defs.student.properties),
    entryRequired: schema.$defs.student.required,
  };
}
const KEYS = knownKeys();

/** The keys the mapping at `path` may hold. */
function keysAt(path: readonly PathSegment[]): string[] {
  return path.length === 0 ? KEYS.top : path[0] === 'metadata' ? KEYS.metadata : KEYS.entry;
}

/** Fields whose values the course rules check in students' words; the schema only checks their type. */
const RULE_FIELDS = new Set([
  'name',
  'github_username',
  'container_image',
  'student_endpoint',
  'health_endpoint',
  'port',
  'namespace',
]);

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list of entries (lines starting with "- ")',
  object: 'a mapping of `key: value` lines',
  null: 'empty',
};

/** What YAML's own tags (`!!binary`, `!!timestamp`, `!!set`) make of a value, in the type message. */
function taggedType(value: unknown): string | undefined {
  if (value instanceof Uint8Array) return 'binary data (a `!!binary` value)';
  if (value instanceof Date) return 'a date (a `!!timestamp` value)';
  if (value instanceof Set) return 'a set (a `!!set` value)';
  return undefined;
}

function typeOf(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  const tagged = taggedType(value);
  if (tagged !== undefined) return tagged;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a number' : `a decimal number (${value})`;
  return typeof value === 'boolean' ? `${value}` : typeof value;
}

function pathOf(instancePath: string): PathSegment[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(path: readonly PathSegment[]): string {
  if (path[0] === 'students' && typeof path[1] === 'number') {
    return path.length === 2 ? `Entry ${path[1] + 1}` : String(path[path.length - 1]);
  }
  return path.length === 0 ? 'The file' : path.join('.');
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  return path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as Json)[k as string] : undefined),
    data,
  );
}

interface Context {
  readonly file: string;
  readonly parsed: ParsedRoster;
  readonly findings: Finding[];
}

function entryIndexOf(path: readonly PathSegment[]): number | undefined {
  return path[0] === 'students' && typeof path[1] === 'number' ? path[1] : undefined;
}

function add(ctx: Context, path: readonly PathSegment[], problem: Problem, at: 'value' | 'key' = 'value'): void {
  const pos = at === 'key' ? ctx.parsed.locateKey(path) : ctx.parsed.locate(path);
  const entryIndex = entryIndexOf(path);
  ctx.findings.push({
    ...problem,
    file: ctx.file,
    line: pos.line,
    column: pos.column,
    ...(entryIndex === undefined ? {} : { entryIndex }),
  });
}

function schemaProblem(ctx: Context, error: ErrorObject, data: unknown): void {
  const path = pathOf(error.instancePath);
  const where = describe(path);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const known = keysAt(path);
      const guess = suggestKey(key, known);
      add(
        ctx,
        [...path, key],
        {
          code: 'unknown-key',
          severity: 'warning',
          message: `${quote(key)} is not a field classops knows, so it is ignored.`,
          hint: guess ? `Did you mean "${guess}"?` : `Known fields here: ${known.join(', ')}.`,
        },
        'key',
      );
      return;
    }
    case 'required': {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      const holder = valueAt(data, path);
      const known = keysAt(path);
      const misspelt = isObject(holder)
        ? Object.keys(holder).find((k) => !known.includes(k) && suggestKey(k, known) === missing)
        : undefined;
      add(ctx, path, {
        code: 'schema-required',
        severity: 'error',
        message: `${where} has no "${missing}".`,
        hint: misspelt
          ? `It has ${quote(misspelt)} instead: rename it to "${missing}".`
          : missing === 'students'
            ? 'Add a `students:` list; it may hold only comments while nobody has signed up.'
            : `Add a line \`${missing}: …\`${path.length > 0 ? ' to this entry, lined up with its other fields' : ''}.`,
      });
      return;
    }
    case 'type': {
      const expected = String((error.params as { type: string | string[] }).type).split(',')[0] ?? 'string';
      const actual = valueAt(data, path);
      const numeric = typeof actual === 'string' && /^\d+$/.test(actual.trim());
      const hint =
        expected === 'integer' && numeric
          ? `Write the number without quotes: ${path[path.length - 1]}: ${actual.trim()}.`
          : expected === 'string' && (typeof actual === 'number' || typeof actual === 'boolean')
            ? `Put the value in quotes: "${String(actual)}".`
            : expected === 'object' && entryIndexOf(path) !== undefined && path.length === 2
              ? 'Write each entry as `- name: …` followed by its fields, each on its own line.'
              : expected === 'array'
                ? 'Write the entries as a list: each one starts with "- " on its own line under `students:`.'
                : taggedType(actual) !== undefined
                  ? `Remove the tag that starts with "!!" and write ${TYPE_WORDS[expected] ?? expected} here.`
                  : `Write ${TYPE_WORDS[expected] ?? expected} here.`;
      add(ctx, path, {
        code: 'schema-type',
        severity: 'error',
        message: `${where} must be ${TYPE_WORDS[expected] ?? expected}, but it is ${typeOf(actual)}.`,
        hint,
      });
      return;
    }
    case 'const':
      add(ctx, path, {
        code: 'schema-value',
        severity: 'error',
        message: `${where} must be "${String((error.params as { allowedValue: unknown }).allowedValue)}".`,
        hint: `Write: ${path.join('.')}: ${String((error.params as { allowedValue: unknown }).allowedValue)}`,
      });
      return;
    case 'pattern':
      if (path[0] === 'apiVersion') {
        add(ctx, path, {
          code: 'schema-value',
          severity: 'error',
          message: 'apiVersion must be an API group at version v1.',
          hint: 'Write: apiVersion: container-course.ziyotek.edu/v1',
        });
        return;
      }
      break;
    case 'minimum':
    case 'maximum':
      if (path[0] === 'metadata' && path[1] === 'week') {
        add(ctx, path, {
          code: 'schema-value',
          severity: 'error',
          message: `metadata.week must be between 1 and 99.`,
          hint: 'Write the number of the week, the NN of the file name week-NN.yaml.',
        });
        return;
      }
      break;
  }
  add(ctx, path, { code: 'schema-value', severity: 'error', message: `${where} ${error.message ?? 'is invalid'}.` });
}

function checkSchema(ctx: Context, data: unknown): void {
  const validate = schemaValidator('roster', { useDefaults: false });
  if (validate(data)) return;
  const errors = validate.errors ?? [];
  const typeErrorAt = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  for (const error of errors) {
    const path = pathOf(error.instancePath);
    const field = path[path.length - 1];
    const ruled = typeof field === 'string' && RULE_FIELDS.has(field) && path[0] !== undefined;
    if (error.keyword !== 'type' && typeErrorAt.has(error.instancePath)) continue;
    if (ruled && !['type', 'required', 'additionalProperties'].includes(error.keyword)) continue;
    schemaProblem(ctx, error, data);
  }
}

function checkEntries(ctx: Context, students: readonly unknown[], policy: PolicyConfig): void {
  const seen = new Map<string, number[]>();
  students.forEach((raw, i) => {
    if (!isObject(raw)) return;
    const at = (field: string) => ['students', i, field];
    const str = (field: string) => (typeof raw[field] === 'string' ? raw[field] : undefined);
    const run = (field: string, problems: Problem[]) => problems.forEach((p) => add(ctx, at(field), p));

    const name = str('name');
    if (name !== undefined) run('name', checkName(name));
    const login = str('github_username');
    if (login !== undefined) {
      run('github_username', checkGithubUsername(login));
      seen.set(login.toLowerCase(), [...(seen.get(login.toLowerCase()) ?? []), i]);
    }
    const image = str('container_image');
    if (image !== undefined) run('container_image', checkContainerImage(image, login, policy));
    for (const field of ['student_endpoint', 'health_endpoint']) {
      const path = str(field);
      if (path !== undefined) run(field, checkEndpoint(field, path));
    }
    if (typeof raw['port'] === 'number' && Number.isInteger(raw['port'])) {
      run('port', checkPort(raw['port'], ctx.parsed.sourceAt(at('port'))));
    }
  });

  for (const [login, indexes] of seen) {
    if (indexes.length < 2) continue;
    const lines = indexes.map((i) => ctx.parsed.locate(['students', i, 'github_username']).line);
    indexes.forEach((i) =>
      add(ctx, ['students', i, 'github_username'], {
        code: 'username-duplicate',
        severity: 'error',
        message: `${quote(login)} has ${indexes.length} entries in this file (lines ${lines.join(', ')}); usernames are compared without regard to case.`,
        hint: 'Each student has exactly one entry per week: edit your existing entry instead of adding another.',
      }),
    );
  }
}

function checkMetadata(ctx: Context, data: Json): RosterMetadata {
  const metadata = isObject(data['metadata']) ? data['metadata'] : {};
  const week =
    typeof metadata['week'] === 'number' && Number.isInteger(metadata['week']) ? metadata['week'] : undefined;
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : undefined;
  const semester = typeof metadata['semester'] === 'string' ? metadata['semester'] : undefined;
  const fileWeek = weekFromFileName(ctx.file);
  if (fileWeek === undefined) {
    add(ctx, [], {
      code: 'file-name',
      severity: 'warning',
      message: 'Roster files are named week-NN.yaml (two digits), so the week can be checked.',
      hint: 'Rename the file, e.g. to week-01.yaml.',
    });
  } else if (week !== undefined && week !== fileWeek) {
    add(ctx, ['metadata', 'week'], {
      code: 'week-mismatch',
      severity: 'error',
      message: `metadata.week is ${week}, but the file is named for week ${fileWeek}.`,
      hint: `Write week: ${fileWeek}, or move the entries to week-${String(week).padStart(2, '0')}.yaml.`,
    });
  }
  if (namespace !== undefined) checkNamespace(namespace).forEach((p) => add(ctx, ['metadata', 'namespace'], p));
  if (semester !== undefined)
    checkCharacters('schema-value', 'metadata.semester', semester).forEach((p) =>
      add(ctx, ['metadata', 'semester'], p),
    );
  const headerLine = isObject(data['metadata']) ? ctx.parsed.locateKey(['metadata']).line : 1;
  const namespaceLine = namespace !== undefined ? ctx.parsed.locate(['metadata', 'namespace']).line : headerLine;
  return { week, semester, namespace, headerLine, namespaceLine };
}

/**
 * A file cut short (`head -c`, a failed copy) usually still parses, having lost the students
 * after the cut and part of the last one; it ends without a line break, which editors and
 * git write. Such a file is held back whole, so it changes and removes no one.
 */
function checkFinalLineBreak(ctx: Context): void {
  const { text } = ctx.parsed;
  // In a file of CR line endings, a CR ends the last line too (file-cr-line-endings holds it back).
  if (text === '' || text.endsWith('\n') || (text.endsWith('\r') && LONE_CR.test(text))) return;
  // An editor's indentation left on an empty last line looks like a line break to the eye.
  const blank = text.slice(text.lastIndexOf('\n') + 1).trim() === '' ? ' (its last line holds only spaces)' : '';
  ctx.findings.push({
    code: NO_FINAL_NEWLINE,
    severity: 'error',
    message: `The file does not end with a line break${blank}, as a file cut short would not: until it does, nothing in this week changes.`,
    hint: 'Compare the file with its previous revision first, and restore anything a cut lost; then end it with a line break (editors can on save: "insert final newline").',
    file: ctx.file,
    ...positionAt(text, text.length),
  });
}

function toEntry(raw: Json): StudentEntry {
  return {
    name: raw['name'] as string,
    githubUsername: raw['github_username'] as string,
    containerImage: raw['container_image'] as string,
    studentEndpoint: (raw['student_endpoint'] as string | undefined) ?? ENTRY_DEFAULTS.studentEndpoint,
    healthEndpoint: (raw['health_endpoint'] as string | undefined) ?? ENTRY_DEFAULTS.healthEndpoint,
    port: (raw['port'] as number | undefined) ?? ENTRY_DEFAULTS.port,
  };
}

export function validateRoster(file: string, bytes: Uint8Array, policy: PolicyConfig): RosterReport {
  const parsed = parseRoster(file, bytes, policy.limits);
  const ctx: Context = { file, parsed, findings: [...parsed.findings, ...findSecrets(file, parsed.text)] };
  const data = parsed.data;
  const done = (metadata: RosterMetadata, entries: EntryResult[]): RosterReport => {
    const findings = ctx.findings.sort(compareFindings);
    const complete = parsed.data !== undefined && !hasErrors(findings.filter((f) => f.entryIndex === undefined));
    const studentsLine = parsed.data === undefined ? 1 : parsed.locateKey(['students']).line;
    return { file, complete, metadata, studentsLine, entries, findings };
  };
  // Before the YAML's own errors return: a file cut short often does not parse either.
  checkFinalLineBreak(ctx);
  if (data === undefined) return done(NO_METADATA, []);
  if (!isObject(data)) {
    add(ctx, [], {
      code: 'schema-type',
      severity: 'error',
      message: `The file must be a mapping with apiVersion, kind, metadata and students, but it is ${typeOf(data)}.`,
      hint: 'Copy the header of an existing week file and add your entry under `students:`.',
    });
    return done(NO_METADATA, []);
  }

  const students = Array.isArray(data['students']) ? (data['students'] as unknown[]) : [];
  if (students.length > policy.limits.maxEntries) {
    add(ctx, ['students'], {
      code: 'too-many-entries',
      severity: 'error',
      message: `The file has ${students.length} entries; at most ${policy.limits.maxEntries} are allowed.`,
      hint: 'Split the roster by week, or ask an instructor to raise policy.limits.maxEntries.',
    });
    return done(checkMetadata(ctx, data), []);
  }
  checkSchema(ctx, data);
  const metadata = checkMetadata(ctx, data);
  checkEntries(ctx, students, policy);

  const broken = entriesWithErrors(ctx.findings);
  const entries = students.map((raw, index): EntryResult => {
    const at = parsed.locate(['students', index]);
    const image = parsed.locate(['students', index, 'container_image']);
    const text = (field: string) => (isObject(raw) && typeof raw[field] === 'string' ? raw[field] : undefined);
    const valid = isObject(raw) && !broken.has(index);
    return {
      index,
      line: at.line,
      imageLine: image.line,
      imageColumn: image.column,
      githubUsername: text('github_username'),
      name: text('name'),
      containerImage: text('container_image'),
      raw,
      source: parsed.sourceAt(['students', index]) ?? '',
      entry: valid ? toEntry(raw) : undefined,
      // Empty text too: a block scalar (`>-`) cut after its first line reads as "".
      fragment:
        !isObject(raw) || KEYS.entryRequired.some((key) => typeof raw[key] !== 'string' || raw[key].trim() === ''),
    };
  });
  return done(metadata, entries);
}
