import { z } from 'zod';
import { parseWitnessVerifierKey } from '../ledger/cosignature.js';
import { parseVerifierKey } from '../ledger/note-keys.js';
import { RetentionPeriodSchema } from './retention-period.js';

// The schema of agenttrail.yaml. Every object is strict so that a misspelt key is an error
// instead of a silently ignored setting. The JSON Schema for editors is generated from this
// (see config-json-schema.ts), so descriptions here are what users see on hover.

const MAX_TIMER_MS = 2_147_483_647; // setTimeout's limit; larger values fire at once

const timeoutMsSchema = z
  .int('expected a positive integer')
  .positive('expected a positive integer')
  .max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} (about 24.8 days)`)
  .default(60_000)
  .describe('Per-request timeout in milliseconds for this upstream; starting it (its initialize handshake) may take up to 10 s even when this is shorter.');

/** A key in text form that `parse` accepts; the issue says why it does not. */
function keyTextSchema(parse: (key: string) => unknown, expected: string) {
  return z.string().superRefine((key, context) => {
    try {
      parse(key);
    } catch (error) {
      context.addIssue({ code: 'custom', message: `expected ${expected}: ${error instanceof Error ? error.message : String(error)}` });
    }
  });
}

export const witnessConfigSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'expected the witness\'s http(s) submission prefix' })
      .describe('The submission prefix; the gateway POSTs to <url>/add-checkpoint.'),
    key: keyTextSchema(parseWitnessVerifierKey, 'a witness verifier key').describe("The witness's verifier key; its cosignatures are checked against it."),
  })
  .describe('A transparency log witness.');

export const logConfigSchema = z
  .strictObject({
    origin: z
      .string()
      // A C2SP checkpoint origin is one line; a note's key name may not contain "+".
      .regex(/^[^\s+]+$/, 'expected a log name without spaces or "+" (e.g. example.com/agenttrail)')
      .default('agenttrail.local/gateway')
      .describe('Name of the log; becomes the origin line of its signed checkpoints.'),
    db: z
      .string()
      .regex(
        /^(file:|https?:\/\/|libsql:\/\/|wss?:\/\/)/,
        'expected a libSQL URL starting with file:, http://, https://, libsql://, ws:// or wss://',
      )
      .default('file:agenttrail.db')
      .describe(
        'libSQL database URL: a file (file:agenttrail.db), a libSQL server (http://host:8080) or Turso (libsql://NAME.turso.io), ' +
          'whose token comes from $AGENTTRAIL_DB_AUTH_TOKEN. A relative file: path is relative to the working directory, as with --db.',
      ),
    syncUrl: z
      .string()
      .regex(/^(https?:\/\/|libsql:\/\/|wss?:\/\/)/, 'expected the URL of a libSQL server, starting with http://, https://, libsql://, ws:// or wss://')
      .optional()
      .describe(
        'Makes db (a file: URL) an embedded replica of this libSQL server or Turso database: the log is written on the server ' +
          'and read from the local copy, which follows it. The token comes from $AGENTTRAIL_DB_AUTH_TOKEN.',
      ),
    syncIntervalSeconds: z
      .number('expected a number of seconds')
      .positive('expected a positive number of seconds')
      .max(86_400, 'must be at most 86400 (a day)')
      .optional()
      .describe(
        'How often an embedded replica (syncUrl) fetches the server\'s changes, in seconds; default 1. An agent added, suspended ' +
          'or revoked on the server takes effect at this gateway within this time.',
      ),
    key: z
      .string()
      .min(1, 'expected a file path')
      .optional()
      .describe("Path of the gateway's signer key file; relative to this file's folder."),
    secret: z
      .string()
      .min(1, 'expected a file path')
      .optional()
      .describe(
        "Path of the log's secret (keys credential fingerprints and redaction commitments); relative to this file's folder. " +
          'Default: agenttrail.secret beside the key file, created on first run.',
      ),
    witnesses: z
      .array(witnessConfigSchema)
      .default([])
      .describe('Witnesses (c2sp.org/tlog-witness) that cosign the log\'s checkpoints.'),
    retention: RetentionPeriodSchema.optional().describe(
      'How long entries keep their payloads, e.g. 90d; agenttrail prune removes older payloads while leaf hashes, proofs and checkpoints stay verifiable. Default: kept for ever.',
    ),
  })
  .refine((log) => log.syncUrl === undefined || log.db.startsWith('file:'), {
    path: ['syncUrl'],
    message: 'an embedded replica needs a file: db (the local copy); drop syncUrl to use the server directly',
  })
  .prefault({})
  .describe('Where and under which name the audit log is kept.');

const loopbackNote = 'Loopback names (localhost, 127.0.0.1, [::1]) are always accepted.';

export const listenConfigSchema = z
  .strictObject({
    host: z.string().min(1, 'expected a host name or IP address').default('127.0.0.1').describe('Interface to listen on.'),
    port: z
      .int('expected an integer from 0 to 65535')
      .min(0, 'expected an integer from 0 to 65535')
      .max(65_535, 'expected an integer from 0 to 65535')
      .default(8787)
      .describe('TCP port; 0 picks a free one.'),
    path: z
      .string()
      .regex(/^\/\S*$/, 'expected a URL path starting with "/" (e.g. /mcp)')
      .default('/mcp')
      .describe('URL path of the MCP endpoint.'),
    maxBodyBytes: z
      .int('expected a positive integer')
      .positive('expected a positive integer')
      .default(4 * 1024 * 1024)
      .describe('Largest request body accepted, in bytes.'),
    allowedHosts: z
      .array(
        z
          .string()
          .regex(
            /^[^\s/:@]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/,
            'expected a Host header value: a host name with an optional :port, no scheme or path',
          ),
      )
      .default([])
      .describe(`Extra Host header values to accept (DNS-rebinding guard). ${loopbackNote}`),
    allowedOrigins: z
      .array(
        z.string().refine(isWebOrigin, 'expected an origin such as https://app.example.com (scheme, host, optional port; no path)'),
      )
      .default([])
      .describe(`Extra Origin header values to accept. ${loopbackNote}`),
  })
  .prefault({})
  .describe('The HTTP endpoint that agents connect to (agenttrail serve).');

function isWebOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}

export const namingConfigSchema = z
  .strictObject({
    separator: z
      .string()
      // MCP tool names may use only letters, digits, "_", "-" and ".".
      .regex(/^[A-Za-z0-9_.-]+$/, 'expected one or more of letters, digits, "_", "-" and "." (the characters MCP allows in tool names)')
      .default('__')
      .describe('Joins server and tool names: <server><separator><tool>.'),
    prefix: z
      .boolean()
      .default(true)
      .describe('false serves the upstream\'s own names, unprefixed; only with exactly one server.'),
  })
  .prefault({})
  .describe('How upstream names are prefixed behind the gateway.');

// Saying which revision a server speaks saves asking it (server/discover) each time a connection
// opens; a 2025-era stdio server that exits on a request it does not know cannot be asked at all.
function protocolSchema(fallback: 'auto' | '2025-11-25', defaultReason: string) {
  return z
    .enum(['auto', '2025-11-25', '2026-07-28'], 'expected "auto", "2025-11-25" or "2026-07-28"')
    .default(fallback)
    .describe(
      'MCP revision spoken to this server for agents on 2026-07-28: "2026-07-28" (the server supports it; its input requests reach ' +
        'the agent as it wrote them), "2025-11-25" (the gateway turns the server\'s requests into input rounds, one question per round) ' +
        'or "auto" (ask the server first with server/discover, on the same connection). Agents on ' +
        `2025-11-25 are always served over 2025-11-25. ${defaultReason}`,
    );
}

export const stdioServerConfigSchema = z
  .strictObject({
    command: z.string().min(1, 'expected a command to run').describe('Program to start; the server speaks MCP on its stdin/stdout.'),
    args: z.array(z.string()).default([]).describe('Arguments for the command.'),
    env: z
      .record(
        z.string().regex(/^[^=\0]+$/, 'expected an environment variable name (no "=")'),
        z.string().regex(/^[^\0]*$/, 'must not contain a NUL character'),
      )
      .default({})
      .describe("Environment variables, merged over the gateway's minimal safe environment."),
    cwd: z
      .string()
      .min(1, 'expected a folder path')
      .optional()
      .describe("Working folder of the server; relative to this file's folder. Default: the gateway's working folder."),
    timeoutMs: timeoutMsSchema,
    protocol: protocolSchema('2025-11-25', 'Default 2025-11-25: the published stdio servers speak only 2025-11-25.'),
  })
  .describe('An MCP server that the gateway starts and talks to over stdio.');

export const httpServerConfigSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).describe('Endpoint of the MCP server.'),
    transport: z
      .enum(['streamable-http', 'sse'], 'expected "streamable-http" or "sse"')
      .default('streamable-http')
      .describe('streamable-http (current MCP) or sse (the legacy HTTP+SSE transport).'),
    headers: z
      .record(
        z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name'),
        z.string().regex(/^[^\r\n\0]*$/, 'must not contain line breaks or NUL characters'),
      )
      .default({})
      .describe('HTTP headers sent with every request, e.g. Authorization: "Bearer ${TOKEN}".'),
    timeoutMs: timeoutMsSchema,
    protocol: protocolSchema('auto', 'Default auto: over HTTP the probe is one request.'),
  })
  .describe('An MCP server that the gateway reaches over HTTP.');

export const serverConfigSchema = z.xor([stdioServerConfigSchema, httpServerConfigSchema]);

const serverNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'invalid server name: use letters, digits, "_" and "-", starting with a letter or digit');

const ADD_A_SERVER = 'add at least one server, each with command: (stdio) or url: (HTTP)';

const serverMapSchema = z.record(serverNameSchema, serverConfigSchema, {
  error: (issue) => (issue.input === undefined ? `missing; ${ADD_A_SERVER}` : issue.input === null ? ADD_A_SERVER : undefined),
});

const credentialNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'invalid credential name: use letters, digits, "_", "." and "-", starting with a letter or digit');

const envOrFileSourceSchema = z.string().regex(/^(env|file):.+$/, 'expected env:NAME, file:PATH or { command: [PROGRAM, ARG...] }');

const commandSourceSchema = z.strictObject({
  command: z.array(z.string().min(1)).min(1, 'expected the program and its arguments, e.g. [vault, kv, get, -field=token, secret/gh]'),
  timeoutMs: z.int().positive().max(MAX_TIMER_MS).default(10_000).describe('How long the command may take.'),
});

export const secretSourceSchema = z
  .union([envOrFileSourceSchema, commandSourceSchema], { error: 'expected env:NAME, file:PATH or { command: [PROGRAM, ARG...] }' })
  .describe(
    'Where a secret comes from: env:NAME (an environment variable of the gateway), file:PATH (relative to this file\'s ' +
      'folder; trailing newline dropped) or a command whose standard output is the secret (a vault CLI).',
  );

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export const tokenExchangeConfigSchema = z
  .strictObject({
    endpoint: z.url({ protocol: /^https?$/, error: 'expected the token endpoint\'s http(s) URL' }).describe('The authorization server\'s token endpoint.'),
    clientId: z.string().min(1).describe('The gateway\'s client id at the token endpoint.'),
    clientSecret: secretSourceSchema.describe('Where the gateway\'s client secret comes from (env:NAME, file:PATH or a command).'),
    clientAuthentication: z
      .enum(['basic', 'post'], 'expected "basic" or "post"')
      .default('basic')
      .describe('How the client authenticates: HTTP Basic (client_secret_basic) or in the form body (client_secret_post).'),
    audience: z.string().min(1).optional().describe('The audience parameter: the logical name of the upstream service.'),
    resource: z.url({ error: 'expected an absolute URI' }).optional().describe('The resource parameter (RFC 8707): the upstream\'s URI.'),
    scope: z.string().min(1).optional().describe('The scope to ask for: the down-scoped rights the upstream token carries.'),
    subjectToken: secretSourceSchema
      .optional()
      .describe('The subject token for agents that did not authenticate with an OAuth access token (which is used when they did).'),
    subjectTokenType: z.string().min(1).default(ACCESS_TOKEN_TYPE).describe('The type of the configured subjectToken.'),
    requestedTokenType: z.string().min(1).optional().describe('The requested_token_type parameter.'),
    timeoutMs: z.int().positive().max(MAX_TIMER_MS).default(10_000).describe('How long the token endpoint may take.'),
  })
  .describe('OAuth 2.0 token exchange (RFC 8693): a down-scoped upstream token for each agent, obtained from a token endpoint.');

export const credentialSourceSchema = z
  .union([envOrFileSourceSchema, commandSourceSchema, z.strictObject({ tokenExchange: tokenExchangeConfigSchema })], {
    error: 'expected env:NAME, file:PATH, { command: [PROGRAM, ARG...] } or { tokenExchange: {...} }',
  })
  .describe(
    'Where the secret comes from: env:NAME (an environment variable of the gateway), file:PATH (relative to this file\'s ' +
      'folder; trailing newline dropped), a command whose standard output is the secret (a vault CLI), or tokenExchange: ' +
      'a token obtained per agent from a token endpoint (RFC 8693).',
  );

export const credentialConfigSchema = z
  .strictObject({
    source: credentialSourceSchema,
    servers: z.array(serverNameSchema).min(1, 'expected the servers that get this credential').describe('The upstream servers that get it.'),
    header: z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name')
      .optional()
      .describe('For HTTP servers: the request header that carries it, e.g. Authorization.'),
    format: z
      .string()
      .includes('{value}', { error: 'expected a template containing {value}, e.g. "Bearer {value}"' })
      .default('{value}')
      .describe('How the header value is made from the secret, e.g. "Bearer {value}".'),
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
      .optional()
      .describe("For stdio servers: the environment variable of the server's process that carries it."),
    agents: z
      .array(z.string().min(1))
      .min(1, 'expected the agents that may use it (omit agents for all)')
      .optional()
      .describe('Only calls of these agents carry it (agent names, or OAuth client ids). Default: every agent. HTTP servers only.'),
    tools: z
      .array(z.string().min(1))
      .min(1, 'expected the tools it is for (omit tools for every request)')
      .optional()
      .describe('Only calls of these upstream tools carry it; * and ? match any run of characters and one character. HTTP servers only.'),
    scope: z.string().optional().describe('What the credential allows, recorded with each use (e.g. "repo:read").'),
    expires: z.iso.datetime({ offset: true }).optional().describe('When the credential expires, recorded with each use.'),
  })
  .describe('A secret the gateway hands to upstream servers on the agents\' behalf; agents never see it.');

export const redactionConfigSchema = z
  .strictObject({
    patterns: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected a lower-case name, e.g. acme-api-key').describe('Named in the marker.'),
          pattern: z
            .string()
            .min(1)
            .refine(isRegExp, 'expected a JavaScript regular expression (without slashes or flags)')
            .describe('A JavaScript regular expression; every match is redacted.'),
        }),
      )
      .default([])
      .describe('Secret shapes to redact besides the built-in ones and the configured credentials.'),
  })
  .prefault({})
  .describe('What is removed from arguments and results before they are recorded (never from what agents and upstreams exchange).');

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

export const oauthConfigSchema = z
  .strictObject({
    issuer: z.url({ protocol: /^https?$/, error: 'expected the authorization server\'s issuer URL' }).describe('The authorization server; access tokens must carry it as iss.'),
    audience: z.string().min(1, 'expected this gateway\'s resource identifier').describe('What access tokens must carry in aud: this gateway\'s MCP endpoint URL.'),
    jwks: z.url({ protocol: /^https?$/, error: 'expected the URL of the issuer\'s JSON Web Key Set' }).describe("The issuer's JSON Web Key Set (jwks_uri)."),
    agentClaim: z.string().min(1).default('client_id').describe('The claim that names the agent (the OAuth client): client_id or azp.'),
  })
  .describe('OAuth 2.1 access tokens (signed JWTs), as the MCP authorization spec describes.');

export const authConfigSchema = z
  .strictObject({
    unauthenticated: z
      .enum(['refuse', 'loopback'], 'expected "refuse" or "loopback"')
      .default('refuse')
      .describe('"loopback" lets agents on this machine call without a token (recorded as auth: none); anything else is refused.'),
    oauth: oauthConfigSchema.optional(),
  })
  .prefault({})
  .describe('How agents on the HTTP endpoint prove who they are: a token from agenttrail agents add, or an OAuth access token.');

/** Approver groups, named in policies (`approval.approvers`) and in the config (`approvers.*.groups`). */
export const approverGroupSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected a lower-case group name, e.g. security');

export const approverConfigSchema = z
  .strictObject({
    key: keyTextSchema(parseVerifierKey, 'a verifier key (agenttrail keys show --key THEIR_KEY)').describe("The approver's verifier key, name+keyid+base64: their decisions must be signed by it. They keep the signer key (agenttrail keys init --key FILE --origin NAME)."),
    groups: z.array(approverGroupSchema).min(1, 'expected the groups this approver decides for').describe('The approver groups this person belongs to.'),
    identities: z
      .array(z.string().min(1, 'must not be empty'))
      .default([])
      .describe('Agent names and OAuth subjects (sub) that are this person: they cannot approve calls made under them (nor under their own name).'),
  })
  .describe('A person who may approve or deny calls that policies hold, with their own Ed25519 key.');

export const policiesConfigSchema = z
  .strictObject({
    dir: z
      .string()
      .min(1, 'expected a folder path')
      .default('policies')
      .describe("Folder of policy files (*.yaml, *.yml), read in file-name order; relative to this file's folder. Reloaded when its files change."),
    default: z
      .enum(['allow', 'deny'], 'expected "allow" or "deny"')
      // Whoever writes policies wants the gateway to refuse what they did not foresee: a misspelt
      // tool name in an allow rule then refuses a call instead of letting everything through.
      .default('deny')
      .describe('What happens to a call that no rule matches. Default deny.'),
  })
  .describe('Policies that allow, deny, rate-limit or hold calls for approval. Without this section every call is forwarded.');

export const approvalWebhookConfigSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).describe('Where each new approval request is POSTed as JSON (a chat or paging integration).'),
    secret: credentialSourceSchema
      .optional()
      .describe('The key of the HMAC-SHA256 signature in the X-AgentTrail-Signature header (env:NAME, file:PATH or a command). Without it deliveries are unsigned.'),
    timeoutMs: z
      .int('expected a positive integer')
      .positive('expected a positive integer')
      .max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS}`)
      .default(10_000)
      .describe('How long one delivery attempt may take, in milliseconds.'),
    retries: z
      .int('expected a whole number from 0 to 20')
      .min(0, 'expected a whole number from 0 to 20')
      .max(20, 'expected a whole number from 0 to 20')
      .default(5)
      .describe('How often a failed delivery is tried again (after 1 s, 2 s, 4 s, ... up to a minute) while the request still waits.'),
  })
  .describe('A webhook told of every approval request when it is made; each delivery attempt is recorded. It never holds up a call.');

export const approvalsConfigSchema = z
  .strictObject({
    webhook: approvalWebhookConfigSchema.optional(),
  })
  .describe('How people learn that a call waits for their approval.');
export const ingestConfigSchema = z
  .strictObject({
    github: z
      .strictObject({
        secret: secretSourceSchema.describe(
          "The webhook's secret as set in GitHub (env:NAME, file:PATH or a command): X-Hub-Signature-256 must be the HMAC-SHA256 of the body under it.",
        ),
      })
      .optional()
      .describe('GitHub webhooks, received at POST /v1/events/github and accepted only with a valid X-Hub-Signature-256.'),
  })
  .describe('Events that other systems append to the log: POST /v1/events with an ingest token (agenttrail agents add NAME --role ingest), agenttrail ingest, and webhooks.');

const configShape = {
  log: logConfigSchema,
  listen: listenConfigSchema,
  naming: namingConfigSchema,
  servers: serverMapSchema
    .refine((servers) => Object.keys(servers).length > 0, ADD_A_SERVER)
    .meta({ minProperties: 1 })
    .describe('Upstream MCP servers, by name. Each has either command (stdio) or url (HTTP).'),
  auth: authConfigSchema,
  credentials: z
    .record(credentialNameSchema, credentialConfigSchema)
    .default({})
    .describe('Secrets handed to upstream servers (in a header or an environment variable), recorded by fingerprint only.'),
  redaction: redactionConfigSchema,
  policies: policiesConfigSchema.optional(),
  approvers: z
    .record(z.string().regex(/^[a-z0-9][a-z0-9_.@-]*$/, 'invalid approver name: use lower-case letters, digits, ".", "_", "-" and "@"'), approverConfigSchema)
    .optional()
    .describe('People who decide calls held by require_approval, by name. Without approvers such calls are refused.'),
  approvals: approvalsConfigSchema.optional(),
  ingest: ingestConfigSchema.optional(),
};

// A server name must not contain the separator, or a prefixed name would split ambiguously.
function checkServerNamesAgainstSeparator(
  config: { naming: { separator: string }; servers: Record<string, unknown> },
  context: z.RefinementCtx,
): void {
  const { separator } = config.naming;
  for (const name of Object.keys(config.servers)) {
    if (name.includes(separator)) {
      context.addIssue({
        code: 'custom',
        path: ['servers', name],
        message: `server name must not contain the naming separator "${separator}" (names become <server>${separator}<tool>)`,
      });
    }
  }
}

// Unprefixed names cannot tell two upstreams apart.
function checkUnprefixedNamesHaveOneServer(
  config: { naming: { prefix: boolean }; servers: Record<string, unknown> },
  context: z.RefinementCtx,
): void {
  const count = Object.keys(config.servers).length;
  if (!config.naming.prefix && count !== 1) {
    context.addIssue({
      code: 'custom',
      path: ['naming', 'prefix'],
      message: `prefix: false needs exactly one server (there are ${count}); with several, names must be prefixed to tell them apart`,
    });
  }
}

// A credential must name configured servers, each of a kind that can carry it as configured.
function checkCredentialTargets(
  config: { servers: Record<string, ServerConfig>; credentials: Record<string, CredentialConfig> },
  context: z.RefinementCtx,
): void {
  for (const [name, credential] of Object.entries(config.credentials)) {
    if (isTokenExchange(credential.source) && (credential.scope !== undefined || credential.expires !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['credentials', name],
        message: 'a token-exchange credential\'s scope and expiry come from the token endpoint: ask for a scope with tokenExchange.scope, and drop scope and expires here',
      });
    }
    credential.servers.forEach((server, i) => {
      const target = config.servers[server];
      if (target === undefined) {
        context.addIssue({ code: 'custom', path: ['credentials', name, 'servers', i], message: `no server named "${server}" (servers: ${Object.keys(config.servers).join(', ') || 'none'})` });
        return;
      }
      const problem = credentialTargetProblem(credential, server, target);
      if (problem !== undefined) context.addIssue({ code: 'custom', path: ['credentials', name], message: problem });
    });
  }
}

// One key is one person: two names for it would let one person count as two approvers.
function checkApproverKeysDistinct(config: { approvers?: Record<string, ApproverConfig> | undefined }, context: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  for (const [name, approver] of Object.entries(config.approvers ?? {})) {
    const other = seen.get(approver.key);
    if (other !== undefined) context.addIssue({ code: 'custom', path: ['approvers', name, 'key'], message: `is also the key of approver "${other}"; each person has a key of their own` });
    seen.set(approver.key, name);
  }
}

/**
 * Why `credential` cannot go to `server` as configured; undefined when it can. A stdio server's
 * environment is fixed when its process starts, and that process serves every agent and tool, so
 * nothing that differs per call (a credential for some agents or tools, an exchanged token) can
 * reach it. The legacy SSE transport has no per-request headers either.
 */
export function credentialTargetProblem(credential: CredentialConfig, serverName: string, server: ServerConfig): string | undefined {
  const perCall = isTokenExchange(credential.source) ? 'a token-exchange credential' : credential.agents !== undefined || credential.tools !== undefined ? 'a credential limited to agents or tools' : undefined;
  if ('command' in server) {
    if (perCall !== undefined) {
      return `server "${serverName}" runs over stdio, whose environment is set once when the process starts and serves every agent and tool: ${perCall} can go only to an HTTP server`;
    }
    if (credential.env === undefined) return `server "${serverName}" runs over stdio: say which environment variable carries the credential (env: NAME)`;
    return undefined;
  }
  if (credential.header === undefined) return `server "${serverName}" is reached over HTTP: say which header carries the credential (header: Authorization)`;
  if (server.transport === 'sse' && perCall !== undefined) {
    return `server "${serverName}" uses the legacy SSE transport, which sends no per-request headers: ${perCall} needs transport: streamable-http`;
  }
  return undefined;
}

export function isTokenExchange(source: CredentialSource): source is TokenExchangeSource {
  return typeof source === 'object' && 'tokenExchange' in source;
}

export const gatewayConfigSchema = z
  .strictObject(configShape)
  .superRefine(checkCredentialTargets)
  .superRefine(checkApproverKeysDistinct)
  .superRefine(checkServerNamesAgainstSeparator)
  .superRefine(checkUnprefixedNamesHaveOneServer)
  .meta({ title: 'AgentTrail gateway configuration (agenttrail.yaml)' });

// For `agenttrail wrap`, whose upstream comes from the command line: servers may be absent.
export const gatewayConfigWithOptionalServersSchema = z
  .strictObject({ ...configShape, servers: serverMapSchema.prefault({}) })
  .superRefine(checkServerNamesAgainstSeparator)
  .superRefine(checkApproverKeysDistinct);

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type LogConfig = z.infer<typeof logConfigSchema>;
export type WitnessConfig = z.infer<typeof witnessConfigSchema>;
export type ListenConfig = z.infer<typeof listenConfigSchema>;
export type NamingConfig = z.infer<typeof namingConfigSchema>;
export type ServerConfig = z.infer<typeof serverConfigSchema>;
export type StdioServerConfig = z.infer<typeof stdioServerConfigSchema>;
export type HttpServerConfig = z.infer<typeof httpServerConfigSchema>;
export type CredentialConfig = z.infer<typeof credentialConfigSchema>;
export type CredentialSource = z.infer<typeof credentialSourceSchema>;
export type SecretSource = z.infer<typeof secretSourceSchema>;
export type TokenExchangeSource = Extract<CredentialSource, { tokenExchange: unknown }>;
export type TokenExchangeConfig = z.infer<typeof tokenExchangeConfigSchema>;
export type RedactionConfig = z.infer<typeof redactionConfigSchema>;
export type AuthConfig = z.infer<typeof authConfigSchema>;
export type PoliciesConfig = z.infer<typeof policiesConfigSchema>;
export type ApproverConfig = z.infer<typeof approverConfigSchema>;
export type ApprovalWebhookConfig = z.infer<typeof approvalWebhookConfigSchema>;
export type IngestConfig = z.infer<typeof ingestConfigSchema>;

/** The configuration used when there is no config file: every default, no servers. */
export function defaultConfig(): GatewayConfig {
  return gatewayConfigWithOptionalServersSchema.parse({});
}
