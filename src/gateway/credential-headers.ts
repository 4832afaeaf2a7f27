import type { FetchLike } from '@modelcontextprotocol/client';

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
export function fetchWithCredentials(base: FetchLike, current: () => Readonly<Record<string, string>>): FetchLike {
  return (input, init) => base(input, { ...init, headers: withCredentials(init?.headers, current()) });
}

/**
 * A request's headers, as a plain record of lower-case names (a fetch takes it as it is): its own,
 * then the credentials every request carries, then those carried for its call under their real
 * names, each replacing a header of the same name before it. No carried name is left.
 */
function withCredentials(init: HeadersInit | undefined, always: Readonly<Record<string, string>>): Record<string, string> {
  // No prototype: a header named __proto__ is a header like any other.
  const headers = Object.create(null) as Record<string, string>;
  const own = init instanceof Headers ? init : new Headers(init);
  const carried: [string, string][] = [];
  for (const [name, value] of own) {
    if (name.startsWith(CARRIED_PREFIX)) carried.push([name.slice(CARRIED_PREFIX.length), value]);
    else headers[name] = value;
  }
  for (const [name, value] of Object.entries(always)) headers[name.toLowerCase()] = value;
  for (const [name, value] of carried) headers[name] = value;
  return headers;
}
