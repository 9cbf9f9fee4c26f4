import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderChart } from '../../scripts/helm-template.mjs';

// The chart renderer must do what Helm does with the templates' constructs, or fail.
describe('helm-template: the Go template subset the chart uses', () => {
  let chart: string;
  beforeEach(() => {
    chart = mkdtempSync(join(tmpdir(), 'classops-chart-'));
    mkdirSync(join(chart, 'templates'));
    mkdirSync(join(chart, 'files'));
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: 4.5.6\n');
  });
  afterEach(() => rmSync(chart, { recursive: true, force: true }));

  const render = (template: string, values = '', files: Record<string, string> = {}) => {
    writeFileSync(join(chart, 'values.yaml'), values);
    writeFileSync(join(chart, 'templates/t.yaml'), template);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(chart, name), text);
    return renderChart(chart, { release: { name: 'rel', namespace: 'ns' } }).map((d) => d.text);
  };

  test('trim markers, fields, quote, default, missing keys print nothing', () => {
    const out = render(
      'kind: A\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\n  {{- if .Values.on }}\n  on: {{ .Values.on | quote }}\n  {{- end }}\ndata:\n  tag: {{ .Values.tag | default .Chart.AppVersion }}\n  missing: "{{ .Values.nothing }}"\n',
      'on: "yes"\ntag: ""\n',
    );
    expect(out).toEqual(['kind: A\nmetadata:\n  name: rel-demo\n  on: "yes"\ndata:\n  tag: 4.5.6\n  missing: ""']);
  });

  test('a field of a missing value fails, as in Helm (nil pointer)', () => {
    expect(() => render('kind: A\nx: {{ .Values.a.b }}\n', 'x: 1\n')).toThrow(/nil pointer evaluating .Values.a.b/);
  });

  test('range over a list with $ and over a map in key order; else if; = on an outer variable', () => {
    const out = render(
      '{{- $n := 0 }}\n{{- range $k, $v := .Values.m }}\n{{- $n = $v }}\n---\nkind: {{ $k }}\nns: {{ $.Release.Namespace }}\n{{- end }}\n---\nkind: Last\nn: {{ $n }}\n{{- if eq .Values.mode "a" }}\nmode: a\n{{- else if eq .Values.mode "b" }}\nmode: b\n{{- else }}\nmode: other\n{{- end }}\n',
      'm: { zeta: 2, alpha: 1 }\nmode: b\n',
    );
    expect(out).toEqual(['kind: alpha\nns: ns', 'kind: zeta\nns: ns', 'kind: Last\nn: 2\nmode: b']);
  });

  test('define/include with nindent, toYaml with sorted keys and no final newline, .Files.Get', () => {
    const out = render(
      '{{- define "labels" -}}\na: {{ .Release.Name }}\n{{- end }}\nkind: A\nlabels:\n  {{- include "labels" . | nindent 2 }}\nspec:\n  {{- toYaml .Values.spec | nindent 2 }}\nfile: |\n  {{- .Files.Get "files/x.txt" | nindent 2 }}\n',
      'spec: { z: 1, a: [x] }\n',
      { 'files/x.txt': 'one\ntwo' },
    );
    expect(out).toEqual(['kind: A\nlabels:\n  a: rel\nspec:\n  a:\n    - x\n  z: 1\nfile: |\n  one\n  two']);
  });

  test("replace and regexReplaceAll take their arguments in sprig's order, the string in the middle for the regex", () => {
    const out = render(
      'kind: A\nx: {{ regexReplaceAll "[{]w(:[0-9]+)?[}]" (replace "{c}" .Values.c "{c}-{w}-{w:02}") "[0-9]+" }}\n',
      'c: course\n',
    );
    expect(out).toEqual(['kind: A\nx: course-[0-9]+-[0-9]+']);
    expect(() => render('kind: {{ regexReplaceAll "(a)" "a" "${1}" }}\n')).toThrow(/outside the subset/);
  });

  test('anything outside the subset throws instead of rendering something else', () => {
    expect(() => render('kind: {{ .Values.x | upper }}\n', 'x: a\n')).toThrow(/function "upper" not defined/);
    expect(() => render('{{ template "x" . }}\n')).toThrow(/outside the subset/);
    expect(() => render('{{ if .Values.x }}\nkind: A\n')).toThrow(/without end/);
  });
});
