// `npm run bench:profile`: where AgentTrail's time goes per call. Runs `agenttrail serve` under
// `node --cpu-prof` in front of one upstream, drives it with the SDK client at a fixed concurrency,
// and summarises the main thread's self time per call by module and by function, for the measured
// window only (start-up and warm-up left out). Prints the summary and writes it to
// bench/results/profile-<upstream>.json; the raw .cpuprofile is kept there too, for Chrome DevTools.
// Options: --upstream http|stdio (default http: the bench's echo server), --seconds N (10),
// --concurrency N (64), --top N (20).
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summariseCpuProfile } from './cpu-profile-summary.mjs';
import { silenceAbortListenerWarnings } from './known-warnings.mjs';
import { auditDatabase, callEcho } from './peers.mjs';
import { threadCpuSeconds } from './process-tree.mjs';
import { httpClient, startServeInFrontOf } from './scenarios.mjs';

silenceAbortListenerWarnings();
const { values: options } = parseArgs({
  options: {
    upstream: { type: 'string', default: 'http' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '64' },
    top: { type: 'string', default: '20' },
  },
});
const seconds = Number(options.seconds);
const concurrency = Number(options.concurrency);

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const folder = await mkdtemp(join(tmpdir(), 'agenttrail-bench-profile-'));
const profileDir = join(folder, 'profile');
const stops = [];
try {
  const { gateway, url, db, token, tool, stop } = await startServeInFrontOf(options.upstream, folder, { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
  stops.unshift(stop);
  const client = await httpClient(url, token);
  stops.unshift(() => client.close());
  const scenario = { label: `agenttrail serve → ${options.upstream}`, tool, client, callsMade: 0 };
  const callers = async (n, until) =>
    Promise.all(Array.from({ length: n }, async () => {
      while (until()) await callEcho(scenario, scenario.callsMade++);
    }));

  process.stderr.write('profile: warming up...\n');
  let warmup = 0;
  await callers(16, () => warmup++ < 2000);
  process.stderr.write(`profile: ${concurrency} calls in flight for ${seconds} s...\n`);
  const callsBefore = scenario.callsMade;
  const cpuBefore = threadCpuSeconds(gateway.pid);
  const startUs = nowUs();
  const deadline = performance.now() + seconds * 1000;
  await callers(concurrency, () => performance.now() < deadline);
  const endUs = nowUs();
  const cpuAfter = threadCpuSeconds(gateway.pid);
  const cpu = { main: cpuAfter.main - cpuBefore.main, others: cpuAfter.others - cpuBefore.others };
  const calls = scenario.callsMade - callsBefore;
  for (const stop of stops.splice(0)) await stop();
  const audit = await auditDatabase(db);

  const [profileFile] = (await readdir(profileDir)).filter((name) => name.endsWith('.cpuprofile'));
  if (!profileFile) throw new Error(`agenttrail serve wrote no .cpuprofile into ${profileDir}`);
  const profile = JSON.parse(await readFile(join(profileDir, profileFile), 'utf8'));
  if (startUs < profile.startTime || endUs > profile.endTime) {
    throw new Error(`the measured window (${startUs}–${endUs} µs) is not inside the profile (${profile.startTime}–${profile.endTime} µs): clocks differ`);
  }
  const summary = {
    time: new Date().toISOString(),
    upstream: options.upstream,
    concurrency,
    callsPerSecond: Math.round(calls / ((endUs - startUs) / 1e6)),
    // From /proc: CPU of the main thread and of the other threads (libuv's pool, V8's GC helpers).
    // The profile samples the main thread only, and counts time blocked in a system call (an fsync)
    // as the running function's, so main-thread busy time above main-thread CPU is time waited.
    processCpuMsPerCall: Math.round(((cpu.main + cpu.others) * 1e6) / calls) / 1000,
    mainThreadCpuMsPerCall: Math.round((cpu.main * 1e6) / calls) / 1000,
    otherThreadsCpuMsPerCall: Math.round((cpu.others * 1e6) / calls) / 1000,
    // Over the whole run (warm-up included): how many entries each group commit carried.
    entriesPerCheckpoint: Math.round((audit.entries / audit.checkpoints) * 10) / 10,
    ...summariseCpuProfile(profile, { startUs, endUs }, calls, Number(options.top)),
  };

  const resultsDir = new URL('./results/', import.meta.url);
  await mkdir(resultsDir, { recursive: true });
  await writeFile(new URL(`profile-${options.upstream}.json`, resultsDir), `${JSON.stringify(summary, null, 2)}\n`);
  await copyFile(join(profileDir, profileFile), new URL(`serve-${options.upstream}.cpuprofile`, resultsDir));

  console.log(`agenttrail serve → ${options.upstream} upstream, ${concurrency} in flight: ${summary.callsPerSecond} calls/s, ${calls} calls in ${summary.windowMs} ms`);
  console.log(`process CPU ${summary.processCpuMsPerCall} ms/call: main thread ${summary.mainThreadCpuMsPerCall}, other threads ${summary.otherThreadsCpuMsPerCall} (/proc)`);
  console.log(`audit log: ${summary.entriesPerCheckpoint} entries per group commit (signed checkpoint), whole run`);
  console.log(`main thread busy in the profile: ${summary.busyUsPerCall} µs/call (on CPU or blocked in a system call)`);
  const table = (title, rows) => {
    console.log(`\n${title.padEnd(60)}  self ms  µs/call`);
    for (const row of rows) console.log(`${row.name.slice(0, 60).padEnd(60)}  ${String(row.ms).padStart(7)}  ${String(row.usPerCall).padStart(7)}`);
  };
  table('module', summary.modules);
  table('function', summary.functions);
  process.stderr.write(`profile: written to bench/results/profile-${options.upstream}.json and bench/results/serve-${options.upstream}.cpuprofile\n`);
} finally {
  for (const stop of stops) await stop().catch(() => undefined);
  await rm(folder, { recursive: true, force: true });
}
