import { userInfo } from 'node:os';
import { z } from 'zod';
import { readApprovalBook, requestStatus } from '../approvals/approval-book.js';
import type { RecordedRequest } from '../approvals/approval-book.js';
import { APPROVAL_STATEMENT_TYPE, signApprovalStatement } from '../approvals/approval-statement.js';
import type { ApprovalStatement } from '../approvals/approval-statement.js';
import { ApproverRegistry } from '../approvals/approver-registry.js';
import type { GatewayConfig } from '../config/config-schema.js';
import { loadConfigFile } from '../config/load-config-file.js';
import { waitInWords } from '../policy/duration-text.js';
import type { Store } from '../store/open-store.js';
import { primaryDatabase } from '../store/database-connection.js';
import { openStore } from '../store/open-store.js';
import { openAuditDatabase, resolveDatabase, resolveDatabaseUrl } from './audit-database.js';
import { readGatewayKey, resolveKeyPath } from './gateway-key.js';
import { UsageError } from './usage-error.js';

export const ApprovalsOptionsSchema = z.strictObject({
  config: z.string().min(1).default('agenttrail.yaml'),
  db: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  reason: z.string().min(1, 'must not be empty').optional(),
  json: z.boolean().default(false),
});
export type ApprovalsOptions = z.infer<typeof ApprovalsOptionsSchema>;

const MIN_ID_PREFIX = 8;
const SHOWN_ARGS_CHARS = 300;

/** `agenttrail approvals list | approve ID | deny ID`. */
export async function runApprovals(positionals: readonly string[], options: ApprovalsOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const [action, id, extra] = positionals;
  if (action !== 'list' && action !== 'approve' && action !== 'deny') {
    throw new UsageError(action === undefined ? 'approvals needs an action: list, approve ID or deny ID' : `unknown approvals action '${action}' (actions: list, approve, deny)`);
  }
  const { config } = await loadConfigFile(options.config, env, { requireServers: false });
  const registry = new ApproverRegistry(config.approvers ?? {});
  const url = resolveDatabaseUrl(options.db, config.log.db, env);
  if (action === 'list') {
    if (id !== undefined) throw new UsageError(`approvals list takes no ID, got '${id}'`);
    const store = await openStore({ url, authToken: env.AGENTTRAIL_DB_AUTH_TOKEN, readOnly: true });
    try {
      await listRequests(store, config.log.origin, registry, options.json);
    } finally {
      await store.close();
    }
    return;
  }
  if (id === undefined) throw new UsageError(`approvals ${action} needs the ID of a request (see agenttrail approvals list)`);
  if (extra !== undefined) throw new UsageError(`approvals ${action} takes one ID, got also '${extra}'`);
  if (options.key === undefined) throw new UsageError(`approvals ${action} needs --key FILE: your own signer key, whose verifier key the config lists under approvers`);
  await decide(action === 'approve' ? 'approve' : 'deny', id, options, config, registry, env);
}

async function bookOf(store: Store, log: string, registry: ApproverRegistry): Promise<Map<string, RecordedRequest>> {
  const [requests, decisions, consumed] = await Promise.all(['approval.request', 'approval.decision', 'approval.consumed'].map((kind) => store.entriesOfKind(log, kind)));
  return readApprovalBook(log, { requests: requests!, decisions: decisions!, consumed: consumed! }, registry);
}

/** The arguments of the call a request holds, as recorded (secrets redacted). */
async function argumentsOf(store: Store, log: string, request: RecordedRequest): Promise<unknown> {
  const entries = await store.entries(log, { session: request.entry.session });
  const call = entries.find((entry) => entry.call === request.entry.call && (entry.kind === 'tool.call' || entry.kind === 'mcp.request'));
  const params = (call?.payload as { params?: { arguments?: unknown } } | undefined)?.params;
  return request.entry.method === 'tools/call' ? (params?.arguments ?? {}) : (params ?? {});
}

async function listRequests(store: Store, log: string, registry: ApproverRegistry, json: boolean): Promise<void> {
  const now = Date.now();
  const pending = [...(await bookOf(store, log, registry)).values()].filter((request) => requestStatus(request, now) === 'pending');
  const listed = await Promise.all(
    pending.map(async (request) => ({
      id: request.payload.id,
      index: request.entry.index,
      time: request.entry.time,
      expires: request.payload.expires,
      agent: request.entry.agent,
      server: request.entry.server,
      tool: request.entry.tool,
      argsHash: request.entry.argsHash,
      arguments: await argumentsOf(store, log, request),
      rule: request.payload.rule,
      approvers: request.payload.approvers,
      count: request.payload.count,
      approvedBy: request.decisions.filter((decision) => decision.decision === 'approve').map((decision) => decision.approver),
    })),
  );
  if (json) {
    process.stdout.write(`${JSON.stringify({ log, requests: listed }, null, 2)}\n`);
    return;
  }
  if (listed.length === 0) {
    process.stdout.write('No approval request is waiting.\n');
    return;
  }
  const lines: string[] = [];
  for (const request of listed) {
    const who = request.agent.id ?? `anonymous ${request.agent.transport} agent`;
    lines.push(`${request.id}  ${who} calls ${request.server}/${request.tool}  (rule ${request.rule}, expires in ${waitInWords(Date.parse(request.expires) - now)})`);
    const args = JSON.stringify(request.arguments);
    lines.push(`  arguments: ${args.length > SHOWN_ARGS_CHARS ? `${args.slice(0, SHOWN_ARGS_CHARS)}…` : args}`);
    lines.push(`  needs ${request.count} of ${request.approvers.join(', ')}; approved so far by ${request.approvedBy.join(', ') || 'nobody'}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Signs the decision with the approver's own key and records it. Refused before anything is
 * written: a key that is no registered approver's, a request that is not waiting, one the rule
 * does not ask this approver for, their own call, or one they decided already.
 */
async function decide(decision: 'approve' | 'deny', id: string, options: ApprovalsOptions, config: GatewayConfig, registry: ApproverRegistry, env: NodeJS.ProcessEnv): Promise<void> {
  const approverKey = await readGatewayKey(options.key!);
  const approver = registry.byKey(approverKey.verifierKey);
  if (approver === undefined) throw new Error(`the key in ${options.key} (${approverKey.verifierKey}) is no approver's in ${options.config}; add it under approvers`);
  const origin = config.log.origin;
  const gatewayKey = await readGatewayKey(resolveKeyPath(undefined, config.log.key, env));
  const database = await openAuditDatabase(primaryDatabase(resolveDatabase(options.db, config.log, env)), origin, gatewayKey);
  try {
    const request = findRequest(await bookOf(database.store, origin, registry), id);
    const status = requestStatus(request, Date.now());
    if (status !== 'pending') throw new Error(`approval request ${request.payload.id} is ${status === 'used' ? 'used already' : status}; there is nothing to decide`);
    const refusal = registry.refusal(approver, { agent: request.entry.agent, approvers: request.payload.approvers });
    if (refusal !== undefined) throw new Error(refusal);
    const earlier = request.decisions.find((made) => made.approver === approver.name);
    if (earlier !== undefined) throw new Error(`approver "${approver.name}" already decided request ${request.payload.id} (${earlier.decision}, entry ${earlier.index}); approvals need distinct approvers`);
    const time = new Date().toISOString();
    const statement: ApprovalStatement = {
      type: APPROVAL_STATEMENT_TYPE,
      log: origin,
      request: { id: request.payload.id, index: request.entry.index, sha256: request.sha256 },
      decision,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      approver: approverKey.verifierKey,
      time,
    };
    const entry = await database.appender.append({
      v: 1,
      time,
      kind: 'approval.decision',
      // In the session of the call it decides, so that its timeline shows who let it run.
      session: request.entry.session,
      agent: { transport: 'cli', user: userInfo().username },
      ...(request.entry.server === undefined ? {} : { server: request.entry.server }),
      ...(request.entry.tool === undefined ? {} : { tool: request.entry.tool }),
      ...(request.entry.call === undefined ? {} : { call: request.entry.call }),
      ...(request.entry.argsHash === undefined ? {} : { argsHash: request.entry.argsHash }),
      payload: {
        request: request.payload.id,
        decision,
        approver: approver.name,
        ...(options.reason === undefined ? {} : { reason: options.reason }),
        statement,
        signature: signApprovalStatement(statement, approverKey),
      },
    });
    const approvals = request.decisions.filter((made) => made.decision === 'approve').length + (decision === 'approve' ? 1 : 0);
    const standing = decision === 'approve' ? ` (${approvals} of ${request.payload.count} approvals)` : '';
    process.stdout.write(`${decision === 'approve' ? 'approved' : 'denied'} request ${request.payload.id}${standing} as ${approver.name}, recorded as entry ${entry.index} of log "${origin}"\n`);
  } finally {
    await database.close();
  }
}

/** A request by its id, or by a prefix of it long enough to name one. */
function findRequest(book: Map<string, RecordedRequest>, id: string): RecordedRequest {
  const exact = book.get(id);
  if (exact !== undefined) return exact;
  const matches = id.length >= MIN_ID_PREFIX ? [...book.values()].filter((request) => request.payload.id.startsWith(id)) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new UsageError(`'${id}' names ${matches.length} approval requests; give more of the ID`);
  throw new Error(`no approval request '${id}' in the log (see agenttrail approvals list)`);
}
