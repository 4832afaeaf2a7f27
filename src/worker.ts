// The Cloudflare Workers entry of AgentTrail: every request goes to the deployment's one gateway
// object (see worker/gateway-object.ts), the Node entry's counterpart without stdio or files.
import { AgentTrailGateway } from './worker/gateway-object.js';

export { AgentTrailGateway };

interface WorkerEnv {
  readonly AGENTTRAIL_GATEWAY: DurableObjectNamespace<AgentTrailGateway>;
}

/** One log, one writer: every request of the deployment reaches the same object. */
const GATEWAY_OBJECT = 'gateway';

export default {
  fetch(request, env) {
    return env.AGENTTRAIL_GATEWAY.getByName(GATEWAY_OBJECT).fetch(request);
  },
} satisfies ExportedHandler<WorkerEnv>;
