/** Types of generate.mjs, for test/unit/generated.test.ts. */
export const TABLE_START: string;
export const TABLE_END: string;
export function configSchema(): Record<string, any>;
export function configDefaults(schema?: Record<string, any>): Record<string, any>;
export function generatedFiles(): Promise<Array<{ path: string; content: string }>>;
export const SAMPLE_START: string;
export const SAMPLE_END: string;
