/** Validates rendered objects against the Kubernetes OpenAPI schemas that kubernetes-models ships. */
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { Middleware } from '@kubernetes-models/traefik/traefik.io/v1alpha1/Middleware';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { LimitRange } from 'kubernetes-models/v1/LimitRange';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { Service } from 'kubernetes-models/v1/Service';

type Validatable = { validate(): void };
const MODELS: Record<string, (data: never) => Validatable> = {
  'apps/v1/Deployment': (d) => new Deployment(d),
  'v1/Service': (d) => new Service(d),
  'v1/Namespace': (d) => new Namespace(d),
  'v1/ResourceQuota': (d) => new ResourceQuota(d),
  'v1/LimitRange': (d) => new LimitRange(d),
  'networking.k8s.io/v1/Ingress': (d) => new Ingress(d),
  'networking.k8s.io/v1/NetworkPolicy': (d) => new NetworkPolicy(d),
  'gateway.networking.k8s.io/v1/HTTPRoute': (d) => new HTTPRoute(d),
  'traefik.io/v1alpha1/Middleware': (d) => new Middleware(d),
};

/** Throws with the schema's message when the object is not valid for its kind. */
export function validateKubeObject(object: { apiVersion: string; kind: string }): void {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (model === undefined) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  model(structuredClone(object) as never).validate();
}
