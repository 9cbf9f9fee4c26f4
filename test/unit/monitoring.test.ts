import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify } from 'yaml';
import { Metrics } from '../../src/observability/metrics.js';
import { requireProgram } from '../support/processes.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const RULES = join(root, 'monitoring/prometheus-rules.yaml');
const RULE_TESTS = join(root, 'monitoring/prometheus-rules.test.yaml');
const dashboard = JSON.parse(readFileSync(join(root, 'monitoring/grafana-dashboard.json'), 'utf8'));
const rules = parseYaml(readFileSync(RULES, 'utf8')).groups.flatMap((g: any) => g.rules);

function promtool(args: string[], cwd: string) {
  return spawnSync(requireProgram('promtool', 'prometheus'), args, { cwd, encoding: 'utf8' });
}

/** Every series name a scrape of classops can hold: histograms as _bucket, _sum and _count. */
async function exposedNames(): Promise<Set<string>> {
  const metrics = await new Metrics().registry.getMetricsAsJSON();
  return new Set(
    metrics.flatMap(({ name, type }) =>
      String(type) === 'histogram'
        ? [`${name}_bucket`, `${name}_sum`, `${name}_count`]
        : String(type) === 'summary'
          ? [name, `${name}_sum`, `${name}_count`]
          : [name],
    ),
  );
}
const metricNames = (expr: string) => [...expr.matchAll(/\b(classops_[a-zA-Z0-9_]+)\b/g)].map((m) => m[1]!);

describe('the Grafana dashboard', () => {
  const targets: Array<{ panel: string; expr: string }> = dashboard.panels.flatMap((p: any) =>
    p.targets.map((t: any) => ({ panel: p.title, expr: t.expr })),
  );

  test('every query uses only metrics classops exposes', async () => {
    const names = await exposedNames();
    expect(names).toContain('classops_process_cpu_seconds_total');
    const unknown = targets.flatMap((t) =>
      metricNames(t.expr)
        .filter((n) => !names.has(n))
        .map((n) => `${t.panel}: ${n}`),
    );
    expect(unknown).toEqual([]);
    expect(targets.filter((t) => metricNames(t.expr).length === 0)).toEqual([]);
  });

  test('shows what an instructor asks for', () => {
    const used = new Set(targets.flatMap((t) => metricNames(t.expr)));
    for (const name of [
      'classops_students_ready', // students live per week
      'classops_gallery_students_live',
      'classops_student_ready', // failing students with their reasons
      'classops_reconciles_total', // reconcile rate and failures
      'classops_reconcile_duration_seconds_bucket',
      'classops_image_checks_total',
      'classops_webhook_deliveries_total',
      'classops_gallery_fetches_total',
    ])
      expect(used).toContain(name);
    const failing = dashboard.panels.find((p: any) => p.type === 'table');
    expect([failing.title, failing.targets[0].format, failing.targets[0].instant]).toEqual([
      'Failing students and why',
      'table',
      true,
    ]);
    // Panels do not overlap on Grafana's 24-column grid.
    const cells = new Set<string>();
    for (const { gridPos: g } of dashboard.panels)
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
  });
});

describe('the Prometheus alerts', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'classops-rules-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('promtool check rules accepts them; each has a summary and runbook text; metrics exist', async () => {
    const result = promtool(['check', 'rules', RULES], root);
    expect([result.status, result.stdout]).toEqual([0, expect.stringContaining('SUCCESS: 7 rules found')]);
    const names = await exposedNames();
    for (const rule of rules) {
      expect([rule.alert, typeof rule.annotations.summary, rule.annotations.runbook.length > 100]).toEqual([
        rule.alert,
        'string',
        true,
      ]);
      expect(metricNames(rule.expr).filter((n) => !names.has(n))).toEqual([]);
    }
  });

  test('promtool test rules: every alert fires when it should and not before', () => {
    const spec = parseYaml(readFileSync(RULE_TESTS, 'utf8'));
    const runbooks = new Map(rules.map((r: any) => [r.alert, r.annotations.runbook]));
    const tested = new Set<string>();
    for (const t of spec.tests)
      for (const a of t.alert_rule_test) {
        tested.add(a.alertname);
        for (const e of a.exp_alerts) e.exp_annotations = { ...e.exp_annotations, runbook: runbooks.get(a.alertname) };
      }
    expect([...tested].sort()).toEqual(rules.map((r: any) => r.alert).sort());
    copyFileSync(RULES, join(dir, 'prometheus-rules.yaml'));
    writeFileSync(join(dir, 'tests.yaml'), stringify(spec));
    const result = promtool(['test', 'rules', 'tests.yaml'], dir);
    expect([result.status, result.stdout + result.stderr]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });
});
