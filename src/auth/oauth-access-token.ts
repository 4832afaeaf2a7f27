import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';

/** Where OAuth 2.1 access tokens come from and what they must say (MCP authorization). */
export interface OAuthSettings {
  /** The authorization server; tokens must carry it as `iss`. */
  readonly issuer: string;
  /** This gateway's resource identifier; tokens must carry it in `aud`. */
  readonly audience: string;
  /** The issuer's JSON Web Key Set. */
  readonly jwks: string;
  /** The claim that names the agent (the OAuth client), e.g. `client_id` or `azp`. */
  readonly agentClaim: string;
}

/** Who a valid access token speaks for. */
export interface OAuthIdentity {
  /** The agent (the OAuth client the token was issued to). */
  readonly agent: string;
  /** The human principal on whose behalf the agent acts, when the token names one. */
  readonly subject?: string | undefined;
  readonly scope?: string | undefined;
  /** Seconds since the epoch. */
  readonly expires: number;
}

/** A token that does not open the door; `reason` goes into the 401's WWW-Authenticate and the log. */
export class AccessTokenRejected extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.name = 'AccessTokenRejected';
  }
}

// Asymmetric algorithms only: an HMAC-signed token would mean sharing the issuer's secret, and
// `none` is no signature at all.
const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];

/** A verifier of signed JWT access tokens against the issuer's published keys (fetched and cached by jose). */
export function oauthTokenVerifier(settings: OAuthSettings, keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(settings.jwks))): (token: string) => Promise<OAuthIdentity> {
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw new AccessTokenRejected(describeRejection(error), { cause: error });
    }
    const agent = payload[settings.agentClaim];
    if (typeof agent !== 'string' || agent === '') {
      throw new AccessTokenRejected(`the token names no agent in its "${settings.agentClaim}" claim`);
    }
    return {
      agent,
      subject: payload.sub,
      scope: typeof payload['scope'] === 'string' ? payload['scope'] : undefined,
      expires: payload.exp!,
    };
  };
}

function describeRejection(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'the token is for another audience';
    if (error.claim === 'iss') return 'the token is from another issuer';
    return `the token's "${error.claim}" claim is not acceptable (${error.reason})`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not accepted';
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) return 'the token is not signed by the issuer';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'the token is malformed';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JOSEError) return `the token could not be checked (${error.message})`;
  return 'the token could not be checked';
}
