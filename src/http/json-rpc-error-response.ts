/** An HTTP error an MCP client can show: a JSON-RPC error body with a message that says what to do. */
export function jsonRpcErrorResponse(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', id: null, error: { code, message } }, { status });
}
