// Ledger figures for `npm run bench`: durable signed appends per second, entries verified per
// second, bytes stored per tools/call, and the time to prove inclusion in a large log.
// Runs against dist/ (built by the npm script) on a real libSQL file, with the primitives the
// agenttrail command uses (node:crypto).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { canonicalBytes, canonicalHash } from '../dist/ledger/canonical-json.js';
import { parseCheckpoint } from '../dist/ledger/checkpoint.js';
import { verifyLog } from '../dist/ledger/log-verifier.js';
import { timeOrderedId } from '../dist/ledger/time-ordered-id.js';
import { leafHash } from '../dist/ledger/merkle-hash.js';
import { generateSignerKey, parseSignerKey, parseVerifierKey } from '../dist/ledger/note-keys.js';
import { installLedgerPrimitives } from '../dist/ledger/primitives.js';
import { verifyInclusion } from '../dist/ledger/proof-verification.js';
import { parseSignedNote } from '../dist/ledger/signed-note.js';
import { NODE_PRIMITIVES } from '../dist/node-primitives.js';
import { openStore } from '../dist/store/open-store.js';

installLedgerPrimitives(NODE_PRIMITIVES);
const LOG = 'bench.agenttrail.local/ledger';

/** The two entries the gateway writes for one tools/call of server-everything's echo. */
export function toolCallEntries(n, session) {
  const args = { message: `hello from call ${n}` };
  const agent = { transport: 'http', protocol: '2025-11-25', client: { name: 'bench-agent', version: '1.0.0' }, remote: '127.0.0.1' };
  const common = { v: 1, session, agent, server: 'everything', method: 'tools/call', tool: 'echo', name: 'everything__echo', call: timeOrderedId() };
  return [
    { ...common, time: new Date().toISOString(), kind: 'tool.call', argsHash: canonicalHash(args), payload: { params: { name: 'echo', arguments: args } } },
    { ...common, time: new Date().toISOString(), kind: 'tool.result', outcome: 'ok', durationMs: 1.234, payload: { result: { content: [{ type: 'text', text: `Echo: ${args.message}` }] } } },
  ];
}

/** Appends `calls` tools/calls with `concurrency` agents each waiting for its own write. */
async function appendCalls(appender, calls, concurrency) {
  let next = 0;
  const session = crypto.randomUUID();
  const agentLoop = async () => {
    while (next < calls) {
      const n = next++;
      const [call, result] = toolCallEntries(n, session);
      await appender.append(call);
      await appender.append(result);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, agentLoop));
}

/** The bytes the database holds once its WAL is folded in (free pages not counted). */
async function databaseBytes(file) {
  const client = createClient({ url: `file:${file}` });
  try {
    await client.execute('PRAGMA wal_checkpoint(TRUNCATE)');
    const pragma = async (name) => Number((await client.execute(`PRAGMA ${name}`)).rows[0][0]);
    return ((await pragma('page_count')) - (await pragma('freelist_count'))) * (await pragma('page_size'));
  } finally {
    client.close();
  }
}

export async function runLedgerBench({ entries = 200_000, proofLogEntries = 1_000_000 } = {}) {
  const folder = await mkdtemp(join(tmpdir(), 'agenttrail-bench-ledger-'));
  const signer = parseSignerKey(generateSignerKey(LOG));
  const results = {};
  try {
    // Appends: as many concurrent writers as a busy gateway has calls in flight.
    const file = join(folder, 'append.db');
    let store = await openStore({ url: `file:${file}` });
    let appender = await store.appender(LOG, signer);
    const started = performance.now();
    await appendCalls(appender, entries / 2, 256);
    const appendSeconds = (performance.now() - started) / 1000;
    const stats = appender.stats();
    results.append = {
      entries: stats.appended,
      seconds: round(appendSeconds, 2),
      entriesPerSecond: Math.round(stats.appended / appendSeconds),
      commits: stats.flushes,
      entriesPerCheckpoint: round(stats.appended / stats.flushes, 1),
    };
    await store.close();

    // Storage per call: one call at a time, so every entry gets its own commit and checkpoint,
    // the most expensive case (a busy gateway shares checkpoints across calls).
    const lonelyFile = join(folder, 'one-at-a-time.db');
    store = await openStore({ url: `file:${lonelyFile}` });
    appender = await store.appender(LOG, signer);
    const lonelyCalls = 5000;
    await appendCalls(appender, lonelyCalls, 1);
    await store.close();
    const [sample] = toolCallEntries(0, crypto.randomUUID());
    results.storage = {
      bodyBytesPerCall: toolCallEntries(0, crypto.randomUUID()).reduce((n, e) => n + canonicalBytes({ ...e, index: 123456 }).length, 0),
      bytesPerCallBusy: Math.round((await databaseBytes(file)) / (entries / 2)),
      bytesPerCallOneAtATime: Math.round((await databaseBytes(lonelyFile)) / lonelyCalls),
      sampleEntryBytes: canonicalBytes({ ...sample, index: 123456 }).length,
    };

    // Verification of the appended log, from a fresh process-level connection.
    store = await openStore({ url: `file:${file}` });
    let verifyStarted = performance.now();
    const summary = await verifyLog(store, LOG, { keys: [parseVerifierKey(signer.verifierKey)] });
    let verifySeconds = (performance.now() - verifyStarted) / 1000;
    results.verify = { entries: summary.entries, checkpoints: summary.checkpoints, seconds: round(verifySeconds, 2), entriesPerSecond: Math.round(summary.entries / verifySeconds) };
    await store.close();
    store = await openStore({ url: `file:${lonelyFile}` });
    verifyStarted = performance.now();
    const lonely = await verifyLog(store, LOG, { keys: [parseVerifierKey(signer.verifierKey)] });
    verifySeconds = (performance.now() - verifyStarted) / 1000;
    results.verifyOneCheckpointPerEntry = { entries: lonely.entries, checkpoints: lonely.checkpoints, seconds: round(verifySeconds, 2), entriesPerSecond: Math.round(lonely.entries / verifySeconds) };
    await store.close();

    // Inclusion proofs in a large log.
    if (proofLogEntries > 0) {
      const bigFile = join(folder, 'big.db');
      store = await openStore({ url: `file:${bigFile}` });
      appender = await store.appender(LOG, signer);
      const fillStarted = performance.now();
      await appendCalls(appender, proofLogEntries / 2, 512);
      const fillSeconds = (performance.now() - fillStarted) / 1000;
      const checkpoint = await store.checkpoint(LOG);
      const { root, size } = parseCheckpoint(parseSignedNote(checkpoint.note).text);
      const times = [];
      for (let i = 0; i < 200; i++) {
        const index = Math.floor(Math.random() * size);
        const [entry] = await store.entries(LOG, { afterIndex: index - 1, limit: 1 });
        const proofStarted = performance.now();
        const proof = await store.inclusionProof(LOG, index, size);
        times.push(performance.now() - proofStarted);
        verifyInclusion(BigInt(index), BigInt(size), leafHash(canonicalBytes(entry)), proof, root);
      }
      times.sort((a, b) => a - b);
      results.inclusionProof = {
        logEntries: size,
        fillEntriesPerSecond: Math.round(size / fillSeconds),
        p50Ms: round(times[Math.floor(times.length / 2)], 3),
        p99Ms: round(times[Math.floor(times.length * 0.99)], 3),
      };
      await store.close();
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  return results;
}

function round(value, digits) {
  return Number(value.toFixed(digits));
}
