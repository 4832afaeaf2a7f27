import type { ClientCapabilities } from '@modelcontextprotocol/server';

/**
 * The questions an agent declared it can answer (elicitation, sampling, roots): what the gateway
 * declares to an upstream on the agent's behalf, so the upstream offers what it would offer the
 * agent directly and asks only what will be answered. Undefined when there are none.
 */
export function answerableCapabilities(declared: ClientCapabilities | undefined): ClientCapabilities | undefined {
  if (!declared) return undefined;
  const answerable: ClientCapabilities = {
    ...(declared.elicitation ? { elicitation: declared.elicitation } : {}),
    ...(declared.sampling ? { sampling: declared.sampling } : {}),
    ...(declared.roots ? { roots: declared.roots } : {}),
  };
  return Object.keys(answerable).length === 0 ? undefined : answerable;
}
