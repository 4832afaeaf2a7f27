import type { AgentIdentity } from '../ledger/entry.js';

/** The name a reviewer knows an agent by: its registered id, else its MCP client's name, else how it connected. */
export function agentLabel(agent: AgentIdentity): string {
  if (agent.id !== undefined) return agent.id;
  if (agent.client !== undefined) return agent.client.name;
  if (agent.user !== undefined) return `${agent.user} (${agent.transport})`;
  return `unnamed ${agent.transport} agent`;
}
