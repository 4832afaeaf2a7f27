/** Kept equal to package.json's version by test/cli.test.ts; the core cannot read files on every runtime. */
export const AGENTTRAIL_VERSION = '0.1.0';
