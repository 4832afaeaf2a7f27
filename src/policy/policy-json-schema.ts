import { z } from 'zod';
import { policyFileSchema } from './policy-schema.js';

/**
 * JSON Schema of a policy file for editors: put `# yaml-language-server: $schema=<path>` on its
 * first line. examples/policy.schema.json is this text; scripts/generate-config-schema.mjs
 * rewrites it and a test keeps the two equal.
 */
export function policyJsonSchemaText(): string {
  const schema = z.toJSONSchema(policyFileSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
