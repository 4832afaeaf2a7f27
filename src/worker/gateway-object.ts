import { DurableObject } from 'cloudflare:workers';
import type { Hono } from 'hono';
import type { AuthenticatedEnv } from '../http/agent-authentication.js';
import { jsonRpcErrorResponse } from '../http/json-rpc-error-response.js';
import { openWorkerGateway } from './worker-gateway.js';

/**
 * The gateway of one Worker deployment, as a Durable Object: the one instance that every request
 * reaches, wherever it arrives. It is the log's single writer (one sequencer, group commits signed
 * once per batch, as on Node), and it keeps what lives between requests: the 2025-11-25 sessions
 * (Mcp-Session-Id, their GET streams and upstream connections) and the upstream connections that
 * the stateless 2026-07-28 requests share. A plain Worker isolate keeps none of that reliably,
 * and cannot use one request's connections for another. When the object is evicted (idle, or a
 * new deployment) the sessions end: their agents get 404 and initialize again, as the protocol
 * has them do; every entry written before is in the database. Its bindings are checked when it
 * opens the gateway (worker-settings.ts), so they are typed as no more than an object.
 */
export class AgentTrailGateway extends DurableObject<object> {
  #app: Promise<Hono<AuthenticatedEnv>> | undefined;

  override async fetch(request: Request): Promise<Response> {
    const response = await this.#answer(request);
    // A refusal answers before the body is read; the Worker in front still streams it here, and
    // fails loudly once the answer is sent. Reading it first ends that stream cleanly.
    if (request.body !== null && !request.bodyUsed) await request.arrayBuffer();
    return response;
  }

  async #answer(request: Request): Promise<Response> {
    this.#app ??= openWorkerGateway(this.env);
    let app: Hono<AuthenticatedEnv>;
    try {
      app = await this.#app;
    } catch (error) {
      // Fail closed, and try again on the next request: the database may be back by then.
      this.#app = undefined;
      const reason = error instanceof Error ? error.message : String(error);
      console.error(`agenttrail: the gateway cannot start: ${reason}`);
      return jsonRpcErrorResponse(503, -32000, `AgentTrail cannot start: ${reason}`);
    }
    return app.fetch(request);
  }
}
