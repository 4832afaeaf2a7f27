import type { DelegatedCredential } from '../credentials/delegated-credentials.js';
import type { RecordedCall, SessionIdentity } from './call-recorder.js';

/** The credentials one call carries upstream: each is recorded, and the headers go with its request only. */
export interface CallDelegation {
  readonly credentials: readonly DelegatedCredential[];
  /** Headers for this one HTTP request (credentials limited to agents or tools, exchanged tokens). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Decides, call by call, which credentials go upstream (see src/credentials/credential-broker.ts). */
export interface CallCredentials {
  /** Rejects with a CredentialRefusal when a credential the call needs cannot go with it. */
  forCall(who: SessionIdentity, call: RecordedCall): Promise<CallDelegation>;
  /** The credential headers every request to an HTTP server carries now (none that was revoked). */
  headersFor(server: string): Readonly<Record<string, string>>;
}

export const NO_DELEGATION: CallDelegation = { credentials: [], headers: {} };

/** A credential the call needs cannot go with it (revoked, or no token could be obtained): the call is not sent. */
export class CredentialRefusal extends Error {
  constructor(
    readonly credential: string,
    readonly carrier: string,
    readonly reason: string,
    server: string,
  ) {
    super(`credential "${credential}" ${reason}; the call was not sent to server '${server}'`);
    this.name = 'CredentialRefusal';
  }
}
