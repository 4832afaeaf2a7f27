import type { CredentialConfig } from '../config/config-schema.js';

/** What decides whether a limited credential goes with a call: who calls, and which upstream tool. */
export interface CallTarget {
  /** The authenticated agent (its name, or its OAuth client id); undefined when it is anonymous. */
  readonly agent?: string | undefined;
  readonly method: string;
  /** The upstream's own tool (prompt, resource) name. */
  readonly tool?: string | undefined;
}

export type CallMatcher = (target: CallTarget) => boolean;

/**
 * Which calls a credential with `agents` or `tools` goes with: the agent must be listed (an
 * anonymous agent matches no list), and the call must be a tools/call of a listed tool.
 * Undefined for a credential without limits, which goes with every request.
 */
export function credentialLimits(credential: Pick<CredentialConfig, 'agents' | 'tools'>): CallMatcher | undefined {
  if (credential.agents === undefined && credential.tools === undefined) return undefined;
  const agents = credential.agents === undefined ? undefined : new Set(credential.agents);
  const tools = credential.tools === undefined ? undefined : new RegExp(`^(?:${credential.tools.map(globSource).join('|')})$`);
  return ({ agent, method, tool }) =>
    (agents === undefined || (agent !== undefined && agents.has(agent))) &&
    (tools === undefined || (method === 'tools/call' && tool !== undefined && tools.test(tool)));
}

/** `*` matches any run of characters and `?` one character; everything else stands for itself. */
function globSource(glob: string): string {
  return [...glob].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/, '\\$&'))).join('');
}
