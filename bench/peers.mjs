// Gateway figures for `npm run bench`: every scenario of scenarios.mjs measured in one run,
// interleaved (round after round of short slices, scenario order rotated each round) so that noise
// from the machine falls on all of them alike. Per scenario: tools/call latency at concurrency 1,
// throughput at 16 and 64 calls in flight, the CPU the gateway process itself spent per call (and,
// apart, the upstream's), resident memory at the end, and for AgentTrail the audit bytes per call.
import { createClient } from '@libsql/client';
import { cpuSeconds, residentBytes } from './process-tree.mjs';
import { startScenarios } from './scenarios.mjs';

export const CONCURRENCIES = [1, 16, 64];
const PAUSE_BETWEEN_SLICES_MS = 20;

/** One tools/call of `echo`, checked: a benchmark of failing calls would measure nothing. */
export async function callEcho(scenario, n) {
  const message = `hello from call ${n}`;
  const result = await scenario.client.callTool({ name: scenario.tool, arguments: { message } });
  const text = result.content?.[0]?.text;
  if (result.isError || text !== `Echo: ${message}`) {
    throw new Error(`${scenario.label}: expected 'Echo: ${message}', got ${JSON.stringify(result).slice(0, 300)}`);
  }
}

/** CPU seconds of each of `pids` now. */
function cpuByPid(pids) {
  return new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
}

/** CPU the processes spent since `before`; a process born meanwhile counts from zero, one that
 * has gone is left out (its last reading is lost with it). */
function cpuSince(before, pidsNow) {
  let spent = 0;
  for (const pid of new Set([...before.keys(), ...pidsNow])) {
    const now = cpuSeconds(pid);
    if (now > 0) spent += now - (before.get(pid) ?? 0);
  }
  return spent;
}

/** Runs `concurrency` callers against one scenario for `seconds`, then lets the calls in flight finish. */
async function measureSlice(scenario, concurrency, seconds, tally) {
  const upstreamBefore = cpuByPid(scenario.upstreamPids());
  const gatewayBefore = scenario.gatewayPid === undefined ? 0 : cpuSeconds(scenario.gatewayPid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let calls = 0;
  const caller = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      await callEcho(scenario, scenario.callsMade++);
      if (concurrency === 1) tally.latenciesMs.push(performance.now() - sent);
      calls++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  tally.calls += calls;
  tally.seconds += elapsed;
  tally.clientCpuSeconds += (client.user + client.system) / 1e6;
  tally.upstreamCpuSeconds += cpuSince(upstreamBefore, scenario.upstreamPids());
  if (scenario.gatewayPid !== undefined) tally.gatewayCpuSeconds += cpuSeconds(scenario.gatewayPid) - gatewayBefore;
}

function percentile(sorted, p) {
  return sorted.length === 0 ? undefined : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

// null, not undefined, for a figure that does not apply, so that every scenario has the same keys in JSON.
const round = (value, digits) => (value === undefined ? null : Number(value.toFixed(digits)));
const msPerCall = (cpuSecondsSpent, calls) => (calls === 0 ? null : round((cpuSecondsSpent * 1000) / calls, 3));

/** The bytes a database file holds once its WAL is folded in (free pages not counted), and what
 * the audit log in it holds. */
export async function auditDatabase(file) {
  const client = createClient({ url: `file:${file}` });
  try {
    await client.execute('PRAGMA wal_checkpoint(TRUNCATE)');
    const value = async (sql) => Number((await client.execute(sql)).rows[0][0]);
    const bytes = ((await value('PRAGMA page_count')) - (await value('PRAGMA freelist_count'))) * (await value('PRAGMA page_size'));
    return {
      bytes,
      entries: await value('SELECT count(*) FROM entries'),
      toolCallEntries: await value("SELECT count(*) FROM entries WHERE kind = 'tool.call'"),
      checkpoints: await value('SELECT count(*) FROM checkpoints'),
    };
  } finally {
    client.close();
  }
}

/**
 * `rounds` rounds; each measures every scenario at every concurrency for `sliceSeconds`.
 * Before that, `warmupCalls` calls per scenario (sequential, then 16 in flight) let the JITs settle.
 */
export async function runPeerBench({ rounds = 5, sliceSeconds = 1, warmupCalls = 400 } = {}) {
  const { scenarios, stop, removeFiles } = await startScenarios();
  try {
    for (const scenario of scenarios) {
      scenario.callsMade = 0;
      scenario.tallies = new Map(CONCURRENCIES.map((c) => [c, { calls: 0, seconds: 0, latenciesMs: [], gatewayCpuSeconds: 0, upstreamCpuSeconds: 0, clientCpuSeconds: 0 }]));
      for (let i = 0; i < warmupCalls / 2; i++) await callEcho(scenario, scenario.callsMade++);
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let i = 0; i < warmupCalls / 32; i++) await callEcho(scenario, scenario.callsMade++);
      }));
    }
    for (let r = 0; r < rounds; r++) {
      const order = scenarios.map((_, i) => scenarios[(i + r) % scenarios.length]);
      for (const concurrency of CONCURRENCIES) {
        for (const scenario of order) {
          await measureSlice(scenario, concurrency, sliceSeconds, scenario.tallies.get(concurrency));
          await new Promise((resolve) => setTimeout(resolve, PAUSE_BETWEEN_SLICES_MS));
        }
      }
      process.stderr.write(`bench: gateways, round ${r + 1} of ${rounds} done\n`);
    }
    const memory = new Map(scenarios.map((s) => [s.id, {
      gatewayRssBytes: s.gatewayPid === undefined ? null : residentBytes(s.gatewayPid) ?? null,
      upstreamRssBytes: s.upstreamPids().reduce((sum, pid) => sum + (residentBytes(pid) ?? 0), 0),
    }]));
    await stop();

    const audits = new Map();
    for (const db of new Set(scenarios.map((s) => s.db).filter(Boolean))) {
      const calls = scenarios.filter((s) => s.db === db).reduce((sum, s) => sum + s.callsMade, 0);
      const audit = await auditDatabase(db);
      // Full audit means every call made is in the log; anything less would flatter the figures.
      if (audit.toolCallEntries < calls) throw new Error(`${db}: ${calls} calls were made but only ${audit.toolCallEntries} are in the log`);
      audits.set(db, { ...audit, calls, bytesPerCall: Math.round(audit.bytes / calls), entriesPerCheckpoint: round(audit.entries / audit.checkpoints, 1) });
    }

    return scenarios.map((s) => ({
      id: s.id,
      label: s.label,
      kind: s.kind,
      upstream: s.upstream,
      calls: s.callsMade,
      ...Object.fromEntries(CONCURRENCIES.map((c) => {
        const t = s.tallies.get(c);
        const sorted = t.latenciesMs.sort((a, b) => a - b);
        return [`c${c}`, {
          calls: t.calls,
          seconds: round(t.seconds, 2),
          callsPerSecond: Math.round(t.calls / t.seconds),
          p50Ms: c === 1 ? round(percentile(sorted, 0.5), 3) : null,
          p99Ms: c === 1 ? round(percentile(sorted, 0.99), 3) : null,
          gatewayCpuMsPerCall: s.gatewayPid === undefined ? null : msPerCall(t.gatewayCpuSeconds, t.calls),
          upstreamCpuMsPerCall: msPerCall(t.upstreamCpuSeconds, t.calls),
          clientCpuMsPerCall: msPerCall(t.clientCpuSeconds, t.calls),
        }];
      })),
      ...memory.get(s.id),
      audit: s.db ? audits.get(s.db) : null,
    }));
  } finally {
    await stop();
    await removeFiles();
  }
}
