// Writes examples/agenttrail.schema.json from the zod schema of the config file.
// Plain JavaScript on the built output, because Node 20 cannot run TypeScript itself:
//   tsc -p . && node scripts/generate-config-schema.mjs
// test/config.test.ts fails when the committed file differs from what this writes.
import { writeFile } from 'node:fs/promises';
import { configJsonSchemaText } from '../dist/config/config-json-schema.js';

const target = new URL('../examples/agenttrail.schema.json', import.meta.url);
await writeFile(target, configJsonSchemaText());
console.log(`wrote ${target.pathname}`);
