/**
 * client-node's KubernetesObjectApi, speaking plain JSON. Its own methods pass objects
 * through generated models whose field names differ from the API's (`_default` for a
 * LimitRange's `default`, `_from` for a NetworkPolicy's `from`), which silently drops
 * those fields from plain objects. This keeps its discovery, auth and TLS, and sends and
 * returns objects exactly as the API server has them.
 */
import {
  ApiException,
  HttpMethod,
  KubernetesObjectApi,
  type KubernetesObject,
  type ResponseContext,
} from '@kubernetes/client-node';

export class JsonObjectApi extends KubernetesObjectApi {
  protected override async processResponse<T extends KubernetesObject>(response: ResponseContext): Promise<T> {
    const text = await response.body.text();
    if (response.httpStatusCode < 200 || response.httpStatusCode >= 300) {
      throw new ApiException(response.httpStatusCode, `HTTP ${response.httpStatusCode}`, text, response.headers);
    }
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  private async send<T>(
    method: HttpMethod,
    path: string,
    query: Record<string, string>,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const context = this.configuration.baseServer.makeRequestContext(path, method);
    context.setHeaderParam('Accept', 'application/json');
    for (const [key, value] of Object.entries(query)) context.setQueryParam(key, value);
    if (body !== undefined) {
      context.setHeaderParam('Content-Type', contentType);
      context.setBody(JSON.stringify(body));
    }
    return (await this.requestPromise(context)) as unknown as T;
  }

  /** Every object of a kind in all namespaces matching a label selector, or undefined when the API server does not serve the kind. */
  async listAll(
    apiVersion: string,
    kind: string,
    labelSelector: string,
  ): Promise<Array<Record<string, unknown>> | undefined> {
    return (await this.listVersioned(apiVersion, kind, labelSelector))?.items;
  }

  /** The same, with the list's resourceVersion: where a watch that misses nothing starts. */
  async listVersioned(
    apiVersion: string,
    kind: string,
    labelSelector: string,
  ): Promise<{ items: Array<Record<string, unknown>>; resourceVersion: string | undefined } | undefined> {
    const resource = await this.resource(apiVersion, kind);
    if (resource === undefined) return undefined;
    const list = await this.send<{
      items?: Array<Record<string, unknown>>;
      metadata?: { resourceVersion?: string };
    }>(HttpMethod.GET, `${this.apiVersionPath(apiVersion)}/${resource.name}`, { labelSelector });
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion };
  }

  /** Server-side apply: the object as given becomes what `fieldManager` owns. */
  async apply(object: KubernetesObject, fieldManager: string): Promise<void> {
    const path = await this.specUriPath(object, 'patch');
    await this.send(HttpMethod.PATCH, path, { fieldManager, force: 'true' }, object, 'application/apply-patch+yaml');
  }

  async get<T>(object: KubernetesObject): Promise<T> {
    return this.send<T>(HttpMethod.GET, await this.specUriPath(object, 'read'), {});
  }

  async createJson(object: KubernetesObject): Promise<void> {
    await this.send(HttpMethod.POST, await this.specUriPath(object, 'create'), {}, object);
  }

  /** Replace with the object's resourceVersion: 409 when someone else wrote first. */
  async replaceJson(object: KubernetesObject): Promise<void> {
    await this.send(HttpMethod.PUT, await this.specUriPath(object, 'replace'), {}, object);
  }

  async remove(object: KubernetesObject): Promise<void> {
    const path = await this.specUriPath(object, 'delete');
    await this.send(
      HttpMethod.DELETE,
      path,
      {},
      { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
    );
  }
}
