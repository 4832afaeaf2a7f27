import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCheckpoint } from '../../src/ledger/checkpoint.js';
import { generateWitnessKey, parseWitnessSignerKey } from '../../src/ledger/cosignature.js';
import { parseVerifierKey } from '../../src/ledger/note-keys.js';
import { verifyConsistency } from '../../src/ledger/proof-verification.js';
import { verifyNote } from '../../src/ledger/signed-note.js';
import { parseAddCheckpointRequest } from '../../src/ledger/witness-request.js';

export interface TestWitness {
  /** The submission prefix. */
  readonly url: string;
  readonly verifierKey: string;
  /** The latest cosigned size per origin. */
  readonly cosigned: Map<string, { size: number; root: Uint8Array }>;
  /** Every request's status, in order. */
  readonly answers: number[];
  close(): Promise<void>;
}

/**
 * A small c2sp.org/tlog-witness on loopback: knows the logs it is given (origin → verifier key),
 * checks each add-checkpoint request as the spec says (404 unknown origin, 403 bad signature, 400
 * old size above the checkpoint, 409 old size mismatch with text/x.tlog.size, 422 bad proof) and
 * answers a cosignature.
 */
export async function startTestWitness(logs: Record<string, string>, name = 'witness.test/w1'): Promise<TestWitness> {
  const signer = parseWitnessSignerKey(generateWitnessKey(name));
  const cosigned = new Map<string, { size: number; root: Uint8Array }>();
  const answers: number[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const answer = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      answers.push(status);
      response.writeHead(status, { 'content-type': type }).end(body);
    };
    if (request.method !== 'POST' || request.url !== '/add-checkpoint') return answer(404, 'not found\n');
    try {
      const { oldSize, proof, checkpoint: note } = parseAddCheckpointRequest(Buffer.concat(chunks).toString('utf8'));
      const origin = note.slice(0, note.indexOf('\n'));
      const logKey = logs[origin];
      if (logKey === undefined) return answer(404, `unknown log ${origin}\n`);
      let text: string;
      try {
        text = verifyNote(note, [parseVerifierKey(logKey)]).text;
      } catch {
        return answer(403, 'no valid signature by the log key\n');
      }
      const checkpoint = parseCheckpoint(text);
      if (oldSize > checkpoint.size) return answer(400, 'old size is above the checkpoint size\n');
      const known = cosigned.get(origin) ?? { size: 0, root: new Uint8Array(32) };
      if (oldSize !== known.size) return answer(409, `${known.size}\n`, 'text/x.tlog.size');
      if (oldSize === checkpoint.size) {
        if (Buffer.compare(known.root, checkpoint.root) !== 0) return answer(409, `${known.size}\n`, 'text/x.tlog.size');
      } else if (oldSize > 0) {
        try {
          verifyConsistency(BigInt(oldSize), BigInt(checkpoint.size), known.root, checkpoint.root, proof);
        } catch {
          return answer(422, 'the consistency proof does not verify\n');
        }
      }
      cosigned.set(origin, { size: checkpoint.size, root: checkpoint.root });
      return answer(200, signer.cosign(text, Math.floor(Date.now() / 1000)));
    } catch (error) {
      return answer(400, `${error instanceof Error ? error.message : String(error)}\n`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    verifierKey: signer.verifierKey,
    cosigned,
    answers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
