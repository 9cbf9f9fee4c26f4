/** Types of helm-template.mjs, for the tests that render the chart. */
export interface RenderedDocument {
  readonly source: string;
  readonly text: string;
  readonly object: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; [k: string]: any };
    [k: string]: any;
  };
}
export function renderChart(
  chartDir: string,
  options?: {
    values?: Record<string, unknown>;
    release?: { name: string; namespace: string };
    files?: Record<string, string>;
  },
): RenderedDocument[];
export function toManifest(docs: readonly RenderedDocument[]): string;
export function truthy(value: unknown): boolean;
