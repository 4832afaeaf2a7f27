// `npm run bench:soak`: memory and latency of `agenttrail serve` over a long run. Drives N calls
// (default 1,000,000) at a fixed concurrency through serve (full audit) in front of one upstream,
// and prints, every --every calls, the throughput, latency percentiles and the gateway's resident
// memory over that window. At the end: every call must be in the log (tool.call entries = calls
// made) and `agenttrail verify` must pass. Writes bench/results/soak-<upstream>.json.
// Options: --calls N, --concurrency N (64), --every N (calls per window, 50,000),
// --upstream stdio|http (stdio: server-everything; http: the bench's echo server).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { silenceAbortListenerWarnings } from './known-warnings.mjs';
import { auditDatabase, callEcho } from './peers.mjs';
import { residentBytes } from './process-tree.mjs';
import { AGENTTRAIL_BIN, httpClient, startServeInFrontOf } from './scenarios.mjs';

silenceAbortListenerWarnings();
const { values: options } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '64' },
    every: { type: 'string', default: '50000' },
    upstream: { type: 'string', default: 'stdio' },
  },
});
const totalCalls = Number(options.calls);
const concurrency = Number(options.concurrency);
const windowCalls = Number(options.every);
for (const [name, value] of [['calls', totalCalls], ['concurrency', concurrency], ['every', windowCalls]]) {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number`);
}

const MIB = 1024 * 1024;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const folder = await mkdtemp(join(tmpdir(), 'agenttrail-bench-soak-'));
const stops = [];
try {
  const { gateway, url, db, token, tool, stop } = await startServeInFrontOf(options.upstream, folder);
  stops.unshift(stop);
  const client = await httpClient(url, token);
  stops.unshift(() => client.close());
  const scenario = { label: `agenttrail serve → ${options.upstream}`, tool, client };

  const windows = [];
  let issued = 0;
  let latencies = [];
  let windowStart = performance.now();
  let windowCallsDone = 0;
  const closeWindow = () => {
    latencies.sort((a, b) => a - b);
    const seconds = (performance.now() - windowStart) / 1000;
    const row = {
      calls: issued,
      callsPerSecond: Math.round(windowCallsDone / seconds),
      p50Ms: Number(percentile(latencies, 0.5).toFixed(2)),
      p99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
      rssMiB: Math.round(residentBytes(gateway.pid) / MIB),
    };
    windows.push(row);
    console.log(`${String(row.calls).padStart(9)}  ${String(row.callsPerSecond).padStart(7)}  ${String(row.p50Ms).padStart(7)}  ${String(row.p99Ms).padStart(7)}  ${String(row.rssMiB).padStart(7)}`);
    latencies = [];
    windowCallsDone = 0;
    windowStart = performance.now();
  };

  console.log(`agenttrail serve → ${options.upstream}: ${totalCalls} calls, ${concurrency} in flight`);
  console.log(`    calls  calls/s  p50 ms  p99 ms  RSS MiB`);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < totalCalls) {
        const n = issued++;
        const started = performance.now();
        await callEcho(scenario, n);
        latencies.push(performance.now() - started);
        windowCallsDone++;
        if (latencies.length >= windowCalls) closeWindow();
      }
    }),
  );
  if (latencies.length > 0) closeWindow();
  for (const stop of stops.splice(0)) await stop();

  const audit = await auditDatabase(db);
  const verified = await promisify(execFile)(process.execPath, [AGENTTRAIL_BIN, 'verify', '--db', `file:${db}`, '--json'], { cwd: folder, maxBuffer: 64 * MIB })
    .then(({ stdout }) => ({ ok: true, report: JSON.parse(stdout) }))
    .catch((error) => ({ ok: false, report: error.stdout || error.message }));
  // Memory is flat when it stops growing once warm: compare the end with the end of the first tenth.
  const warm = windows[Math.max(0, Math.floor(windows.length / 10) - 1)];
  const last = windows[windows.length - 1];
  const summary = {
    time: new Date().toISOString(),
    upstream: options.upstream,
    concurrency,
    calls: totalCalls,
    windows,
    rssGrowthAfterWarmupMiB: last.rssMiB - warm.rssMiB,
    toolCallEntries: audit.toolCallEntries,
    nothingLost: audit.toolCallEntries >= totalCalls,
    verify: verified.ok ? 'pass' : 'FAIL',
    auditBytesPerCall: Math.round(audit.bytes / totalCalls),
  };
  console.log(`RSS after warm-up ${warm.rssMiB} MiB, at the end ${last.rssMiB} MiB (growth ${summary.rssGrowthAfterWarmupMiB} MiB)`);
  console.log(`tool.call entries ${audit.toolCallEntries} for ${totalCalls} calls: ${summary.nothingLost ? 'nothing lost' : 'CALLS MISSING'}; verify: ${summary.verify}`);
  const resultsDir = new URL('./results/', import.meta.url);
  await mkdir(resultsDir, { recursive: true });
  await writeFile(new URL(`soak-${options.upstream}.json`, resultsDir), `${JSON.stringify(summary, null, 2)}\n`);
  if (!summary.nothingLost || !verified.ok) process.exitCode = 1;
} finally {
  for (const stop of stops) await stop().catch(() => undefined);
  await rm(folder, { recursive: true, force: true });
}
