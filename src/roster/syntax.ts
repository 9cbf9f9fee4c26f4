/**
 * Turns a YAML syntax error into one finding a beginner can act on. The YAML parser
 * often notices a problem a line or two after its cause, so the roster's own shape
 * (a `students:` list of flat mappings) is read line by line first to find the line
 * whose indentation or colon is off; the parser's own error is the fallback.
 */
import type { YAMLError } from 'yaml';
import type { Finding } from './model.js';
import type { Position } from './parse.js';
import { codePoint } from './rules.js';
import { quote } from '../unsafe-characters.js';

interface Line {
  readonly number: number;
  readonly indent: number;
  /** The text after the indentation, without a trailing comment-only line. */
  readonly body: string;
}

const KEY_VALUE = /^[A-Za-z0-9_-]+\s*:(\s|$)/;
/** A line that opens a value continued on the next lines (`key:` alone, or a block scalar). */
const OPENS_BLOCK = /:\s*([|>][-+0-9]*)?\s*(#.*)?$/;

function contentLines(text: string): Line[] {
  return text.split(/\r?\n/).flatMap((raw, i) => {
    const body = raw.trimStart();
    if (body === '' || body.startsWith('#')) return [];
    return [{ number: i + 1, indent: raw.length - body.length, body: body.trimEnd() }];
  });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Where a hand-written roster first breaks its own indentation or leaves out a colon. */
function diagnoseRosterShape(file: string, text: string): Finding | undefined {
  const lines = contentLines(text);
  const start = lines.findIndex((l) => l.indent === 0 && /^students\s*:\s*(#.*)?$/.test(l.body));
  if (start === -1) return undefined;

  let entry: { line: Line; fieldIndent: number } | undefined;
  let field: Line | undefined;
  let insideBlock = false;
  for (const line of lines.slice(start + 1)) {
    if (line.indent === 0 && !line.body.startsWith('-')) break; // the next top-level key
    const found = (message: string, hint: string): Finding => ({
      code: 'yaml-indentation',
      severity: 'error',
      message,
      hint,
      file,
      line: line.number,
      column: line.indent + 1,
    });
    if (insideBlock && field !== undefined && line.indent > field.indent) continue;
    insideBlock = false;

    const item = /^-(\s+)(.*)$/.exec(line.body) ?? (line.body === '-' ? ['-', ' ', ''] : null);
    if (item !== null) {
      if (entry !== undefined && line.indent !== entry.line.indent) {
        return found(
          `This entry is indented ${plural(line.indent, 'space')}; the entries above (line ${entry.line.number}) use ${entry.line.indent}.`,
          `Start the "-" of every entry in the same column: indent it ${plural(entry.line.indent, 'space')}.`,
        );
      }
      entry = { line, fieldIndent: line.indent + 1 + (item[1]?.length ?? 1) };
      const rest = item[2] ?? '';
      if (rest !== '' && !KEY_VALUE.test(rest)) return missingColon(file, line, rest, entry.fieldIndent);
      field = { number: line.number, indent: entry.fieldIndent, body: rest };
      insideBlock = OPENS_BLOCK.test(rest);
      continue;
    }
    if (entry === undefined) continue;
    if (line.indent !== entry.fieldIndent) {
      const above = field ?? entry.line;
      return found(
        `This line is indented ${plural(line.indent, 'space')}; the fields of this entry above (line ${above.number}) use ${entry.fieldIndent}.`,
        `Line up every field of an entry under the first one: indent it ${plural(entry.fieldIndent, 'space')}.`,
      );
    }
    if (!KEY_VALUE.test(line.body)) return missingColon(file, line, line.body, line.indent);
    field = line;
    insideBlock = OPENS_BLOCK.test(line.body);
  }
  return undefined;
}

function missingColon(file: string, line: Line, body: string, column: number): Finding | undefined {
  const word = /^[A-Za-z0-9_-]+/.exec(body)?.[0];
  if (word === undefined) return undefined;
  return {
    code: 'yaml-missing-colon',
    severity: 'error',
    message: `"${word}" is not followed by a colon, so YAML cannot tell the key from its value.`,
    hint: `Write it as \`${word}: value\`, with a colon and a space after the key.`,
    file,
    line: line.number,
    column: column + 1,
  };
}

/** An error of the file as YAML, at a position. */
const yamlError = (code: string, file: string, at: Position, message: string, hint: string): Finding => ({
  code,
  severity: 'error',
  message,
  hint,
  file,
  line: at.line,
  column: at.column,
});

/** A key repeated in one mapping; parse.ts finds both occurrences in one pass over the document. */
export function duplicateKeyFinding(
  file: string,
  key: string,
  line: number,
  column: number,
  firstLine: number | undefined,
): Finding {
  return yamlError(
    'yaml-duplicate-key',
    file,
    { line, column },
    `${quote(key)} appears twice in the same mapping${firstLine === undefined ? '' : ` (first on line ${firstLine})`}.`,
    'Keep one of the two lines. If you meant to add a second entry, start it with "- " on its own line.',
  );
}

/** The tags of YAML's schemas (1.1 and 1.2), after "!!". */
const YAML_TAGS = new Set([
  'str',
  'int',
  'float',
  'bool',
  'null',
  'map',
  'seq',
  'binary',
  'timestamp',
  'set',
  'omap',
  'pairs',
  'merge',
  'value',
  'yaml',
]);

/** A tag such as `!evil`: no YAML schema defines it, so each reader does as it likes. */
export function unknownTagFinding(file: string, tag: string, at: Position): Finding {
  // YAML's own tag on a value it does not fit (`!!float 8080`, `!!map` on a list) is not resolved either.
  const misplaced = YAML_TAGS.has(tag.replace(/^!!|^!<tag:yaml\.org,2002:|>$/g, ''));
  const what = misplaced ? 'does not fit the value after it' : 'is not one YAML defines';
  return yamlError(
    'yaml-unknown-tag',
    file,
    at,
    `The tag ${quote(tag)} ${what}; other YAML readers may read this value otherwise.`,
    `Remove ${quote(tag)} and keep the value after it.`,
  );
}

/**
 * `? [port]` or `*name :`: a key that is a list or mapping (which JavaScript would turn into
 * text) or an alias (which hides a duplicate key from the check that finds them).
 */
export function complexKeyFinding(file: string, kind: 'complex' | 'alias', source: string, at: Position): Finding {
  return yamlError(
    'yaml-complex-key',
    file,
    at,
    `A key here is ${kind === 'alias' ? 'an alias' : 'a list or mapping'} (${quote(source)}); keys in a roster are plain words, such as name or port.`,
    `Write the key as a word followed by a colon, e.g. port: 5000${kind === 'alias' ? '' : ', and remove the "?" line'}.`,
  );
}

/** A %YAML or %TAG line: it changes how the values below it read, differently for each reader. */
export function directiveFinding(file: string, directive: string): Finding {
  return yamlError(
    'yaml-directive',
    file,
    { line: 1, column: 1 },
    `The file starts with a ${quote(directive)} directive, which changes how its values read (under %YAML 1.1, No is false and 1:20 is 80), differently for each YAML reader.`,
    'Remove the line that starts with "%" and the "---" after it: a roster is plain YAML.',
  );
}

/** `<<:` merges a mapping in for YAML 1.1 readers (kubectl's), and is a plain key to this one. */
export function mergeKeyFinding(file: string, at: Position): Finding {
  return yamlError(
    'yaml-merge-key',
    file,
    at,
    '"<<" merges another mapping into this one for some YAML readers (kubectl\'s among them) and is a plain key for others, so they would read different entries.',
    'Write each field out in the entry itself, e.g. port: 5000.',
  );
}

/** Classic Mac OS line endings (CR alone), or a stray CR: readers disagree on where lines end. */
export function loneCarriageReturnFinding(file: string, at: Position): Finding {
  return yamlError(
    'file-cr-line-endings',
    file,
    at,
    'Lines in this file end with a carriage return alone (CR, "\\r"), as on classic Mac OS, or a stray CR is in a line; YAML readers disagree on where its lines end.',
    'Save the file with LF line endings (editors show the setting in the status bar), then check the lines are as you meant them.',
  );
}

/** NEL, LS or PS anywhere: in a comment, it would end the comment's line for kubectl and not here. */
export function otherLineBreakFinding(file: string, char: string, at: Position): Finding {
  return yamlError(
    'file-unicode-line-break',
    file,
    at,
    `The file holds ${codePoint(char)}, a line break to some YAML readers (kubectl's among them) and not to others, so they would read different rosters.`,
    'Retype the line by hand: such characters come from text copied out of a PDF, a chat or a word processor.',
  );
}

const FRIENDLY: Record<string, { message: string; hint: string }> = {
  TAB_AS_INDENT: {
    message: 'A tab is used for indentation; YAML allows only spaces.',
    hint: 'Replace the tab with spaces (two per level) and set your editor to insert spaces for Tab.',
  },
  BAD_INDENT: {
    message: 'The indentation of this line does not fit the lines above it.',
    hint: 'Line this line up with its siblings: every field of an entry starts in the same column.',
  },
  MISSING_CHAR: {
    message: 'YAML expected a character here that is missing (a colon after a key, or a closing quote or bracket).',
    hint: 'Check that every key is followed by ": " and that quotes and brackets are closed on this line or the one above.',
  },
  BLOCK_AS_IMPLICIT_KEY: {
    message: 'A list item or mapping starts where YAML expected a value; usually the indentation is off.',
    hint: 'Line this entry up with the entries above it: the "-" of every entry in the same column.',
  },
  MULTILINE_IMPLICIT_KEY: {
    message: 'A key runs over more than one line; usually a colon is missing on this line.',
    hint: 'Write every field as `key: value` on one line.',
  },
};

export function explainYamlError(file: string, text: string, error: YAMLError): Finding {
  const [line, column] = error.linePos ? [error.linePos[0].line, error.linePos[0].col] : [1, 1];
  if (error.code === 'TAB_AS_INDENT' || /tab/i.test(error.message)) {
    const tabLine = text.split(/\r?\n/).findIndex((l) => /^ *\t/.test(l));
    const f = FRIENDLY['TAB_AS_INDENT']!;
    return { code: 'yaml-tab', severity: 'error', ...f, file, line: tabLine === -1 ? line : tabLine + 1, column: 1 };
  }
  if (/closing "?quote|Missing closing/i.test(error.message)) {
    const opened = findUnclosedQuote(text, line);
    return {
      code: 'yaml-unclosed-quote',
      severity: 'error',
      message: 'A quoted value is never closed.',
      hint: 'Add the closing quote at the end of the value on this line.',
      file,
      line: opened?.line ?? line,
      column: opened?.column ?? column,
    };
  }
  const shape = diagnoseRosterShape(file, text);
  if (shape !== undefined) return shape;
  const friendly = FRIENDLY[error.code];
  const parserSays = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? error.message;
  return {
    code: 'yaml-syntax',
    severity: 'error',
    message: friendly?.message ?? `YAML cannot read this line: ${parserSays}.`,
    hint: friendly?.hint ?? 'Compare this line with a working entry above it: indentation, colons and quotes.',
    file,
    line,
    column,
  };
}

function findUnclosedQuote(text: string, upTo: number): { line: number; column: number } | undefined {
  const lines = text.split(/\r?\n/).slice(0, upTo);
  for (const [i, raw] of lines.entries()) {
    const value = /:\s*(["'])/.exec(raw);
    if (value === null || value.index === undefined) continue;
    const quote = value[1]!;
    const start = raw.indexOf(quote, value.index);
    const rest = raw.slice(start + 1);
    const closed =
      quote === '"' ? /(^|[^\\])"/.test(rest) || rest.startsWith('"') : rest.replace(/''/g, '').includes("'");
    if (!closed) return { line: i + 1, column: start + 1 };
  }
  return undefined;
}
