/**
 * Whether a week's students fit its ResourceQuota (render.quota). Past it, the API server
 * refuses the pods (or Services, routes, the week's network policies) of whatever comes last, with nothing
 * in the roster to say why: the instructor is told instead, by `run` and `render`.
 */
import { apiAmounts, type RenderConfig } from '../config.js';
import { exceeds, parseQuantity, type Quantity } from '../quantity.js';
import { studentObjectList } from './objects.js';
import type { RenderedWeek } from './week.js';

/** Quota keys that count a week's objects of one kind (a Pod: one per student, one for a rollout). */
const COUNTED_KINDS: Readonly<Record<string, string>> = {
  pods: 'Pod',
  'count/pods': 'Pod',
  services: 'Service',
  'count/services': 'Service',
  'count/deployments.apps': 'Deployment',
  'count/ingresses.networking.k8s.io': 'Ingress',
  'count/httproutes.gateway.networking.k8s.io': 'HTTPRoute',
  resourcequotas: 'ResourceQuota',
  'count/resourcequotas': 'ResourceQuota',
  'count/limitranges': 'LimitRange',
  'count/networkpolicies.networking.k8s.io': 'NetworkPolicy',
  'count/middlewares.traefik.io': 'Middleware',
};

/** Quota keys that add up each pod's requests or limits; a plain `cpu` is `requests.cpu`. */
const POD_AMOUNTS: Readonly<Record<string, string>> = {
  cpu: 'requests.cpu',
  memory: 'requests.memory',
  'ephemeral-storage': 'requests.ephemeral-storage',
  'requests.cpu': 'requests.cpu',
  'requests.memory': 'requests.memory',
  'requests.ephemeral-storage': 'requests.ephemeral-storage',
  'limits.cpu': 'limits.cpu',
  'limits.memory': 'limits.memory',
  'limits.ephemeral-storage': 'limits.ephemeral-storage',
};

interface Need {
  readonly total: Quantity;
  /** How the total is made: `151`, or `151 × 50m`. */
  readonly shown: string;
}

/** What the week needs of each quota key classops' objects count against. */
function weekNeeds(week: RenderedWeek, render: RenderConfig): Map<string, Need> {
  // A rollout's extra pod only where there is a pod to roll out.
  const pods = week.students.length === 0 ? 0 : week.students.length + 1;
  const counts = new Map<string, number>([['Pod', pods]]);
  // The week's own objects count too: a quota short of them refuses its network policies.
  for (const object of week.shared) counts.set(object.kind, (counts.get(object.kind) ?? 0) + 1);
  for (const s of week.students)
    for (const object of studentObjectList(s.objects)) counts.set(object.kind, (counts.get(object.kind) ?? 0) + 1);
  const perPod = new Map<string, string>();
  for (const side of ['requests', 'limits'] as const)
    for (const [resource, amount] of Object.entries(apiAmounts(render.resources[side])))
      perPod.set(`${side}.${resource}`, amount);
  const needs = new Map<string, Need>();
  for (const [key, kind] of Object.entries(COUNTED_KINDS)) {
    const n = counts.get(kind) ?? 0;
    needs.set(key, { total: { numerator: BigInt(n), denominator: 1n }, shown: String(n) });
  }
  for (const [key, amountKey] of Object.entries(POD_AMOUNTS)) {
    const each = perPod.get(amountKey)!;
    const amount = parseQuantity(each);
    if (amount !== undefined)
      needs.set(key, {
        total: { numerator: amount.numerator * BigInt(pods), denominator: amount.denominator },
        shown: `${pods} × ${each}`,
      });
  }
  return needs;
}

/** A week whose students need more than its quota allows, and what the instructor should hear. */
export interface QuotaShortfall {
  readonly namespace: string;
  readonly message: string;
}

/**
 * What the instructor should hear when the week's objects need more than a quota key
 * allows, or undefined when they fit. Pods are one per student and one more, as a rollout
 * starts the new pod before it stops the old one (maxSurge 1, maxUnavailable 0).
 */
export function quotaShortfall(week: RenderedWeek, render: RenderConfig): QuotaShortfall | undefined {
  const needs = weekNeeds(week, render);
  for (const [key, hardText] of Object.entries(render.quota)) {
    const need = needs.get(key);
    const hard = parseQuantity(hardText);
    if (need === undefined || hard === undefined || !exceeds(need.total, hard)) continue;
    const pods =
      COUNTED_KINDS[key] === 'Pod' || Object.hasOwn(POD_AMOUNTS, key)
        ? ' (a pod per student, one more for a rollout)'
        : '';
    const message = `${week.namespace}: its ${week.students.length} students need ${key} ${need.shown}${pods}, but render.quota.${key} is ${hardText}: the API server refuses what goes past it, so the apps, routes or next versions of some students will not start until an instructor raises it in classops.yaml.`;
    return { namespace: week.namespace, message };
  }
  return undefined;
}
