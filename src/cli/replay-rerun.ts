import { userInfo } from 'node:os';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import type { GatewayConfig } from '../config/config-schema.js';
import type { Gateway } from '../gateway/gateway.js';
import type { SessionIdentity } from '../gateway/call-recorder.js';
import { canonicalHash } from '../ledger/canonical-json.js';
import type { AgentIdentity } from '../ledger/entry.js';
import { readRecordedToolSession } from '../review/recorded-tool-calls.js';
import type { RecordedToolCall, RecordedToolSession } from '../review/recorded-tool-calls.js';
import { compareRerun } from '../review/rerun-verdict.js';
import type { RerunVerdict } from '../review/rerun-verdict.js';
import { AGENTTRAIL_VERSION } from '../version.js';
import { openAuditedGateway } from './audited-gateway.js';
import type { ReviewDatabase } from './review-database.js';

export interface RerunFlags {
  readonly db?: string | undefined;
  readonly key?: string | undefined;
  readonly allowSideEffects: boolean;
}

/** One recorded call and how its rerun went. */
export interface RerunOutcome {
  readonly recorded: RecordedToolCall;
  /** The name it was called by in the rerun (the current config's naming). */
  readonly name: string;
  readonly verdict: RerunVerdict;
  /** The index of the rerun's request entry; undefined when it was skipped. */
  readonly rerunIndex?: number | undefined;
}

export interface Rerun {
  /** The session the rerun was recorded as, in the config's log. */
  readonly session: string;
  readonly log: string;
  readonly outcomes: readonly RerunOutcome[];
}

const REPLAY_CLIENT = { name: 'agenttrail-replay', version: AGENTTRAIL_VERSION };
export const REPLAY_STARTED_KIND = 'replay.started';
export const REPLAY_FINISHED_KIND = 'replay.finished';

/** A call to be made again, under the name the gateway now gives its tool; or why it is not. */
type Plan = { readonly recorded: RecordedToolCall; readonly name: string; readonly skip?: string };

/**
 * Runs the recorded tools/calls of `recording` again through a gateway built from `config`, as
 * `agenttrail serve` builds one: its policies decide, its credentials go upstream, and its log records
 * the rerun as a new session of an agent of its own (the operator, as `agenttrail-replay`), between
 * replay.started and replay.finished entries that name the recorded session. Then compares each
 * rerun outcome, as logged, with the recorded one (see compareRerun). `database` reads the log.
 */
export async function rerunRecording(config: GatewayConfig, recording: RecordedToolSession, database: ReviewDatabase, flags: RerunFlags, env: NodeJS.ProcessEnv): Promise<Rerun> {
  const { gateway, database: audit, closeWatches } = await openAuditedGateway(config, new Map(Object.entries(config.servers)), flags, env, {
    prefixNames: config.naming.prefix,
    onStderrLine: (server, line) => process.stderr.write(`[${server}] ${line}\n`),
  });
  const who: SessionIdentity = {
    session: crypto.randomUUID(),
    agent: { transport: 'cli', user: userInfo().username, client: REPLAY_CLIENT } satisfies AgentIdentity,
  };
  const log = config.log.origin;
  try {
    const replayOf = { log: recording.log, session: recording.session };
    await gateway.recorder.event(who, REPLAY_STARTED_KIND, { replayOf, calls: recording.calls.length, allowSideEffects: flags.allowSideEffects });
    const plans = await runAgainThrough(gateway, new Set(Object.keys(config.servers)), who, recording, flags.allowSideEffects);
    const rerun = await readRecordedToolSession(database.client, log, who.session);
    const ran = plans.filter((plan) => plan.skip === undefined);
    if (rerun.calls.length !== ran.length) {
      throw new Error(`the rerun made ${ran.length} calls, but log "${log}" holds ${rerun.calls.length} for session ${who.session}; is --db the database of the config's log?`);
    }
    let next = 0;
    const outcomes = plans.map((plan): RerunOutcome => {
      if (plan.skip !== undefined) return { recorded: plan.recorded, name: plan.name, verdict: { status: 'skipped', reason: plan.skip } };
      const again = rerun.calls[next++]!;
      return { recorded: plan.recorded, name: plan.name, verdict: compareRerun(plan.recorded, again), rerunIndex: again.index };
    });
    await gateway.recorder.event(who, REPLAY_FINISHED_KIND, { replayOf, ...countVerdicts(outcomes) });
    return { session: who.session, log, outcomes };
  } finally {
    await closeWatches();
    await gateway.close();
    await audit.close();
  }
}

export function countVerdicts(outcomes: readonly RerunOutcome[]): Record<RerunVerdict['status'], number> {
  const counts = { same: 0, different: 0, refused: 0, skipped: 0 };
  for (const { verdict } of outcomes) counts[verdict.status] += 1;
  return counts;
}

/**
 * One agent session of the gateway, driven by an SDK client over an in-memory transport: the
 * rerun takes the same path through the gateway as an agent's calls. The tools' annotations come
 * from the upstreams' tools/list as the gateway passes it on now.
 */
async function runAgainThrough(gateway: Gateway, configured: ReadonlySet<string>, who: SessionIdentity, recording: RecordedToolSession, allowSideEffects: boolean): Promise<Plan[]> {
  const session = gateway.openSession(who.session, who.agent);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client(REPLAY_CLIENT, {});
  try {
    await session.server.connect(serverSide);
    await client.connect(clientSide);
    const { tools } = await client.listTools();
    const readOnly = new Map(tools.map((tool) => [tool.name, tool.annotations?.readOnlyHint === true]));
    const plans = recording.calls.map((recorded) => plan(gateway, configured, recorded, readOnly, allowSideEffects));
    for (const { name, recorded, skip } of plans) {
      if (skip !== undefined) continue;
      // The outcome is read back from the log, recorded (and redacted) as the recorded one was.
      await client.callTool({ name, arguments: recorded.arguments ?? {} }, { resetTimeoutOnProgress: true }).catch(() => undefined);
    }
    return plans;
  } finally {
    await client.close().catch(() => undefined);
    await session.close();
  }
}

function plan(gateway: Gateway, configured: ReadonlySet<string>, recorded: RecordedToolCall, readOnly: ReadonlyMap<string, boolean>, allowSideEffects: boolean): Plan {
  const { server, tool, argsHash } = recorded;
  if (server === undefined || tool === undefined) return { recorded, name: recorded.name, skip: 'the recorded call names no upstream server and tool' };
  const name = gateway.names.qualify(server, tool);
  const skip = (reason: string): Plan => ({ recorded, name, skip: reason });
  if (!configured.has(server)) return skip(`server "${server}" is not in the config`);
  if (!readOnly.has(name)) return skip(`the gateway's upstreams do not offer ${name} now`);
  if (recorded.arguments === undefined) return skip('its arguments were removed by retention');
  // The hash covers the arguments as the agent sent them: another hash means secrets were redacted from the record.
  if (canonicalHash(recorded.arguments) !== argsHash) return skip('its arguments were recorded with secrets redacted, so they cannot be sent again');
  if (!readOnly.get(name) && !allowSideEffects) return skip(`${name} is not marked read-only (readOnlyHint) by its server; --allow-side-effects runs it`);
  return { recorded, name };
}
