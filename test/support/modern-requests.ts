// Hand-made 2026-07-28 requests, for what an SDK client never sends (a forged or misplaced
// requestState) or hides (the HTTP status).

export interface ModernToolCall {
  readonly name: string;
  readonly arguments: Record<string, unknown>;
  readonly requestState?: string;
  readonly inputResponses?: Record<string, unknown>;
  /** `clientInfo.name`; default raw-agent. */
  readonly client?: string;
  readonly capabilities: Record<string, unknown>;
}

/** POSTs one tools/call as a 2026-07-28 client does: headers, and the `_meta` envelope in its params. */
export function postModernToolCall(url: string, call: ModernToolCall): Promise<Response> {
  const { name, client = 'raw-agent', capabilities, ...params } = call;
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name,
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: client, version: '1' },
          'io.modelcontextprotocol/clientCapabilities': capabilities,
        },
      },
    }),
  });
}

/** The JSON-RPC answer, whether it came as JSON or as the last event of a stream. */
export async function jsonRpcAnswer<T>(response: Response): Promise<T> {
  const text = await response.text();
  const streamed = response.headers.get('content-type')?.startsWith('text/event-stream') === true;
  const json = streamed ? text.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice('data: '.length)).at(-1) : text;
  return JSON.parse(json ?? 'null') as T;
}
