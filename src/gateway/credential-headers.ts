/**
 * How a credential header reaches one HTTP request of a transport that many agents' calls share.
 * The SDK hands each request's own headers (TransportSendOptions.headers) to the transport with
 * that request alone, so concurrent calls cannot see each other's; but it drops the ones it owns,
 * Authorization among them. So each goes under a name of ours, which the transport's fetch turns
 * back into the real header just before the request leaves.
 */
const CARRIED_PREFIX = 'x-agenttrail-credential-';

/** A call's credential headers in the form the SDK passes through to the transport. */
export function carriedHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [`${CARRIED_PREFIX}${name.toLowerCase()}`, value]));
}

/**
 * A fetch that sends the credential headers every request carries (`current()`, asked per request
 * so that a revoked credential stops at once) and restores those carried for one call.
 */
export function fetchWithCredentials(base: typeof fetch, current: () => Readonly<Record<string, string>>): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(current())) headers.set(name, value);
    for (const [name, value] of [...headers]) {
      if (!name.startsWith(CARRIED_PREFIX)) continue;
      headers.delete(name);
      headers.set(name.slice(CARRIED_PREFIX.length), value);
    }
    return base(input, { ...init, headers });
  };
}
