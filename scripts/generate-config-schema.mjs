// Writes examples/agenttrail.schema.json and examples/policy.schema.json from the zod schemas of
// the config file and of policy files. Plain JavaScript on the built output, because Node 20
// cannot run TypeScript itself:
//   tsc -p . && node scripts/generate-config-schema.mjs
// test/config.test.ts and test/policy-files.test.ts fail when a committed file differs from what this writes.
import { writeFile } from 'node:fs/promises';
import { configJsonSchemaText } from '../dist/config/config-json-schema.js';
import { policyJsonSchemaText } from '../dist/policy/policy-json-schema.js';

for (const [name, text] of [
  ['agenttrail.schema.json', configJsonSchemaText()],
  ['policy.schema.json', policyJsonSchemaText()],
]) {
  const target = new URL(`../examples/${name}`, import.meta.url);
  await writeFile(target, text);
  console.log(`wrote ${target.pathname}`);
}
