import { z } from 'zod';
import { gatewayConfigSchema } from './config-schema.js';

/**
 * JSON Schema of agenttrail.yaml for editors (yaml-language-server, VS Code). It describes the
 * file as written, so fields with defaults are optional. examples/agenttrail.schema.json is this
 * text; scripts/generate-config-schema.mjs rewrites it and a test keeps the two equal.
 */
export function configJsonSchemaText(): string {
  const schema = z.toJSONSchema(gatewayConfigSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
