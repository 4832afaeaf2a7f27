// The gateway config the Workers suite deploys (the AGENTTRAIL_CONFIG var), shared by the Node side
// (agents add) and the Worker.
export const WORKER_ORIGIN = 'workers.agenttrail.test/gateway';

/** The Worker's HTTP upstreams: a Streamable HTTP server, and optionally one on the legacy HTTP+SSE transport. */
export interface WorkerUpstreams {
  readonly everything: string;
  readonly legacy?: string;
}

/** Requests come in addressed to localhost, which the DNS-rebinding guard accepts. */
export function workerConfig(upstreams: WorkerUpstreams): string {
  const legacy = upstreams.legacy === undefined ? {} : { legacy: { url: upstreams.legacy, transport: 'sse' } };
  return JSON.stringify({ log: { origin: WORKER_ORIGIN }, servers: { everything: { url: upstreams.everything }, ...legacy } });
}
