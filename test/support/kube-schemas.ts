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
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';

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
  'v1/ConfigMap': (d) => new ConfigMap(d),
  'v1/ServiceAccount': (d) => new ServiceAccount(d),
  'rbac.authorization.k8s.io/v1/ClusterRole': (d) => new ClusterRole(d),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': (d) => new ClusterRoleBinding(d),
  'rbac.authorization.k8s.io/v1/Role': (d) => new Role(d),
  'rbac.authorization.k8s.io/v1/RoleBinding': (d) => new RoleBinding(d),
  'policy/v1/PodDisruptionBudget': (d) => new PodDisruptionBudget(d),
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': (d) => new ValidatingAdmissionPolicy(d),
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': (d) => new ValidatingAdmissionPolicyBinding(d),
  'monitoring.coreos.com/v1/ServiceMonitor': (d) => new ServiceMonitor(d),
  'monitoring.coreos.com/v1/PrometheusRule': (d) => new PrometheusRule(d),
};

/** Throws with the schema's message when the object is not valid for its kind. */
export function validateKubeObject(object: { apiVersion: string; kind: string }): void {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (model === undefined) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  model(structuredClone(object) as never).validate();
}
