import { sha256Hex } from '../ledger/canonical-json.js';

/** One policy file as read: its name within the policy folder and its bytes. */
export interface PolicySource {
  /** The file name within the folder, e.g. `10-read-only.yaml`: what the log records. */
  readonly name: string;
  /** How errors name the file, e.g. `policies/10-read-only.yaml`. */
  readonly location: string;
  /** The file's bytes: the version is their hash, whatever their encoding. */
  readonly bytes: Uint8Array;
}

/** Policy files in the order their rules apply: by name, byte by byte (as `LC_ALL=C ls` lists them). */
export function inRuleOrder(sources: readonly PolicySource[]): PolicySource[] {
  return [...sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The policy version: the SHA-256 of what `sha256sum` prints for the files in rule order, so that
 * anyone can recompute it from the folder: `cd policies && sha256sum *.yaml | sha256sum` (with
 * `LC_ALL=C`, and *.yml too if there are any). Any change to any file's bytes, a renamed, added or
 * removed file, gives another version.
 */
export function policyVersion(sources: readonly PolicySource[]): string {
  const listing = inRuleOrder(sources)
    .map((source) => `${sha256Hex(source.bytes)}  ${source.name}\n`)
    .join('');
  return sha256Hex(new TextEncoder().encode(listing));
}
