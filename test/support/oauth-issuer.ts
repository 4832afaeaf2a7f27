// An OAuth authorization server's signing side, on loopback: it publishes its JSON Web Key Set
// (what the gateway fetches to check access tokens) and signs access tokens for the tests.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export const ISSUER = 'https://issuer.agenttrail.test';
export const AUDIENCE = 'https://gateway.agenttrail.test/mcp';

export interface TestIssuer {
  /** The URL of the issuer's JSON Web Key Set. */
  jwks: string;
  /** An access token for the gateway (client research-agent, subject alice@example.com unless `claims` say otherwise); each one unique. */
  sign(claims: Record<string, unknown>, options?: { audience?: string; expiresIn?: string | number; key?: CryptoKey }): Promise<string>;
  /** A key the issuer does not publish. */
  strangerKey: CryptoKey;
  close(): Promise<void>;
}

export async function startIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const stranger = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'issuer-key-1', alg: 'ES256', use: 'sig' };
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwks = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  const sign: TestIssuer['sign'] = (claims, options = {}) =>
    new SignJWT({ client_id: 'research-agent', scope: 'mcp:tools', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'issuer-key-1' })
      .setIssuer(ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject('alice@example.com')
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(options.key ?? privateKey);
  return { jwks, sign, strangerKey: stranger.privateKey, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
