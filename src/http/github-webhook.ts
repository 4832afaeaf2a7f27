import { hexToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import type { ExternalEvent } from '../review/external-event.js';

const SIGNATURE_SHAPE = /^sha256=([0-9a-f]{64})$/i;

/**
 * Why a GitHub delivery's `X-Hub-Signature-256` does not prove it came from GitHub; undefined when
 * it does: the header is `sha256=` and the hex HMAC-SHA256 of the raw body under the webhook's
 * secret. Compared by WebCrypto's HMAC verify, in constant time.
 */
export async function githubSignatureProblem(secret: string, body: Uint8Array<ArrayBuffer>, header: string | undefined): Promise<string | undefined> {
  if (header === undefined) {
    return 'unsigned: the request has no X-Hub-Signature-256 header; give the webhook a secret in GitHub, the one in ingest.github.secret';
  }
  const hex = SIGNATURE_SHAPE.exec(header.trim())?.[1];
  if (hex === undefined) return 'X-Hub-Signature-256 is not "sha256=" followed by 64 hex digits';
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  if (await crypto.subtle.verify('HMAC', key, hexToBytes(hex.toLowerCase()), body)) return undefined;
  return "X-Hub-Signature-256 does not match the body: the webhook's secret in GitHub is not the one in ingest.github.secret, or the body was changed on the way";
}

/** What the event is about, in the order GitHub's payloads name it. */
const GithubPayloadSchema = z.looseObject({
  action: z.string().optional(),
  repository: z.looseObject({ full_name: z.string() }).optional(),
  organization: z.looseObject({ login: z.string() }).optional(),
  sender: z.looseObject({ login: z.string() }).optional(),
});

/**
 * A verified delivery as an event of source `github`: its type is the X-GitHub-Event header with
 * the payload's action (`pull_request.opened`), its subject the repository (else the organization or
 * the sender), its id the X-GitHub-Delivery header, its data the whole payload.
 */
export function githubEvent(name: string, delivery: string | undefined, payload: unknown, received: Date): ExternalEvent {
  const { action, repository, organization, sender } = GithubPayloadSchema.safeParse(payload).data ?? {};
  const subject = repository?.full_name ?? organization?.login ?? sender?.login;
  return {
    source: 'github',
    type: action === undefined ? name : `${name}.${action}`,
    time: received.toISOString(),
    ...(subject === undefined ? {} : { subject }),
    ...(delivery === undefined ? {} : { id: delivery }),
    data: payload as ExternalEvent['data'],
  };
}
