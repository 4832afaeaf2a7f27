import { z } from 'zod';

/**
 * What a Worker is configured with: vars (wrangler.toml `[vars]`) and secrets (`wrangler secret
 * put`). Each message says how to set the binding, since a missing one is a deployment mistake.
 */
export const WorkerSettingsSchema = z.looseObject({
  AGENTTRAIL_CONFIG: z.union([z.string().min(1), z.record(z.string(), z.unknown())], {
    error: 'set the var AGENTTRAIL_CONFIG to the gateway config (the agenttrail.yaml schema, as JSON) in wrangler.toml',
  }),
  AGENTTRAIL_SIGNER_KEY: z.string({
    error: "set the secret AGENTTRAIL_SIGNER_KEY to the gateway's signer key: agenttrail keys init --key agenttrail.key, then wrangler secret put AGENTTRAIL_SIGNER_KEY < agenttrail.key",
  }),
  AGENTTRAIL_LOG_SECRET: z.string({
    error: "set the secret AGENTTRAIL_LOG_SECRET to the log's secret (32 random bytes in base64, the text of agenttrail.secret): wrangler secret put AGENTTRAIL_LOG_SECRET < agenttrail.secret",
  }),
  AGENTTRAIL_DB: z.string().min(1).optional(),
  AGENTTRAIL_DB_AUTH_TOKEN: z.string().min(1).optional(),
});
export type WorkerSettings = z.infer<typeof WorkerSettingsSchema>;

/** The Worker's bindings that are text (vars and secrets): what `${NAME}` in the config and `env:NAME` credentials read. */
export function textBindingsOf(env: object): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((binding): binding is [string, string] => typeof binding[1] === 'string'));
}
