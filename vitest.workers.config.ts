// The Cloudflare Workers suite: test/workers/*.test.ts run inside workerd (the Workers runtime)
// with the Worker of wrangler.toml, against a real sqld and real MCP servers that
// test/workers/global-setup.ts starts on loopback. `npm test` runs it after the Node suite.
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { runAgenttrailForWorker } from './test/workers/node-cli-binding.js';

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          AGENTTRAIL_CONFIG: inject('workerConfig'),
          AGENTTRAIL_DB: inject('sqldUrl'),
          AGENTTRAIL_SIGNER_KEY: inject('signerKey'),
          AGENTTRAIL_LOG_SECRET: inject('logSecret'),
          TEST_AGENT_TOKEN: inject('agentToken'),
          TEST_VERIFIER_KEY: inject('verifierKey'),
        },
        serviceBindings: { AGENTTRAIL_CLI: runAgenttrailForWorker },
      },
    })),
  ],
  test: {
    include: ['test/workers/**/*.test.ts'],
    globalSetup: ['test/workers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
