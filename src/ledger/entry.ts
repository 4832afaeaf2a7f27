import { z } from 'zod';

/** Who made the request an entry records. Loose so that later versions can add identity fields. */
export const AgentIdentitySchema = z.looseObject({
  /** 'cli' for what an operator does with the agenttrail command, e.g. rotating a key. */
  transport: z.enum(['stdio', 'http', 'cli']),
  /** The MCP protocol revision the agent negotiated, e.g. '2025-11-25'. */
  protocol: z.string().optional(),
  client: z.object({ name: z.string(), version: z.string() }).optional(),
  /** Remote address of an HTTP agent. */
  remote: z.string().optional(),
  /** The OS user running the agent (stdio). */
  user: z.string().optional(),
  /** The process that started `agenttrail wrap` (the agent's client), as far as the OS tells. */
  parentPid: z.number().int().optional(),
  parentCommand: z.string().optional(),
  /** The authenticated agent: its registered name, or the OAuth client an access token was issued to. */
  id: z.string().optional(),
  /** The human principal the agent acts for (an access token's `sub`). */
  subject: z.string().optional(),
  /** How the agent proved who it is: an AgentTrail token, an OAuth access token, or nothing (loopback, when allowed). */
  auth: z.enum(['token', 'oauth', 'none']).optional(),
});
export type AgentIdentity = z.infer<typeof AgentIdentitySchema>;

export const EntryOutcomeSchema = z.enum(['ok', 'error', 'timeout', 'cancelled', 'refused']);
export type EntryOutcome = z.infer<typeof EntryOutcomeSchema>;

/**
 * One ledger entry: its RFC 8785 canonical bytes are a leaf of the log's Merkle tree.
 * Every field is plain JSON so that a third party can recompute the leaf from the stored body.
 */
export const EntrySchema = z.object({
  v: z.literal(1),
  /** Position in the log, assigned by the log's single writer: 0, 1, 2, ... without gaps. */
  index: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** ISO 8601 UTC with milliseconds, e.g. '2026-01-31T12:00:00.000Z'. */
  time: z.iso.datetime({ precision: 3 }),
  /** 'session.start', 'session.end', 'tool.call', 'tool.result', 'mcp.request', 'mcp.result', ... */
  kind: z.string().min(1),
  session: z.string(),
  agent: AgentIdentitySchema,
  /** The upstream server's configured name. */
  server: z.string().optional(),
  /** The JSON-RPC method, e.g. 'tools/call'. */
  method: z.string().optional(),
  /** The upstream's own tool/prompt name or resource uri. */
  tool: z.string().optional(),
  /** The name the agent used, e.g. 'everything__echo'. */
  name: z.string().optional(),
  /** Links a request entry and the entry of its outcome. */
  call: z.string().optional(),
  /** Hex SHA-256 of the canonical JSON of the call's arguments. */
  argsHash: z.string().regex(/^[0-9a-f]{64}$/, 'expected a lower-case hex SHA-256').optional(),
  outcome: EntryOutcomeSchema.optional(),
  durationMs: z.number().nonnegative().optional(),
  /** Any JSON value (redacted before it is recorded). */
  payload: z.unknown().optional(),
});
export type Entry = z.infer<typeof EntrySchema>;

/** An entry before the log's writer has given it an index. */
export const EntryDraftSchema = EntrySchema.omit({ index: true });
export type EntryDraft = z.infer<typeof EntryDraftSchema>;
