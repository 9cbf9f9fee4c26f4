/** Every Prometheus metric classops exposes, defined in one place (prom-client). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  readonly reconciles = new Counter({
    name: 'classops_reconciles_total',
    help: 'Reconciles by result (success, partial, refused, failure).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'classops_reconcile_duration_seconds',
    help: 'Time one reconcile took.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly lastSuccess = new Gauge({
    name: 'classops_reconcile_last_success_timestamp_seconds',
    help: 'Unix time of the last successful reconcile.',
    registers: [this.registry],
  });
  readonly revision = new Gauge({
    name: 'classops_source_revision_info',
    help: 'The source revision last reconciled (value is always 1).',
    labelNames: ['revision', 'source'],
    registers: [this.registry],
  });
  readonly rosterEntries = new Gauge({
    name: 'classops_roster_entries',
    help: 'Roster entries by week and validity.',
    labelNames: ['week', 'validity'],
    registers: [this.registry],
  });
  readonly rosterFileComplete = new Gauge({
    name: 'classops_roster_file_complete',
    help: '1 when a roster file parsed and its file-level fields are valid, 0 when its last-known-good is kept.',
    labelNames: ['file'],
    registers: [this.registry],
  });
  readonly removalsHeld = new Gauge({
    name: 'classops_removals_held',
    help: 'Students kept only because an entry in the file could be theirs (no mapping, or a required field missing): nobody leaves its week meanwhile.',
    labelNames: ['file'],
    registers: [this.registry],
  });
  readonly weekOverQuota = new Gauge({
    name: 'classops_week_over_quota',
    help: '1 for a week whose students need more than its ResourceQuota (render.quota) allows: some cannot run or be reached.',
    labelNames: ['namespace'],
    registers: [this.registry],
  });
  readonly imageChecks = new Counter({
    name: 'classops_image_checks_total',
    help: 'Image checks that reached a registry, by verdict.',
    labelNames: ['verdict'],
    registers: [this.registry],
  });
  readonly imageCheckDuration = new Histogram({
    name: 'classops_image_check_duration_seconds',
    help: 'Time one image check took.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly applyOperations = new Counter({
    name: 'classops_apply_operations_total',
    help: 'Objects by kind and action (created, updated, unchanged, pruned, refused, failed).',
    labelNames: ['kind', 'action'],
    registers: [this.registry],
  });
  readonly studentsReady = new Gauge({
    name: 'classops_students_ready',
    help: 'Students whose app is ready, by week.',
    labelNames: ['week'],
    registers: [this.registry],
  });
  readonly studentsDeployed = new Gauge({
    name: 'classops_students',
    help: 'Students by week and deployment (deployed, kept, absent).',
    labelNames: ['week', 'deployment'],
    registers: [this.registry],
  });
  readonly studentReady = new Gauge({
    name: 'classops_student_ready',
    help: "1 when the student's app is ready, else 0; reason says why not.",
    labelNames: ['week', 'student', 'reason'],
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'classops_leader',
    help: '1 when this replica holds the lease and reconciles.',
    registers: [this.registry],
  });

  readonly galleryFetches = new Counter({
    name: 'classops_gallery_fetches_total',
    help: "Gallery fetches of a student's /student, by status (live, mismatch, invalid, error, timeout, unreachable).",
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly galleryFetchDuration = new Histogram({
    name: 'classops_gallery_fetch_duration_seconds',
    help: "Time one gallery fetch of a student's /student took.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly galleryStudentsLive = new Gauge({
    name: 'classops_gallery_students_live',
    help: 'Students whose /student answered validly at the last fetch, by week.',
    labelNames: ['week'],
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'classops_webhook_deliveries_total',
    help: 'GitHub webhook deliveries by event and result (accepted, ignored, duplicate, unauthorized, too-large, invalid, busy, timeout).',
    labelNames: ['event', 'result'],
    registers: [this.registry],
  });
  readonly githubRateLimitRemaining = new Gauge({
    name: 'classops_github_rate_limit_remaining',
    help: "GitHub REST requests left in the current window, from the last answer's x-ratelimit-remaining.",
    registers: [this.registry],
  });
  readonly commitStatuses = new Counter({
    name: 'classops_commit_statuses_total',
    help: 'Commit statuses posted to GitHub, by state (success, failure) and result (posted, skipped, failed).',
    labelNames: ['state', 'result'],
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: 'classops_' });
      // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool flags them).
      for (const name of [
        'nodejs_active_handles_total',
        'nodejs_active_requests_total',
        'nodejs_active_resources_total',
      ])
        this.registry.removeSingleMetric(`classops_${name}`);
    }
  }
}
