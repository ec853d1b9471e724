import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
const load = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../../schema', name), 'utf8')) as object;

export const inputSchema = load('scale-in-input.schema.json') as {
  properties: Record<string, { properties?: Record<string, unknown>; enum?: unknown[] }>;
  required: string[];
};
export const validateInputSchema = ajv.compile(inputSchema);
export const validateResultSchema = ajv.compile(load('scale-in-result.schema.json'));

/** Throws with the schema errors when a real result does not match the published schema. */
export function assertResultMatchesSchema(result: unknown): void {
  // Round-trip through JSON as another language would see it (undefined fields vanish).
  const json = JSON.parse(JSON.stringify(result)) as unknown;
  if (!validateResultSchema(json))
    throw new Error(
      `result does not match schema/scale-in-result.schema.json: ${ajv.errorsText(validateResultSchema.errors)}`,
    );
}
