// Runs in the reviewer's browser: the checks of `agenttrail verify` for a few entries, on bytes
// the gateway sent, with the ledger's own code (src/ledger, served as ES modules). Nothing here
// takes the gateway's word for a hash, a root or a signature.
import { decodeBase64 } from '../../../ledger/base64.js';
import { parseCheckpoint } from '../../../ledger/checkpoint.js';
import { leafHash } from '../../../ledger/merkle-hash.js';
import { parseVerifierKey } from '../../../ledger/note-keys.js';
import { verifyInclusion } from '../../../ledger/proof-verification.js';
import { verifyNote } from '../../../ledger/signed-note.js';
import type { ProofMaterial } from '../proof-material.js';

export interface EntryCheck {
  readonly index: number;
  readonly status: 'ok' | 'failed' | 'unchecked';
  readonly message: string;
}

export interface ProofReport {
  /** Whether the checkpoint is signed by the verifier key given, and what it commits to. */
  readonly checkpoint: { readonly ok: boolean; readonly message: string };
  readonly entries: readonly EntryCheck[];
}

/** Checks the checkpoint's signature with `verifierKey`, then each selected entry's inclusion in it. */
export function checkProofMaterial(material: ProofMaterial, verifierKey: string, selected: readonly number[]): ProofReport {
  let size: number;
  let root: Uint8Array;
  try {
    const verifier = parseVerifierKey(verifierKey.trim());
    const { text } = verifyNote(material.checkpoint, [verifier]);
    const checkpoint = parseCheckpoint(text);
    if (checkpoint.origin !== material.log) throw new Error(`the checkpoint is of log "${checkpoint.origin}", not "${material.log}"`);
    ({ size, root } = checkpoint);
  } catch (error) {
    const message = `checkpoint not verified: ${messageOf(error)}`;
    return { checkpoint: { ok: false, message }, entries: selected.map((index) => ({ index, status: 'unchecked', message: `entry ${index}: not checked, as the checkpoint is not verified` })) };
  }
  const sent = new Map(material.entries.map((entry) => [entry.index, entry]));
  return {
    checkpoint: { ok: true, message: `checkpoint of log ${material.log} at size ${size} is signed by ${verifierKey.trim().split('+').slice(0, 2).join('+')}` },
    entries: selected.map((index): EntryCheck => {
      const entry = sent.get(index);
      if (entry === undefined) return { index, status: 'failed', message: `entry ${index}: the gateway sent no bytes or proof for it in the checkpoint of size ${size}` };
      if (entry.pruned) return { index, status: 'unchecked', message: `entry ${index}: its payload was removed by retention, so its leaf cannot be recomputed from the bytes kept` };
      try {
        const bytes = decodeBase64(entry.body, `entry ${index}`);
        verifyInclusion(BigInt(index), BigInt(size), leafHash(bytes), entry.proof.map((hash, position) => decodeBase64(hash, `proof hash ${position}`)), root);
        const claimed = (JSON.parse(new TextDecoder().decode(bytes)) as { index?: unknown }).index;
        if (claimed !== index) throw new Error(`its body says it is entry ${String(claimed)}`);
        return { index, status: 'ok', message: `entry ${index}: included in the signed checkpoint (size ${size})` };
      } catch (error) {
        return { index, status: 'failed', message: `entry ${index}: FAILED: its bytes and proof do not lead to the signed root (${messageOf(error)})` };
      }
    }),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
