// `npm run bench`: prints the figures as tables and writes them to bench/results/latest.json
// (shape documented in BENCHMARKS.md).
// Options: --quick (short runs, for a smoke test), --no-big-log (skip the 1,000,000-entry log),
// --no-gateways (ledger figures only), --no-ledger (gateway figures only).
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { compareScenarios } from './comparisons.mjs';
import { silenceAbortListenerWarnings } from './known-warnings.mjs';
import { runLedgerBench } from './ledger.mjs';
import { runPeerBench } from './peers.mjs';

silenceAbortListenerWarnings();
const quick = process.argv.includes('--quick');
const bigLog = !process.argv.includes('--no-big-log');
const withGateways = !process.argv.includes('--no-gateways');
const withLedger = !process.argv.includes('--no-ledger');

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const gatewaySettings = quick ? { rounds: 2, sliceSeconds: 0.3, warmupCalls: 200 } : { rounds: 5, sliceSeconds: 1, warmupCalls: 1000 };
const results = { time: new Date().toISOString(), machine, quick, gateways: null, ledger: null };

if (withGateways) {
  process.stderr.write(`bench: gateways (${gatewaySettings.rounds} rounds of ${gatewaySettings.sliceSeconds} s slices per scenario and concurrency)...\n`);
  const scenarios = await runPeerBench(gatewaySettings);
  results.gateways = { settings: gatewaySettings, scenarios, comparisons: compareScenarios(scenarios) };
  printGatewayTables(results.gateways);
}

if (withLedger) {
  process.stderr.write(`bench: ledger (${quick ? 'quick' : 'full'} run)...\n`);
  results.ledger = await runLedgerBench(quick ? { entries: 20_000, proofLogEntries: bigLog ? 20_000 : 0 } : { proofLogEntries: bigLog ? 1_000_000 : 0 });
  printLedgerTable(results.ledger);
}

await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/latest.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write('bench: written to bench/results/latest.json\n');

function printGatewayTables({ scenarios, comparisons }) {
  const figure = (value, unit = '') => (value === null || value === undefined ? '–' : `${value.toLocaleString('en')}${unit}`);
  const mib = (bytes) => (bytes === null ? '–' : (bytes / 2 ** 20).toFixed(0));
  printTable(
    ['scenario (tools/call echo)', 'p50 ms', 'p99 ms', 'calls/s c16', 'calls/s c64', 'gw CPU ms/call c1', 'gw CPU ms/call c64', 'upstream CPU ms/call c64', 'gw RSS MiB', 'audit B/call'],
    scenarios.map((s) => [
      s.label, figure(s.c1.p50Ms), figure(s.c1.p99Ms), figure(s.c16.callsPerSecond), figure(s.c64.callsPerSecond),
      figure(s.c1.gatewayCpuMsPerCall), figure(s.c64.gatewayCpuMsPerCall), figure(s.c64.upstreamCpuMsPerCall),
      mib(s.gatewayRssBytes), figure(s.audit?.bytesPerCall),
    ]),
  );
  console.log('');
  printTable(
    ['comparison', 'value', 'goal', 'met', 'context'],
    comparisons.map((c) => [c.figure, `${c.value} ${c.unit}`, c.goal ?? '', c.met === null ? '' : c.met ? 'yes' : 'NO', c.context]),
  );
  console.log('');
}

function printLedgerTable(ledger) {
  const rows = [
    ['ledger: durable signed appends (256 writers)', `${ledger.append.entriesPerSecond.toLocaleString('en')} entries/s`, 'goal ≥ 20,000/s', `${ledger.append.entriesPerCheckpoint} entries per checkpoint`],
    ['ledger: verify (busy log)', `${ledger.verify.entriesPerSecond.toLocaleString('en')} entries/s`, 'goal ≥ 200,000/s', `${ledger.verify.entries} entries, ${ledger.verify.checkpoints} checkpoints`],
    ['ledger: verify (one checkpoint per entry)', `${ledger.verifyOneCheckpointPerEntry.entriesPerSecond.toLocaleString('en')} entries/s`, '', `${ledger.verifyOneCheckpointPerEntry.checkpoints} checkpoints`],
    ['ledger: bytes per tools/call (busy)', `${ledger.storage.bytesPerCallBusy} B`, '', `2 entries, bodies ${ledger.storage.bodyBytesPerCall} B`],
    ['ledger: bytes per tools/call (one at a time)', `${ledger.storage.bytesPerCallOneAtATime} B`, '', 'a checkpoint per entry'],
  ];
  if (ledger.inclusionProof) {
    rows.push([
      `ledger: inclusion proof, log of ${ledger.inclusionProof.logEntries.toLocaleString('en')}`,
      `p50 ${ledger.inclusionProof.p50Ms} ms`,
      '',
      `p99 ${ledger.inclusionProof.p99Ms} ms`,
    ]);
  }
  printTable(['figure', 'value', 'goal', 'context'], rows);
}

function printTable(header, body) {
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => String(row[i]).length)));
  const line = (row) => row.map((cell, i) => String(cell).padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of body) console.log(line(row));
}
