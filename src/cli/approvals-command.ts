import { userInfo } from 'node:os';
import { z } from 'zod';
import type { RecordedRequest } from '../approvals/approval-book.js';
import { admitDecision, describeRecordedDecision, readRequestBook, statementBase, waitingRequests } from '../approvals/approval-queue.js';
import { signApprovalStatement } from '../approvals/approval-statement.js';
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

async function listRequests(store: Store, log: string, registry: ApproverRegistry, json: boolean): Promise<void> {
  const now = Date.now();
  const listed = await waitingRequests(store, log, registry, now);
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
 * Signs the decision with the approver's own key and records it, after the checks every decision
 * passes (approval-queue.ts, the same for the web UI): nothing is written for a key that is no
 * registered approver's, a request that is not waiting, one the rule does not ask this approver
 * for, their own call, or one they decided already.
 */
async function decide(decision: 'approve' | 'deny', id: string, options: ApprovalsOptions, config: GatewayConfig, registry: ApproverRegistry, env: NodeJS.ProcessEnv): Promise<void> {
  const approverKey = await readGatewayKey(options.key!);
  if (registry.byKey(approverKey.verifierKey) === undefined) throw new Error(`the key in ${options.key} (${approverKey.verifierKey}) is no approver's in ${options.config}; add it under approvers`);
  const origin = config.log.origin;
  const gatewayKey = await readGatewayKey(resolveKeyPath(undefined, config.log.key, env));
  const database = await openAuditDatabase(primaryDatabase(resolveDatabase(options.db, config.log, env)), origin, gatewayKey);
  try {
    const request = findRequest(await readRequestBook(database.store, origin, registry), id);
    const now = Date.now();
    const statement: ApprovalStatement = {
      ...statementBase(origin, request),
      decision,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      approver: approverKey.verifierKey,
      time: new Date(now).toISOString(),
    };
    const signed = { statement, signature: signApprovalStatement(statement, approverKey) };
    const { approver, draft } = admitDecision(origin, request, registry, signed, { transport: 'cli', user: userInfo().username }, now);
    const entry = await database.appender.append(draft);
    process.stdout.write(`${describeRecordedDecision(origin, request, approver, decision, entry.index)}\n`);
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
