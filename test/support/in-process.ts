/**
 * The controller's I/O in the test's own process: the real reconciler, KubeTarget and
 * client-node against the fake API server, reading a real roster folder (DirSource).
 * Milliseconds per pass, so the mutation run can afford them (the `controller` area of stryker.areas.mjs).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KubeTarget } from '../../src/cluster/apply.js';
import { kubeConfigFor } from '../../src/cluster/connect.js';
import { loadConfig, type ClassopsConfig } from '../../src/config.js';
import type { ReconcilerOptions } from '../../src/controller/reconciler.js';
import { State } from '../../src/controller/state.js';
import { createLogger } from '../../src/observability/log.js';
import { Metrics } from '../../src/observability/metrics.js';
import { DirSource } from '../../src/source/dir.js';
import type { FakeApiServer } from './fake-apiserver.js';
import { rosterText } from './rosters.js';
import { tempDir } from './temp.js';

export const NS = 'container-course-week01';

/** One roster entry, indented as in students/week-NN.yaml. */
export const entry = (login: string, image = `ghcr.io/${login.toLowerCase()}/app:v1`) =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "${image}"\n`;

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A course folder of week files and everything one controller needs, against `api`. */
export class InProcessCourse {
  readonly folder = tempDir('classops-inproc-');
  readonly config: ClassopsConfig;
  readonly target: KubeTarget;
  readonly source: DirSource;
  state = new State();
  readonly metrics = new Metrics({ processMetrics: false });
  /** What the controller logged, as an instructor reads it (JSON lines). */
  readonly logs: LogLine[] = [];
  allowMassPrune = false;

  constructor(
    readonly api: FakeApiServer,
    cluster: Record<string, unknown> = {},
    render: Record<string, unknown> = {},
  ) {
    mkdirSync(this.folder, { recursive: true });
    this.config = loadConfig({
      env: {},
      overrides: { cluster: { kubeconfig: api.kubeconfig(), ...cluster }, render },
    });
    this.target = new KubeTarget(kubeConfigFor(this.config.cluster)!);
    // Each pass here is one asked for now, as `run --once`: the files are read as they are.
    this.source = new DirSource(this.folder, 3_600_000, 1024 * 1024, 0);
  }

  /** Writes week N's roster file with these entries. */
  week(entries: string, week = 1): this {
    writeFileSync(join(this.folder, `week-${String(week).padStart(2, '0')}.yaml`), rosterText(entries, week));
    return this;
  }

  /** Writes a file as given (broken ones included). */
  file(name: string, text: string): this {
    writeFileSync(join(this.folder, name), text);
    return this;
  }

  /** Deletes a file from the course folder. */
  drop(name: string): this {
    rmSync(join(this.folder, name));
    return this;
  }

  get options(): ReconcilerOptions {
    const lines = this.logs;
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    return {
      config: this.config,
      source: this.source,
      target: this.target,
      images: undefined,
      state: this.state,
      metrics: this.metrics,
      log: createLogger(stream, 'json'),
      allowMassPrune: this.allowMassPrune,
    };
  }

  /** A metric's samples as `labels → value`, labels as k=v joined by commas (sorted). */
  async samples(metric: keyof Metrics): Promise<Record<string, number>> {
    const m = this.metrics[metric] as { get(): Promise<{ values: Array<{ labels: object; value: number }> }> };
    const out: Record<string, number> = {};
    for (const v of (await m.get()).values) {
      const key = Object.entries(v.labels)
        .map(([k, l]) => `${k}=${String(l)}`)
        .sort()
        .join(',');
      out[key] = v.value;
    }
    return out;
  }
}
