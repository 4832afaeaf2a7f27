import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error.js';
import { configJsonSchemaText } from '../src/config/config-json-schema.js';
import { defaultConfig } from '../src/config/config-schema.js';
import { loadConfigFile } from '../src/config/load-config-file.js';
import { parseConfig } from '../src/config/parse-config.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const examplesFolder = join(repoRoot, 'examples');

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'agenttrail-config-'));
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** The ConfigError that parsing `lines` (a file named agenttrail.yaml) throws. */
function errorFor(lines: string[], env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(lines.join('\n'), 'agenttrail.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected the config to be rejected');
}

describe('the example config', () => {
  it('loads, with the filesystem server confined to the examples folder wherever agenttrail runs', async () => {
    const { config, file } = await loadConfigFile(join(examplesFolder, 'agenttrail.yaml'));

    expect(file).toBe(join(examplesFolder, 'agenttrail.yaml'));
    expect(Object.keys(config.servers)).toEqual(['everything', 'memory', 'files']);
    expect(config.servers.files).toMatchObject({
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-filesystem', '.'],
      cwd: examplesFolder,
    });
    expect(config.listen).toMatchObject({ host: '127.0.0.1', port: 8787, path: '/mcp' });
  });

  it('fronts only servers that are installed as devDependencies', async () => {
    const { config } = await loadConfigFile(join(examplesFolder, 'agenttrail.yaml'));
    const packageJson = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    for (const server of Object.values(config.servers)) {
      const packageName = 'args' in server ? server.args.find((arg) => arg.startsWith('@')) : undefined;
      expect(packageName).toBeDefined();
      expect(Object.keys(packageJson.devDependencies)).toContain(packageName);
      expect(existsSync(join(repoRoot, 'node_modules', packageName ?? '', 'package.json'))).toBe(true);
    }
  });

  it('has a JSON Schema that is the one generated from the zod schema', async () => {
    const committed = await readFile(join(examplesFolder, 'agenttrail.schema.json'), 'utf8');
    // If this fails: tsc -p . && node scripts/generate-config-schema.mjs
    expect(committed).toBe(configJsonSchemaText());
  });
});

describe('defaults', () => {
  it('fill in everything but the servers', () => {
    const config = parseConfig(
      ['servers:', '  local: { command: node }', '  remote: { url: "http://127.0.0.1:3001/mcp" }'].join('\n'),
      'agenttrail.yaml',
      {},
    );
    expect(config).toEqual({
      log: { origin: 'agenttrail.local/gateway', db: 'file:agenttrail.db', witnesses: [] },
      listen: { host: '127.0.0.1', port: 8787, path: '/mcp', maxBodyBytes: 4 * 1024 * 1024, allowedHosts: [], allowedOrigins: [] },
      naming: { separator: '__', prefix: true },
      servers: {
        // A stdio server is not probed for its revision unless asked to (a probe starts it twice).
        local: { command: 'node', args: [], env: {}, timeoutMs: 60_000, protocol: '2025-11-25' },
        remote: { url: 'http://127.0.0.1:3001/mcp', transport: 'streamable-http', headers: {}, timeoutMs: 60_000, protocol: 'auto' },
      },
      auth: { unauthenticated: 'refuse' },
      credentials: {},
      redaction: { patterns: [] },
    });
  });

  it('are the whole config when there is no file', () => {
    expect(defaultConfig()).toEqual({
      log: { origin: 'agenttrail.local/gateway', db: 'file:agenttrail.db', witnesses: [] },
      listen: { host: '127.0.0.1', port: 8787, path: '/mcp', maxBodyBytes: 4 * 1024 * 1024, allowedHosts: [], allowedOrigins: [] },
      naming: { separator: '__', prefix: true },
      servers: {},
      auth: { unauthenticated: 'refuse' },
      credentials: {},
      redaction: { patterns: [] },
    });
  });

  it('let wrap use a file without servers, which serve refuses', () => {
    const text = 'log:\n  origin: example.com/wrapped\n';
    expect(parseConfig(text, 'agenttrail.yaml', {}, { requireServers: false }).log.origin).toBe('example.com/wrapped');
    expect(() => parseConfig(text, 'agenttrail.yaml', {})).toThrow(
      'agenttrail.yaml:1:1: servers: missing; add at least one server, each with command: (stdio) or url: (HTTP)',
    );
  });

  it('accept JSON, which is YAML', () => {
    const config = parseConfig('{"listen": {"port": 9000}, "servers": {"a": {"command": "node"}}}', 'agenttrail.json', {});
    expect(config.listen.port).toBe(9000);
  });
});

describe('problems are reported at their line, with the field and what is wrong', () => {
  it('a misspelt key', () => {
    const error = errorFor(['servers:', '  files:', '    comand: npx', '    args: [-y, "@modelcontextprotocol/server-filesystem"]']);
    expect(error.message).toBe('agenttrail.yaml:3:5: servers.files.comand: unknown key (did you mean "command"?)');
    expect(error.issues).toEqual([
      {
        file: 'agenttrail.yaml',
        line: 3,
        column: 5,
        path: 'servers.files.comand',
        reason: 'unknown key (did you mean "command"?)',
      },
    ]);
  });

  it('a misspelt section key', () => {
    const error = errorFor(['listen:', '  prot: 8080', 'servers:', '  a: { command: node }']);
    expect(error.message).toBe('agenttrail.yaml:2:3: listen.prot: unknown key (did you mean "port"?)');
  });

  it('a key of the other kind of server', () => {
    const error = errorFor(['servers:', '  remote:', '    url: http://127.0.0.1:3001/mcp', '    env: { A: b }']);
    expect(error.message).toBe(
      'agenttrail.yaml:4:5: servers.remote.env: "env" applies only to stdio servers (those with command), not to HTTP servers (url)',
    );
  });

  it('both command and url', () => {
    const error = errorFor(['servers:', '  files:', '    command: npx', '    url: http://127.0.0.1:3001/mcp']);
    expect(error.message).toBe(
      'agenttrail.yaml:2:3: servers.files: has both "command" (a stdio server) and "url" (an HTTP server); keep one',
    );
  });

  it('neither command nor url', () => {
    const error = errorFor(['servers:', '  files:', '    args: [x]']);
    expect(error.message).toBe(
      'agenttrail.yaml:2:3: servers.files: needs "command" (to start a stdio server) or "url" (to reach an HTTP server)',
    );
  });

  it('a port out of range', () => {
    const error = errorFor(['listen:', '  port: 70000', 'servers:', '  a: { command: node }']);
    expect(error.message).toBe('agenttrail.yaml:2:3: listen.port: expected an integer from 0 to 65535, got 70000');
  });

  it('a timeout that is not a number', () => {
    const error = errorFor([
      'log:',
      '  origin: example.com/agenttrail',
      'servers:',
      '  files:',
      '    command: npx',
      '    args: [-y, "@modelcontextprotocol/server-filesystem", "."]',
      '    timeoutMs: abc',
    ]);
    expect(error.message).toBe('agenttrail.yaml:7:5: servers.files.timeoutMs: expected a positive integer, got "abc"');
  });

  it('a witness whose key is not a verifier key, or whose url is not http(s)', () => {
    const badKey = errorFor(['log:', '  witnesses:', '    - url: https://witness.example/', '      key: witness.example+1234abcd', 'servers:', '  a: { command: node }']);
    expect(badKey.message).toBe(
      'agenttrail.yaml:4:7: log.witnesses[0].key: expected a witness verifier key: verifier key "witness.example+1234abcd" is malformed: ' +
        'expected <name>+<8 hex digit key id>+<base64 key>, got "witness.example+1234abcd"',
    );
    const badUrl = errorFor(['log:', '  witnesses:', '    - { url: "ftp://w.example/", key: "k" }', 'servers:', '  a: { command: node }']);
    expect(badUrl.message).toMatch(/^agenttrail\.yaml:3:9: log\.witnesses\[0\]\.url: expected the witness's http\(s\) submission prefix, got "ftp:\/\/w\.example\/"/);
  });

  it('a protocol revision the gateway does not know', () => {
    const error = errorFor(['servers:', '  fixture:', '    command: node', '    protocol: 2026']);
    expect(error.message).toBe('agenttrail.yaml:4:5: servers.fixture.protocol: expected "auto", "2025-11-25" or "2026-07-28", got 2026');
  });

  it('a server name with a space, and one containing the separator', () => {
    const spaced = errorFor(['servers:', '  "my files":', '    command: npx']);
    expect(spaced.message).toBe(
      'agenttrail.yaml:2:3: servers["my files"]: invalid server name: use letters, digits, "_" and "-", starting with a letter or digit',
    );
    const separated = errorFor(['naming:', '  separator: "-"', 'servers:', '  my-files:', '    command: npx']);
    expect(separated.message).toBe(
      'agenttrail.yaml:4:3: servers.my-files: server name must not contain the naming separator "-" (names become <server>-<tool>)',
    );
  });

  it('a YAML syntax error', () => {
    const error = errorFor(['servers:', '  files:', '    command: npx: -y']);
    expect(error.message).toBe('agenttrail.yaml:3:14: invalid YAML: Nested mappings are not allowed in compact mappings');
    const duplicate = errorFor(['servers:', '  files: { command: a }', '  files: { command: b }']);
    expect(duplicate.message).toBe('agenttrail.yaml:3:3: invalid YAML: Map keys must be unique');
  });

  it('several problems: the first in the file, and how many more', () => {
    const error = errorFor(['servers:', '  a: { command: node, timeoutMs: 0 }', 'listen:', '  port: -1', '  host: ""']);
    expect(error.message).toBe('agenttrail.yaml:2:23: servers.a.timeoutMs: expected a positive integer, got 0 (and 2 more problems)');
    expect(error.issues.map((issue) => `${issue.line}:${issue.column} ${issue.path}`)).toEqual([
      '2:23 servers.a.timeoutMs',
      '4:3 listen.port',
      '5:3 listen.host',
    ]);
  });
});

describe('environment references', () => {
  it('are replaced in every string value', () => {
    const config = parseConfig(
      [
        'log:',
        '  db: ${DB_URL}',
        'servers:',
        '  local:',
        '    command: ${NODE}',
        '    args: ["--token=${TOKEN}", "$${NOT_A_REFERENCE}"]',
        '    env: { API_KEY: "${TOKEN}" }',
        '  remote:',
        '    url: http://${HOST}/mcp',
        '    headers: { Authorization: "Bearer ${TOKEN}" }',
      ].join('\n'),
      'agenttrail.yaml',
      { DB_URL: 'libsql://audit.example.com', NODE: '/usr/bin/node', TOKEN: 't0k', HOST: '127.0.0.1:3001' },
    );
    expect(config.log.db).toBe('libsql://audit.example.com');
    expect(config.servers.local).toMatchObject({
      command: '/usr/bin/node',
      args: ['--token=t0k', '${NOT_A_REFERENCE}'],
      env: { API_KEY: 't0k' },
    });
    expect(config.servers.remote).toMatchObject({
      url: 'http://127.0.0.1:3001/mcp',
      headers: { Authorization: 'Bearer t0k' },
    });
  });

  it('to a missing variable name the field and the variable, and no header value', () => {
    const error = errorFor(
      [
        'servers:',
        '  remote:',
        '    url: http://127.0.0.1:3001/mcp',
        '    headers:',
        '      X-Static-Key: static-secret-value',
        '      Authorization: "Bearer ${REMOTE_TOKEN}"',
        '      X-Other: "${OTHER_TOKEN}"',
      ],
      { OTHER_TOKEN: 'other-secret-value' },
    );
    expect(error.message).toBe(
      'agenttrail.yaml:6:7: servers.remote.headers.Authorization: environment variable REMOTE_TOKEN is not set',
    );
    const everything = JSON.stringify(error.issues) + error.message + String(error.stack);
    expect(everything).not.toContain('static-secret-value');
    expect(everything).not.toContain('other-secret-value');
    expect(everything).not.toContain('Bearer');
  });

  it('never show a header or env value in a type error', () => {
    const error = errorFor([
      'servers:',
      '  remote:',
      '    url: http://127.0.0.1:3001/mcp',
      '    headers: { X-Api-Key: 8675309123 }',
    ]);
    expect(error.message).toBe(
      'agenttrail.yaml:4:16: servers.remote.headers.X-Api-Key: expected a string, got a number; put it in quotes',
    );
  });
});

describe('loading a file', () => {
  it('resolves cwd against the file, not the working directory', async () => {
    await mkdir(join(folder, 'conf'));
    const file = join(folder, 'conf', 'agenttrail.yaml');
    await writeFile(file, 'servers:\n  a:\n    command: node\n    cwd: ../work\n  b:\n    command: node\n');
    const { config } = await loadConfigFile(file, {});
    expect(config.servers.a).toMatchObject({ cwd: join(folder, 'work') });
    expect(config.servers.b).not.toHaveProperty('cwd');
  });

  it('names the file as given in its errors', async () => {
    const file = join(folder, 'agenttrail.yaml');
    await writeFile(file, 'servers:\n  a:\n    command: node\n    timeoutMs: soon\n');
    await expect(loadConfigFile(file, {})).rejects.toThrow(`${file}:4:5: servers.a.timeoutMs: expected a positive integer, got "soon"`);
  });

  it('says so when the file does not exist', async () => {
    const missing = join(folder, 'nope.yaml');
    const failure = loadConfigFile(missing, {});
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(`config file not found: ${missing}`);
  });
});
