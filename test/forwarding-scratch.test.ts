import { test } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient } from './support/clients.js';
import { startEverythingStdio, memoryStdio } from './support/upstream-servers.js';
import { wrapLaunch, readEntries, startGateway } from './support/gateway-process.js';

test('explore', async () => {
  const db = `file:${join(mkdtempSync(join(tmpdir(), 'fw-')), 'a.db')}`;
  for (const revision of ['2025-11-25', '2026-07-28'] as const) {
    const t0 = performance.now();
    const c = await connectClient({ transport: 'stdio', server: wrapLaunch(startEverythingStdio(), db), revision });
    console.log(revision, 'connected', performance.now() - t0, c.client.getNegotiatedProtocolVersion?.());
    const tools = await c.client.listTools();
    console.log(tools.tools.map((t) => t.name));
    const r = await c.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    console.log(JSON.stringify(r));
    console.log(c.notifications.map((n) => n.method));
    await c.close();
    console.log(c.serverStderr());
  }

  const mem = memoryStdio();
  const gw = await startGateway({ everything: startEverythingStdio(), memory: { command: mem.command, args: mem.args, env: mem.env } });
  for (const revision of ['2025-11-25', '2026-07-28'] as const) {
    const c = await connectClient({ transport: 'http', url: gw.url, revision });
    const tools = await c.client.listTools();
    console.log(revision, tools.tools.map((t) => t.name));
    const r = await c.client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
    console.log(JSON.stringify(r));
    await c.close();
  }
  console.log(gw.output().stderr);
  await gw.stop();
});
