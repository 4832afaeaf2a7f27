// The gateway key (issue 3, point 3): `agenttrail keys init | show | rotate`, the key that `serve`
// and `wrap` create on first run, and a rotation that a verifier holding only the old key follows.
// Every command runs as the built CLI; no secret key may show up in anything it prints.
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSignerKey } from '../src/ledger/note-keys.js';
import { openStore } from '../src/store/open-store.js';
import { connectClient } from './support/clients.js';
import { DEFAULT_ORIGIN, readEntries, startGateway, waitForEntries, wrapLaunch } from './support/gateway-process.js';
import { startEverythingStdio } from './support/upstream-servers.js';
import { runAgenttrail } from './support/run-agenttrail.js';
import type { CliResult } from './support/run-agenttrail.js';

const VERIFIER_KEY = /^([^\s+]+)\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/;

let folder: string;
/** Everything any command of this file printed since the last check. */
const printed: string[] = [];
/** Every secret key seen in a key file of this file. */
const secretKeys = new Set<string>();

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'agenttrail-keys-'));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

afterEach(() => {
  const output = printed.splice(0).join('\n');
  for (const secret of secretKeys) {
    for (const form of secretForms(secret)) expect(output, 'a secret key was printed').not.toContain(form);
  }
});

/** The signer key string, its key material in base64 and the bare Ed25519 seed in base64 and hex. */
function secretForms(signerKey: string): string[] {
  // PRIVATE+KEY+<name>+<key id>+<base64>: names have no '+', base64 may.
  const material = signerKey.split('+').slice(4).join('+');
  const seed = Buffer.from(material, 'base64').subarray(1);
  return [signerKey, material, seed.toString('base64').replace(/=+$/, ''), seed.toString('hex')];
}

/** Reads a key file as a test (never the CLI) may, and remembers its secret. */
async function readSecret(path: string): Promise<string> {
  const signerKey = (await readFile(path, 'utf8')).trim();
  expect(signerKey, `the key file ${path}`).toMatch(/^PRIVATE\+KEY\+[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
  secretKeys.add(signerKey);
  return signerKey;
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

async function agenttrail(args: readonly string[], cwd = folder): Promise<CliResult> {
  const result = await runAgenttrail(args, { cwd });
  printed.push(result.stdout, result.stderr);
  return result;
}

async function newFolder(name: string): Promise<string> {
  const path = join(folder, name);
  await mkdir(path);
  return path;
}

/** One agent session through `agenttrail wrap` (key file beside the database) with one echo call. */
async function echoThroughWrap(db: string, message: string): Promise<void> {
  const agent = await connectClient({ transport: 'stdio', server: wrapLaunch(startEverythingStdio(), db), revision: '2025-11-25' });
  try {
    const result = await agent.client.callTool({ name: 'echo', arguments: { message } });
    expect(JSON.stringify(result.content)).toContain(message);
    await waitForEntries(
      () => readEntries(db),
      (entries) => entries.some((entry) => entry.kind === 'tool.result' && JSON.stringify(entry.payload).includes(message)),
    );
  } finally {
    await agent.close();
    printed.push(agent.serverStderr());
  }
}

describe('agenttrail keys init', () => {
  it('creates the key file with mode 0600 and prints its verifier key on stdout', async () => {
    const path = join(await newFolder('init'), 'gateway.key');
    const result = await agenttrail(['keys', 'init', '--key', path]);
    expect(result.code, result.stderr).toBe(0);
    expect(await modeOf(path)).toBe(0o600);
    const signerKey = await readSecret(path);
    expect(signerKey.startsWith(`PRIVATE+KEY+${DEFAULT_ORIGIN}+`)).toBe(true);
    expect(result.stdout).toBe(`${parseSignerKey(signerKey).verifierKey}\n`);
    expect(result.stdout.trim()).toMatch(VERIFIER_KEY);
    expect(result.stderr).toContain(`created ${path}`);
  });

  it('refuses to overwrite an existing key file (exit 2)', async () => {
    const path = join(await newFolder('init-twice'), 'gateway.key');
    expect((await agenttrail(['keys', 'init', '--key', path])).code).toBe(0);
    const before = await readSecret(path);
    const again = await agenttrail(['keys', 'init', '--key', path]);
    expect(again.code).toBe(2);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(`key file ${path} already exists; a key is never overwritten`);
    expect(await readFile(path, 'utf8')).toBe(`${before}\n`);
  });

  it('names the key after --origin', async () => {
    const path = join(await newFolder('init-origin'), 'gateway.key');
    const result = await agenttrail(['keys', 'init', '--key', path, '--origin', 'example.com/audit']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^example\.com\/audit\+[0-9a-f]{8}\+/);
    expect((await readSecret(path)).startsWith('PRIVATE+KEY+example.com/audit+')).toBe(true);

    const spaced = await agenttrail(['keys', 'init', '--key', join(folder, 'init-origin', 'other.key'), '--origin', 'example.com/my log']);
    expect(spaced.code).toBe(2);
    expect(spaced.stderr).toContain('--origin: expected a name without spaces or "+"');
    expect(existsSync(join(folder, 'init-origin', 'other.key'))).toBe(false);
  });
});

describe('agenttrail keys show', () => {
  it('prints the verifier key that init printed', async () => {
    const path = join(await newFolder('show'), 'gateway.key');
    const init = await agenttrail(['keys', 'init', '--key', path]);
    await readSecret(path);
    const show = await agenttrail(['keys', 'show', '--key', path]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toBe(init.stdout);
    expect(show.stderr).toBe('');
  });

  it('refuses a key file that other users can read, saying to chmod 600 it', async () => {
    const path = join(await newFolder('show-open'), 'gateway.key');
    await agenttrail(['keys', 'init', '--key', path]);
    await readSecret(path);
    await chmod(path, 0o644);
    const refused = await agenttrail(['keys', 'show', '--key', path]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`key file ${path} can be read by other users (mode 0644); run chmod 600 ${path}`);
    await chmod(path, 0o600);
    expect((await agenttrail(['keys', 'show', '--key', path])).code).toBe(0);
  });

  it('says how to create a key when there is none (exit 2)', async () => {
    const path = join(folder, 'nowhere.key');
    const result = await agenttrail(['keys', 'show', '--key', path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no key file at ${path}; create one with agenttrail keys init --key ${path}`);
  });
});

describe('agenttrail keys rotate', () => {
  it('logs the rotation under the old key, so a verifier with only the old key follows it', { timeout: 30_000 }, async () => {
    const here = await newFolder('rotate');
    const keyFile = join(here, 'gateway.key');
    const db = `file:${join(here, 'audit.db')}`;
    const oldKey = (await agenttrail(['keys', 'init', '--key', keyFile])).stdout.trim();
    const oldSecret = await readSecret(keyFile);
    await echoThroughWrap(db, 'before the rotation');

    const rotated = await agenttrail(['keys', 'rotate', '--key', keyFile, '--db', db]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const newKey = rotated.stdout.trim();
    expect(newKey).toMatch(VERIFIER_KEY);
    expect(newKey).not.toBe(oldKey);
    expect(newKey.split('+')[0]).toBe(DEFAULT_ORIGIN);
    expect(rotated.stderr).toContain(`rotated ${keyFile}`);
    expect(await modeOf(keyFile)).toBe(0o600);
    expect(existsSync(`${keyFile}.new`)).toBe(false);
    expect(parseSignerKey(await readSecret(keyFile)).verifierKey).toBe(newKey);
    expect((await agenttrail(['keys', 'show', '--key', keyFile])).stdout).toBe(`${newKey}\n`);

    const rotation = (await readEntries(db)).at(-1);
    expect(rotation).toMatchObject({ kind: 'key.rotated', payload: { previous: oldKey, next: newKey } });

    // The checkpoint that covers the rotation is the old key's last.
    const afterRotation = await agenttrail(['verify', '--db', db, '--key', oldKey]);
    expect(afterRotation.code, afterRotation.stdout).toBe(0);
    expect(afterRotation.stdout).toMatch(new RegExp(`signed by\\s+${escape(oldKey)}\\n`));

    // A gateway started with the rotated key signs with the new one; the old key's holder accepts it.
    await echoThroughWrap(db, 'after the rotation');
    const later = await agenttrail(['verify', '--db', db, '--key', oldKey, '--json']);
    expect(later.code, later.stdout).toBe(0);
    const report = JSON.parse(later.stdout) as { logs: { keys: string[]; entries: number }[] };
    expect(report.logs[0]!.keys).toEqual([oldKey, newKey]);
    const newCheckpoints = await checkpointKeysAfter(db, rotation!.index);
    expect(newCheckpoints.length).toBeGreaterThan(0);
    expect(new Set(newCheckpoints)).toEqual(new Set([newKey]));

    // Whoever still holds the old key can no longer extend the log.
    const stale = await openStore({ url: db });
    try {
      await (await stale.appender(DEFAULT_ORIGIN, parseSignerKey(oldSecret))).append({
        v: 1,
        time: new Date().toISOString(),
        kind: 'tool.call',
        session: 'stale-gateway',
        agent: { transport: 'stdio' },
      });
    } finally {
      await stale.close();
    }
    const refused = await agenttrail(['verify', '--db', db, '--key', oldKey]);
    expect(refused.code, refused.stdout).toBe(1);
    expect(refused.stdout).toContain('FAILED: ');
    expect(refused.stdout).toContain('the note is not signed by a known key');
    expect(refused.stdout).toContain(`(${oldKey} was retired by the key rotation in entry ${rotation!.index})`);
  });

  it('keeps the old key when the rotation cannot be logged', async () => {
    const here = await newFolder('rotate-fails');
    const keyFile = join(here, 'gateway.key');
    const oldKey = (await agenttrail(['keys', 'init', '--key', keyFile])).stdout;
    await readSecret(keyFile);
    const result = await agenttrail(['keys', 'rotate', '--key', keyFile, '--db', `file:${join(here, 'no-such-folder', 'audit.db')}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot open audit database');
    expect(existsSync(`${keyFile}.new`)).toBe(false);
    expect((await agenttrail(['keys', 'show', '--key', keyFile])).stdout).toBe(oldKey);
  });
});

describe('agenttrail keys rotate, given the wrong log', () => {
  it('refuses to record the rotation beside the gateway\'s log, and keeps the old key', async () => {
    const here = await newFolder('rotate-other-log');
    const keyFile = join(here, 'gateway.key');
    const db = `file:${join(here, 'audit.db')}`;
    const oldKey = (await agenttrail(['keys', 'init', '--key', keyFile, '--origin', 'example.com/audit'])).stdout;
    const store = await openStore({ url: db });
    try {
      await (await store.appender('example.com/audit', parseSignerKey(await readSecret(keyFile)))).append({
        v: 1,
        time: new Date().toISOString(),
        kind: 'session.start',
        session: 'session-1',
        agent: { transport: 'stdio' },
      });
    } finally {
      await store.close();
    }
    // No --origin: the default origin is not the gateway's log.
    const refused = await agenttrail(['keys', 'rotate', '--key', keyFile, '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `the database holds no log "${DEFAULT_ORIGIN}" to record the rotation in (it holds "example.com/audit"); name the gateway's log with --origin or --config`,
    );
    expect((await agenttrail(['keys', 'show', '--key', keyFile])).stdout).toBe(oldKey);
    expect(existsSync(`${keyFile}.new`)).toBe(false);

    const rotated = await agenttrail(['keys', 'rotate', '--key', keyFile, '--db', db, '--origin', 'example.com/audit']);
    expect(rotated.code, rotated.stderr).toBe(0);
    await readSecret(keyFile);
    expect((await readEntries(db, 'example.com/audit')).map((entry) => entry.kind)).toEqual(['session.start', 'key.rotated']);
  });
});

describe('a gateway without a key', () => {
  it('serve creates one on first run and says where', async () => {
    const gateway = await startGateway({ everything: startEverythingStdio() });
    try {
      const keyFile = join(gateway.folder, 'gateway.key');
      expect(gateway.output().stderr).toContain(`created the gateway signing key ${keyFile}`);
      expect(await modeOf(keyFile)).toBe(0o600);
      const verifierKey = parseSignerKey(await readSecret(keyFile)).verifierKey;
      expect(gateway.output().stderr).toContain(verifierKey);
    } finally {
      await gateway.stop();
      printed.push(gateway.output().stdout, gateway.output().stderr);
      await rm(gateway.folder, { recursive: true, force: true });
    }
  });

  it('wrap creates one on first run and says where, on stderr', async () => {
    const here = await newFolder('wrap-first-run');
    const db = `file:${join(here, 'audit.db')}`;
    const keyFile = join(here, 'gateway.key');
    const agent = await connectClient({ transport: 'stdio', server: wrapLaunch(startEverythingStdio(), db), revision: '2025-11-25' });
    try {
      expect((await agent.client.listTools()).tools.length).toBeGreaterThan(0);
      expect(agent.serverStderr()).toContain(`created the gateway signing key ${keyFile}`);
    } finally {
      await agent.close();
      printed.push(agent.serverStderr());
    }
    expect(await modeOf(keyFile)).toBe(0o600);
    await readSecret(keyFile);
  });
});

async function checkpointKeysAfter(db: string, index: number): Promise<string[]> {
  const store = await openStore({ url: db });
  try {
    const keys: string[] = [];
    for await (const page of store.checkpointRows(DEFAULT_ORIGIN)) {
      for (const row of page) if (row.size > index + 1) keys.push(row.key);
    }
    return keys;
  } finally {
    await store.close();
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
