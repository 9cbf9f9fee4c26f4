import { parse } from 'yaml';
import { toYaml } from '../../src/render/serialize.js';
import { SharedParts } from '../../src/render/shared.js';

const TRICKY = [
  'yes',
  'No',
  'on',
  'OFF',
  'y',
  'n',
  'true',
  'null',
  '~',
  '',
  ' ',
  '01',
  '5000',
  '1e3',
  '0x1F',
  '0o17',
  '.5',
  '+1',
  '-1',
  '1_000',
  '12:30',
  '.inf',
  '.NaN',
  '- a',
  'a: b',
  'a:',
  'key: value\n---\nkind: Secret',
  '# not a comment',
  'a #b',
  '&anchor',
  '*alias',
  '!!binary x',
  '!tag',
  '@at',
  '`tick`',
  '%percent',
  '{{ .Values.x }}',
  '[a, b]',
  '{a: 1}',
  '"quoted"',
  "'single'",
  'tab\there',
  'line\nbreak',
  'back\\slash',
  '\u001b[2J',
  'ünïcödé',
  '😀',
  '/$2',
  '/students/x(/|$)(.*)',
  'ghcr.io/a/b:v1',
  'ghcr.io/a/b@sha256:abc',
  'registry:5000/a',
  '<<',
  '=',
  '?',
  '|',
  '>',
];

describe('the YAML emitter', () => {
  test.each(TRICKY)('%j reads back as the same string in YAML 1.2 and 1.1', (value) => {
    const text = toYaml({ key: value, list: [value], nested: { [value || 'empty']: value } });
    for (const version of ['1.2', '1.1'] as const) {
      expect(parse(text, { version })).toEqual({ key: value, list: [value], nested: { [value || 'empty']: value } });
    }
  });

  test('sorts keys (quoting 1.1 booleans like y), writes empty collections inline and lists in block style', () => {
    expect(toYaml({ b: 1, a: { d: [], c: {} }, l: [{ y: 2, x: 1 }, 'z', [true]] })).toBe(
      'a:\n  c: {}\n  d: []\nb: 1\nl:\n  - x: 1\n    "y": 2\n  - z\n  -\n    - true\n',
    );
  });

  test('a shared part used at several depths is written as its own copy would be, at each indent', () => {
    const part = () => ({ drop: ['ALL'], seccomp: { type: 'RuntimeDefault' }, yes: 'no', list: [['a'], { b: 1 }] });
    const shared = new SharedParts().get('part', part);
    const tree = (p: object) => ({ a: p, b: { c: p, d: [p, { e: p }, [p]] }, f: p, g: [shared.list] });
    const expected = toYaml(tree(part()));
    expect(toYaml(tree(shared))).toBe(expected);
    expect(toYaml(tree(shared))).toBe(expected); // the second time from what the first wrote
    expect(parse(expected)).toEqual(tree(part()));
  });

  test('maps that begin with the same key are each sorted by their own keys, whatever came before', () => {
    // Orders are remembered by first key: same first key and length, other keys; same keys, other order.
    const maps = [
      { m: 1, b: 2 },
      { m: 1, z: 2 },
      { m: 1, b: 2, a: 3 },
      { b: 1, m: 2 },
      { m: 1, a: 2, b: 3 },
    ];
    for (let round = 0; round < 2; round++) {
      expect(maps.map((map) => toYaml(map))).toEqual([
        'b: 2\nm: 1\n',
        'm: 1\nz: 2\n',
        'a: 3\nb: 2\nm: 1\n',
        'b: 1\nm: 2\n',
        'a: 2\nb: 3\nm: 1\n',
      ]);
    }
    const many = Array.from({ length: 40 }, (_, i) => ({ first: 0, [`k${String(39 - i).padStart(2, '0')}`]: 1, a: 2 }));
    for (const [i, map] of many.entries()) {
      expect(toYaml(map)).toBe(`a: 2\nfirst: 0\nk${String(39 - i).padStart(2, '0')}: 1\n`);
    }
  });

  test('only shared parts have their text reused: a frozen map with changing contents is written as it is now', () => {
    const inner = { v: 1 };
    const outer = { x: Object.freeze({ inner }) };
    expect(toYaml(outer)).toBe('x:\n  inner:\n    v: 1\n');
    inner.v = 2;
    expect(toYaml(outer)).toBe('x:\n  inner:\n    v: 2\n');
  });
});
