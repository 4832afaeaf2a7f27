// The bindings that vitest.workers.config.ts adds for the Workers suite, beside wrangler.toml's.
declare namespace Cloudflare {
  interface Env {
    AGENTTRAIL_DB: string;
    AGENTTRAIL_SIGNER_KEY: string;
    AGENTTRAIL_LOG_SECRET: string;
    TEST_AGENT_TOKEN: string;
    TEST_VERIFIER_KEY: string;
    /** Runs the built `agenttrail` in Node (test/workers/node-cli-binding.ts). */
    AGENTTRAIL_CLI: Fetcher;
  }
}
