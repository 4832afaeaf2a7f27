// `npm run bench`: prints the figures as a table and writes them to bench/results/latest.json.
// Options: --quick (smaller runs, for a smoke test), --no-big-log (skip the 1,000,000-entry log).
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { runLedgerBench } from './ledger.mjs';

const quick = process.argv.includes('--quick');
const bigLog = !process.argv.includes('--no-big-log');

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
process.stderr.write(`bench: ledger (${quick ? 'quick' : 'full'} run)...\n`);
const ledger = await runLedgerBench(quick ? { entries: 20_000, proofLogEntries: bigLog ? 20_000 : 0 } : { proofLogEntries: bigLog ? 1_000_000 : 0 });

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

const results = { time: new Date().toISOString(), machine, quick, ledger };
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/latest.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write('bench: written to bench/results/latest.json\n');

function printTable(header, body) {
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => String(row[i]).length)));
  const line = (row) => row.map((cell, i) => String(cell).padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of body) console.log(line(row));
}
