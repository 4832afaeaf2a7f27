#!/usr/bin/env node
// The upstream MCP server that the conformance runner fronts with the gateway. It provides the
// tools, resources and prompts that the official conformance suite's server scenarios call by
// name (test_simple_text, test://static-text, test_simple_prompt, ...), so that the suite can be
// run once against this server directly and once through the gateway, and the two compared.
//
//   node conformance/fixture-server.mjs --stdio             MCP over stdin/stdout (behind the gateway)
//   node conformance/fixture-server.mjs --http [--port N]   Streamable HTTP on 127.0.0.1 (direct);
//                                                           prints "fixture listening at URL"
import { serve } from '@hono/node-server';
import {
  McpServer,
  ResourceTemplate,
  WebStandardStreamableHTTPServerTransport,
  acceptedContent,
  completable,
  createMcpHandler,
  createRequestStateCodec,
  hostHeaderValidationResponse,
  inputRequired,
  isLegacyRequest,
  localhostAllowedHostnames,
} from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

// 1x1 red PNG and a minimal WAV: the suite only checks type, mimeType and that data is base64.
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV_BASE64 = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value) => ({ content: [{ type: 'text', text: value }] });
const noArguments = z.object({});

// Signs the requestState of multi-round tool calls: it comes back from the client and must not be
// forgeable (scenario input-required-result-tampered-state). One key per process.
const requestStateCodec = createRequestStateCodec({ key: crypto.getRandomValues(new Uint8Array(32)) });

function createFixtureServer() {
  const server = new McpServer(
    { name: 'agenttrail-conformance-fixture', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      requestState: { verify: (state, ctx) => requestStateCodec.verify(state, ctx) },
    },
  );
  registerTools(server);
  registerInputRequiredTools(server);
  registerResources(server);
  registerPrompts(server);
  return server;
}

function registerTools(server) {
  server.registerTool('test_simple_text', { description: 'Returns one text block' }, async () =>
    text('This is a simple text response for testing.'),
  );
  server.registerTool('test_image_content', { description: 'Returns one image block' }, async () => ({
    content: [{ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }],
  }));
  server.registerTool('test_audio_content', { description: 'Returns one audio block' }, async () => ({
    content: [{ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }],
  }));
  server.registerTool('test_embedded_resource', { description: 'Returns an embedded resource' }, async () => ({
    content: [
      { type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } },
    ],
  }));
  server.registerTool('test_multiple_content_types', { description: 'Returns text, image and resource blocks' }, async () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG_BASE64, mimeType: 'image/png' },
      {
        type: 'resource',
        resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) },
      },
    ],
  }));
  server.registerTool(
    'test_tool_with_logging',
    { description: 'Sends three log notifications while it runs', inputSchema: noArguments },
    async (_args, ctx) => {
      for (const message of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
        await ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', data: message } });
        await sleep(50);
      }
      return text('Tool with logging executed successfully');
    },
  );
  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50, 100 of 100', inputSchema: noArguments },
    async (_args, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken ?? 0;
      for (const progress of [0, 50, 100]) {
        await ctx.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` },
        });
        await sleep(50);
      }
      return text(String(progressToken));
    },
  );
  server.registerTool('test_error_handling', { description: 'Always fails with isError' }, async () => {
    throw new Error('This tool intentionally returns an error for testing');
  });
  server.registerTool(
    'test_sampling',
    { description: 'Asks the client for an LLM completion', inputSchema: z.object({ prompt: z.string() }) },
    async ({ prompt }, ctx) => {
      const result = await ctx.mcpReq.requestSampling({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 });
      const content = Array.isArray(result.content) ? result.content[0] : result.content;
      return text(`LLM response: ${content?.type === 'text' ? content.text : 'No response'}`);
    },
  );
  server.registerTool(
    'test_elicitation',
    { description: 'Asks the user for input', inputSchema: z.object({ message: z.string() }) },
    async ({ message }, ctx) => {
      const result = await ctx.mcpReq.elicitInput({
        mode: 'form',
        message,
        requestedSchema: { type: 'object', properties: { response: { type: 'string', description: "User's response" } }, required: ['response'] },
      });
      return text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
    },
  );
  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Elicitation whose fields carry defaults (SEP-1034)', inputSchema: noArguments },
    async (_args, ctx) => {
      const result = await ctx.mcpReq.elicitInput({
        mode: 'form',
        message: 'Please review and update the form fields with defaults',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
            verified: { type: 'boolean', description: 'Verification status', default: true },
          },
          required: [],
        },
      });
      return text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
    },
  );
  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Elicitation with every enum form (SEP-1330)', inputSchema: noArguments },
    async (_args, ctx) => {
      const options = (prefix, title) => [1, 2, 3].map((n) => ({ const: `value${n}`, title: `${['First', 'Second', 'Third'][n - 1]} ${title}` }));
      const result = await ctx.mcpReq.elicitInput({
        mode: 'form',
        message: 'Please select options from the enum fields',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: { type: 'string', description: 'Select one option', enum: ['option1', 'option2', 'option3'] },
            titledSingle: { type: 'string', description: 'Select one option with titles', oneOf: options('value', 'Option') },
            legacyEnum: {
              type: 'string',
              description: 'Select one option (legacy)',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: {
              type: 'array',
              description: 'Select multiple options',
              minItems: 1,
              maxItems: 3,
              items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            },
            titledMulti: {
              type: 'array',
              description: 'Select multiple options with titles',
              minItems: 1,
              maxItems: 3,
              items: { anyOf: options('value', 'Choice') },
            },
          },
          required: [],
        },
      });
      return text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
    },
  );
  // SEP-1613: the tool's input schema must reach the client with $schema, $defs and
  // additionalProperties intact, so it is given as raw JSON Schema rather than zod.
  server.registerTool(
    'json_schema_2020_12_tool',
    {
      description: 'Tool with JSON Schema 2020-12 features (SEP-1613)',
      inputSchema: jsonSchema2020({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: { address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
        properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
        additionalProperties: false,
      }),
    },
    async (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  );
}

const nameQuestion = (message) =>
  inputRequired.elicit({
    message,
    requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  });

// 2026-07-28 multi-round-trip tools (SEP-2322): each returns input_required until the client
// answers. On 2025-era connections the SDK's legacy shim turns them into real server requests.
function registerInputRequiredTools(server) {
  // The accessor returns what the requestState.verify hook resolved to: the minted payload.
  const state = async (ctx) => ctx.mcpReq.requestState();
  const mint = (payload, ctx) => requestStateCodec.mint(payload, ctx);
  const responses = (ctx) => ctx.mcpReq.inputResponses ?? {};

  server.registerTool('test_input_required_result_elicitation', { description: 'Asks for a name, then greets', inputSchema: noArguments }, async (_args, ctx) => {
    const answer = acceptedContent(responses(ctx), 'user_name');
    if (!('user_name' in responses(ctx))) return inputRequired({ inputRequests: { user_name: nameQuestion('What is your name?') } });
    return text(`Hello, ${answer?.name ?? 'stranger'}!`);
  });
  server.registerTool('test_input_required_result_sampling', { description: 'Asks the client LLM a question', inputSchema: noArguments }, async (_args, ctx) => {
    const answer = responses(ctx).capital_question;
    if (answer === undefined) {
      return inputRequired({
        inputRequests: {
          capital_question: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
            maxTokens: 100,
          }),
        },
      });
    }
    const content = Array.isArray(answer.content) ? answer.content[0] : answer.content;
    return text(`Sampling response: ${content?.text ?? JSON.stringify(answer)}`);
  });
  server.registerTool('test_input_required_result_list_roots', { description: 'Lists the client roots', inputSchema: noArguments }, async (_args, ctx) => {
    const answer = responses(ctx).client_roots;
    if (answer === undefined) return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
    return text(`Client roots: ${(answer.roots ?? []).map((root) => root.uri).join(', ')}`);
  });
  server.registerTool('test_input_required_result_request_state', { description: 'Round-trips a signed requestState', inputSchema: noArguments }, async (_args, ctx) => {
    const saved = await state(ctx);
    if (saved?.step === 'confirm' && 'confirm' in responses(ctx)) return text('state-ok: confirmation received');
    return inputRequired({
      inputRequests: {
        confirm: inputRequired.elicit({
          message: 'Please confirm',
          requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
        }),
      },
      requestState: await mint({ step: 'confirm' }, ctx),
    });
  });
  server.registerTool('test_input_required_result_multiple_inputs', { description: 'Asks for three inputs at once', inputSchema: noArguments }, async (_args, ctx) => {
    const given = responses(ctx);
    if ((await state(ctx))?.step === 'all' && ['user_name', 'greeting', 'client_roots'].every((key) => key in given)) {
      return text(`Received all inputs: ${Object.keys(given).sort().join(', ')}`);
    }
    return inputRequired({
      inputRequests: {
        user_name: nameQuestion('What is your name?'),
        greeting: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 }),
        client_roots: inputRequired.listRoots(),
      },
      requestState: await mint({ step: 'all' }, ctx),
    });
  });
  server.registerTool('test_input_required_result_multi_round', { description: 'Two questions, one per round', inputSchema: noArguments }, async (_args, ctx) => {
    const saved = await state(ctx);
    const given = responses(ctx);
    if (saved?.round === 2 && 'step2' in given) {
      return text(`Done: name=${saved.name}, color=${acceptedContent(given, 'step2')?.color ?? ''}`);
    }
    if (saved?.round === 1 && 'step1' in given) {
      return inputRequired({
        inputRequests: {
          step2: inputRequired.elicit({
            message: 'Step 2: What is your favorite color?',
            requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
          }),
        },
        requestState: await mint({ round: 2, name: acceptedContent(given, 'step1')?.name ?? '' }, ctx),
      });
    }
    return inputRequired({ inputRequests: { step1: nameQuestion('Step 1: What is your name?') }, requestState: await mint({ round: 1 }, ctx) });
  });
  server.registerTool('test_input_required_result_tampered_state', { description: 'Refuses a forged requestState', inputSchema: noArguments }, async (_args, ctx) => {
    // A forged state never gets here: the requestState.verify hook answers -32602 first.
    if ((await state(ctx))?.step === 'signed') return text('state verified');
    return inputRequired({ inputRequests: { user_name: nameQuestion('What is your name?') }, requestState: await mint({ step: 'signed' }, ctx) });
  });
  server.registerTool('test_input_required_result_capabilities', { description: 'Asks only for what the client supports', inputSchema: noArguments }, async (_args, ctx) => {
    if (Object.keys(responses(ctx)).length > 0) return text(`Received: ${Object.keys(responses(ctx)).sort().join(', ')}`);
    // The envelope keeps the wire keys of the request's _meta.
    const declared = ctx.mcpReq.envelope?.['io.modelcontextprotocol/clientCapabilities'] ?? {};
    const inputRequests = {};
    if (declared.elicitation) inputRequests.user_name = nameQuestion('What is your name?');
    if (declared.sampling) {
      inputRequests.greeting = inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 });
    }
    if (declared.roots) inputRequests.client_roots = inputRequired.listRoots();
    if (Object.keys(inputRequests).length === 0) return text('The client declared no capability to ask through.');
    return inputRequired({ inputRequests });
  });
  // Diagnostic tools of scenario server-stateless (SEP-2575).
  server.registerTool('test_missing_capability', { description: 'Needs sampling, which the client may not have declared', inputSchema: noArguments }, async (_args, ctx) => {
    if ('answer' in responses(ctx)) return text('sampling answered');
    return inputRequired({
      inputRequests: { answer: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 10 }) },
    });
  });
  server.registerTool('test_streaming_elicitation', { description: 'Asks for input on the response stream', inputSchema: noArguments }, async (_args, ctx) => {
    if ('user_name' in responses(ctx)) return text('elicitation answered');
    return inputRequired({ inputRequests: { user_name: nameQuestion('What is your name?') } });
  });
  server.registerTool('test_logging_tool', { description: 'Logs at info level (only if the client asked for logs)', inputSchema: noArguments }, async (_args, ctx) => {
    await ctx.mcpReq.log('info', 'test_logging_tool ran');
    return text('logged');
  });
}

// A Standard Schema that accepts anything and reports the given JSON Schema verbatim.
function jsonSchema2020(schema) {
  return {
    '~standard': {
      version: 1,
      vendor: 'agenttrail-conformance-fixture',
      validate: (value) => ({ value }),
      jsonSchema: { input: () => schema, output: () => schema },
    },
  };
}

function registerResources(server) {
  server.registerResource(
    'static-text',
    'test://static-text',
    { title: 'Static Text Resource', description: 'A static text resource', mimeType: 'text/plain' },
    async () => ({ contents: [{ uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }),
  );
  server.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static Binary Resource', description: 'A PNG image', mimeType: 'image/png' },
    async () => ({ contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: PNG_BASE64 }] }),
  );
  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { title: 'Resource Template', description: 'Substitutes {id}', mimeType: 'application/json' },
    async (uri, { id }) => ({
      contents: [{ uri: uri.toString(), mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }],
    }),
  );
  server.registerResource(
    'watched-resource',
    'test://watched-resource',
    { title: 'Watched Resource', description: 'A resource clients may subscribe to', mimeType: 'text/plain' },
    async () => ({ contents: [{ uri: 'test://watched-resource', mimeType: 'text/plain', text: 'Watched resource content' }] }),
  );
  // McpServer has no subscription bookkeeping of its own; accepting the request is what the
  // suite checks (updates are not part of the scenarios).
  server.server.setRequestHandler('resources/subscribe', async () => ({}));
  server.server.setRequestHandler('resources/unsubscribe', async () => ({}));
}

function registerPrompts(server) {
  server.registerPrompt('test_simple_prompt', { title: 'Simple Test Prompt', description: 'A prompt without arguments' }, async () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt With Arguments',
      description: 'A prompt with two required arguments',
      argsSchema: z.object({
        // completable: answers completion/complete for arg1 (scenario completion-complete).
        arg1: completable(z.string().describe('First test argument'), (value) =>
          ['paris', 'park', 'party'].filter((word) => word.startsWith(value)),
        ),
        arg2: z.string().describe('Second test argument'),
      }),
    },
    async ({ arg1, arg2 }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }],
    }),
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      title: 'Prompt With Embedded Resource',
      description: 'A prompt that embeds a resource',
      argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
    },
    async ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  server.registerPrompt(
    'test_input_required_result_prompt',
    { title: 'Prompt that asks first', description: 'Asks the user for context (SEP-2322)' },
    async (ctx) => {
      const given = ctx.mcpReq.inputResponses ?? {};
      if (!('user_context' in given)) {
        return inputRequired({
          inputRequests: {
            user_context: inputRequired.elicit({
              message: 'What context should the prompt use?',
              requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] },
            }),
          },
        });
      }
      const context = acceptedContent(given, 'user_context')?.context ?? '';
      return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt with context: ${context}` } }] };
    },
  );
  server.registerPrompt('test_prompt_with_image', { title: 'Prompt With Image', description: 'A prompt with an image' }, async () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
}

// Both revisions on stdio too: the opening message (initialize or server/discover) picks the era
// of the connection, and one fixture instance serves it.
function serveBothEras() {
  serveStdio(() => createFixtureServer());
}

// Both revisions on one endpoint, as the gateway does it: 2025-era clients get a sessionful
// transport per Mcp-Session-Id, 2026-07-28 requests the SDK's stateless handler.
async function serveHttp(port) {
  const sessions = new Map();
  const modern = createMcpHandler(() => createFixtureServer(), { legacy: 'reject' });
  const allowedHosts = localhostAllowedHostnames();
  const fetch = async (request) => {
    const rejected = hostHeaderValidationResponse(request, allowedHosts);
    if (rejected) return rejected;
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const transport = sessions.get(sessionId);
      if (!transport) return Response.json({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }, { status: 404 });
      return transport.handleRequest(request);
    }
    if (request.method !== 'POST' || !(await isLegacyRequest(request))) return modern.fetch(request);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, transport),
      onsessionclosed: (id) => void sessions.delete(id),
    });
    await createFixtureServer().connect(transport);
    return transport.handleRequest(request);
  };
  const httpServer = serve({ fetch, hostname: '127.0.0.1', port });
  httpServer.once('listening', () => {
    process.stdout.write(`fixture listening at http://127.0.0.1:${httpServer.address().port}/mcp\n`);
  });
  const stop = () => httpServer.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

const args = process.argv.slice(2);
if (args.includes('--http')) {
  const portIndex = args.indexOf('--port');
  await serveHttp(portIndex === -1 ? 0 : Number(args[portIndex + 1]));
} else if (args.includes('--stdio')) {
  serveBothEras();
} else {
  process.stderr.write('usage: fixture-server.mjs --stdio | --http [--port N]\n');
  process.exit(2);
}
