// Retention (issue 7, point 5): `agenttrail prune` removes the payloads of entries older than the
// retention period, and the log still verifies: each pruned entry's leaf hash stands in for it
// below the boundary the log itself records. A changed pruned leaf hash, an entry past the
// boundary without its body, or a forged boundary each fail verification.
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../src/ledger/canonical-json.js';
import type { Entry, EntryDraft } from '../src/ledger/entry.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/note-keys.js';
import { openStore } from '../src/store/open-store.js';
import { connectClient } from './support/clients.js';
import { DEFAULT_ORIGIN, readEntries, startGateway, waitForEntries } from './support/gateway-process.js';
import type { RunningGateway } from './support/gateway-process.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import type { CliResult } from './support/run-agenttrail.js';
import { startEverythingStdio } from './support/upstream-servers.js';

const DAY_MS = 86_400_000;
const OLD_SESSIONS = ['old-session-1', 'old-session-2', 'old-session-3'];
const signerKey = generateSignerKey(DEFAULT_ORIGIN);
const signer = parseSignerKey(signerKey);

let folder: string;
let db: string;
let keyFile: string;
let gateway: RunningGateway;
/** The log as it was before pruning. */
let original: Entry[];
let recentSession: string;

const agenttrail = (...args: string[]): Promise<CliResult> => runAgenttrail(args);

/** The calls of sessions recorded 100 days ago: what retention is for. */
function oldDrafts(): EntryDraft[] {
  const start = Date.now() - 100 * DAY_MS;
  return OLD_SESSIONS.flatMap((session, s) => {
    const common = { v: 1 as const, session, agent: { transport: 'http' as const, id: 'night-agent' }, server: 'everything', method: 'tools/call', tool: 'echo', name: 'everything__echo', call: `old-call-${s}` };
    const at = (ms: number) => new Date(start + s * 60_000 + ms).toISOString();
    return [
      { ...common, time: at(0), kind: 'tool.call', payload: { params: { name: 'everything__echo', arguments: { message: `old incident notes ${s}` } } } },
      { ...common, time: at(5), kind: 'tool.result', outcome: 'ok' as const, durationMs: 5, payload: { result: { content: [{ type: 'text', text: `Echo: old incident notes ${s}` }] } } },
    ];
  });
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'agenttrail-retention-'));
  db = pathToFileURL(join(folder, 'audit.db')).href;
  keyFile = join(folder, 'gateway.key');
  await writeFile(keyFile, `${signerKey}\n`, { mode: 0o600 });
  const store = await openStore({ url: db });
  try {
    const appender = await store.appender(DEFAULT_ORIGIN, signer);
    for (const draft of oldDrafts()) await appender.append(draft);
  } finally {
    await store.close();
  }
  // Then the same log goes on with today's calls through the gateway.
  gateway = await startGateway({ everything: startEverythingStdio() }, { log: { db, key: keyFile } });
  const agent = await connectClient({ transport: 'http', url: gateway.url, revision: '2025-11-25', name: 'day-agent' });
  await agent.client.callTool({ name: 'everything__echo', arguments: { message: 'recent findings' } });
  await agent.close();
  await waitForEntries(() => readEntries(db), (all) => all.some((entry) => entry.kind === 'tool.result' && entry.agent.client?.name === 'day-agent'));
  await gateway.stop();
  original = await readEntries(db);
  recentSession = original.find((entry) => entry.agent.client?.name === 'day-agent')!.session;
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
});

/** A copy of the database to tamper with (VACUUM INTO folds the WAL in). */
async function tamperedCopy(name: string, statements: { sql: string; args: (string | number | Uint8Array)[] }[]): Promise<string> {
  const path = join(folder, `${name}.db`);
  const client = createClient({ url: db });
  try {
    await client.execute({ sql: 'VACUUM INTO ?', args: [path] });
  } finally {
    client.close();
  }
  const copy = createClient({ url: pathToFileURL(path).href });
  try {
    for (const statement of statements) await copy.execute(statement);
  } finally {
    copy.close();
  }
  return pathToFileURL(path).href;
}

function leafOf(entry: Entry): Uint8Array {
  return createHash('sha256').update(Uint8Array.of(0)).update(canonicalBytes(entry)).digest();
}

describe('agenttrail prune', () => {
  let pruned: { before: number; pruned: number; entry: number };

  beforeAll(async () => {
    const result = await agenttrail('prune', '--db', db, '--key', keyFile, '--older-than', '30d', '--json');
    expect(result.code, result.stderr).toBe(0);
    pruned = JSON.parse(result.stdout) as typeof pruned;
  });

  it('removes the payloads of the entries older than the period, and keeps their leaf hashes', async () => {
    const old = original.filter((entry) => OLD_SESSIONS.includes(entry.session));
    expect(pruned).toMatchObject({ log: DEFAULT_ORIGIN, period: '30d', before: old.length, pruned: old.length });
    const client = createClient({ url: db });
    try {
      const rows = await client.execute({ sql: 'SELECT idx, body, pruned_leaf FROM entries WHERE log = ? ORDER BY idx', args: [DEFAULT_ORIGIN] });
      for (const entry of original) {
        const row = rows.rows[entry.index]!;
        const body = JSON.parse(Buffer.from(row['body'] as ArrayBuffer).toString('utf8')) as Entry;
        if (entry.index < pruned.before) {
          const { payload: _removed, ...rest } = entry;
          expect(body).toEqual(rest);
          expect(Buffer.from(row['pruned_leaf'] as ArrayBuffer)).toEqual(Buffer.from(leafOf(entry)));
        } else {
          expect(body).toEqual(entry);
          expect(row['pruned_leaf']).toBeNull();
        }
      }
      const marker = JSON.parse(Buffer.from(rows.rows[pruned.entry]!['body'] as ArrayBuffer).toString('utf8')) as Entry;
      expect(marker).toMatchObject({ kind: 'retention.pruned', payload: { before: pruned.before, period: '30d' } });
    } finally {
      client.close();
    }
  });

  it('leaves a log that verifies, and says how many entries were pruned', async () => {
    const verified = await agenttrail('verify', '--db', db, '--key', signer.verifierKey);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toContain(`  pruned       ${pruned.pruned} entries before index ${pruned.before} had their payloads removed by retention`);
    const report = JSON.parse((await agenttrail('verify', '--db', db, '--json')).stdout) as { ok: boolean; logs: { pruned: unknown }[] };
    expect(report.ok).toBe(true);
    expect(report.logs[0]!.pruned).toEqual({ entries: pruned.pruned, before: pruned.before });
  });

  it('reviewers see that a payload was removed; search no longer finds it', async () => {
    const shown = await agenttrail('show', 'old-session-1', '--db', db);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/tools\/call everything__echo {2}ok {2}5 ms\n {16}arguments {4}\(payload removed by retention\)\n {16}result {7}\(payload removed by retention\)\n/);
    expect(JSON.parse((await agenttrail('search', 'incident', '--db', db, '--json')).stdout)).toMatchObject({ total: 0 });
    expect(JSON.parse((await agenttrail('search', 'recent', 'findings', '--db', db, '--json')).stdout)).toMatchObject({ total: 2 });
  });

  it('does nothing the second time, and needs a period', async () => {
    const again = await agenttrail('prune', '--db', db, '--key', keyFile, '--older-than', '30d');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^log agenttrail\.local\/gateway: no entry recorded before \S+ \(30d ago\) has a payload left to remove\n$/);
    expect((await readEntries(db)).length).toBe(original.length + 1);
    const none = await agenttrail('prune', '--db', db, '--key', keyFile);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/prune needs a retention period: --older-than 90d, or log.retention in the config file/);
    const bad = await agenttrail('prune', '--db', db, '--key', keyFile, '--older-than', '3 months');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--older-than: expected a whole number of hours, days or weeks/);
  });

  it('takes the period from the config file (log.retention)', async () => {
    const config = join(folder, 'retention.yaml');
    await writeFile(config, JSON.stringify({ log: { db, key: keyFile, retention: '52w' } }));
    const result = await agenttrail('prune', '--config', config, '--json');
    expect(result.code, result.stderr).toBe(0);
    // Nothing is a year old.
    expect(JSON.parse(result.stdout)).toMatchObject({ period: '52w', before: 0, pruned: 0, entry: null });
  });

  it('fails verification when a pruned leaf hash is changed', async () => {
    const copy = await tamperedCopy('changed-leaf', [{ sql: 'UPDATE entries SET pruned_leaf = ? WHERE idx = 2', args: [new Uint8Array(32).fill(7)] }]);
    const verified = await agenttrail('verify', '--db', copy, '--key', signer.verifierKey);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/FAILED: log agenttrail\.local\/gateway: entry 2: .*its leaf hash differs from the one tile 0\/0 recorded when it was written/);
  });

  it('fails verification when an entry past the boundary is made to look pruned', async () => {
    const recent = original.find((entry) => entry.session === recentSession && entry.kind === 'tool.call')!;
    const { payload: _removed, ...rest } = recent;
    const copy = await tamperedCopy('pretend-pruned', [
      { sql: 'UPDATE entries SET body = ?, pruned_leaf = ? WHERE idx = ?', args: [canonicalBytes({ ...rest, tool: 'get-env' }), leafOf(recent), recent.index] },
      { sql: "UPDATE entries SET tool = 'get-env' WHERE idx = ?", args: [recent.index] },
    ]);
    const verified = await agenttrail('verify', '--db', copy, '--key', signer.verifierKey);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(
      `FAILED: log agenttrail.local/gateway: entry ${recent.index}: has its payload removed (a stored leaf hash in place of its body), but the log's retention pruned only the entries before ${pruned.before}`,
    );
  });

  it('fails verification when the recorded boundary is moved', async () => {
    const marker = (await readEntries(db)).find((entry) => entry.kind === 'retention.pruned')!;
    const moved = { ...marker, payload: { ...(marker.payload as object), before: marker.index } };
    const copy = await tamperedCopy('moved-boundary', [{ sql: 'UPDATE entries SET body = ? WHERE idx = ?', args: [canonicalBytes(moved), marker.index] }]);
    const verified = await agenttrail('verify', '--db', copy, '--key', signer.verifierKey);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(new RegExp(`FAILED: log agenttrail\\.local/gateway: entry ${marker.index}: its body is not the one checkpoint \\d+ signed`));
  });

  it('bundles what is still whole, and refuses to bundle a pruned entry', async () => {
    const whole = await agenttrail('export', '--format', 'bundle', '--db', db, '--out', join(folder, 'all.bundle'));
    expect(whole.code).toBe(2);
    expect(whole.stderr).toMatch(/entry 0 of log "agenttrail\.local\/gateway" was pruned \(retention removed its payload\), so no bundle can prove it/);
    const bundle = join(folder, 'recent.bundle');
    const recent = await agenttrail('export', '--format', 'bundle', '--db', db, '--session', recentSession, '--out', bundle);
    expect(recent.code, recent.stderr).toBe(0);
    const checked = await agenttrail('verify', '--bundle', bundle, '--key', signer.verifierKey);
    expect(checked.code, checked.stdout).toBe(0);
  });
});
