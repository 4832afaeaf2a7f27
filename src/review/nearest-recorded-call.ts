import { canonicalHash } from '../ledger/canonical-json.js';
import type { RecordedToolCall } from './recorded-tool-calls.js';

/** The recorded call most like the one asked for, and how it differs. */
export interface NearestCall {
  readonly call: RecordedToolCall;
  /** The argument keys whose values differ (or that only one side has); empty for another tool. */
  readonly differingKeys: readonly string[];
  /** True when no recorded call has the tool asked for, and the call is the one with the closest name. */
  readonly otherTool: boolean;
}

/**
 * The recorded call of the same tool whose arguments differ in the fewest keys, else the call of
 * the tool whose name is closest (fewest single-character edits); the earliest one on a tie.
 * Undefined when nothing was recorded.
 */
export function nearestRecordedCall(calls: readonly RecordedToolCall[], name: string, args: Record<string, unknown>): NearestCall | undefined {
  let nearest: NearestCall | undefined;
  let nearestScore = Infinity;
  for (const call of calls.filter((recorded) => recorded.name === name)) {
    const differingKeys = differingArgumentKeys(call.arguments, args);
    if (differingKeys.length < nearestScore) {
      nearest = { call, differingKeys, otherTool: false };
      nearestScore = differingKeys.length;
    }
  }
  if (nearest !== undefined) return nearest;
  for (const call of calls) {
    const distance = editDistance(call.name, name);
    if (distance < nearestScore) {
      nearest = { call, differingKeys: [], otherTool: true };
      nearestScore = distance;
    }
  }
  return nearest;
}

/** Keys present on one side only, or with values whose canonical JSON differs; sorted. */
export function differingArgumentKeys(recorded: Record<string, unknown> | undefined, asked: Record<string, unknown>): string[] {
  if (recorded === undefined) return Object.keys(asked).sort();
  const keys = new Set([...Object.keys(recorded), ...Object.keys(asked)]);
  return [...keys].filter((key) => !(key in recorded && key in asked && canonicalHash(recorded[key]) === canonicalHash(asked[key]))).sort();
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, column) => column);
  for (let row = 1; row <= a.length; row += 1) {
    const current = [row];
    for (let column = 1; column <= b.length; column += 1) {
      const substitution = previous[column - 1]! + (a[row - 1] === b[column - 1] ? 0 : 1);
      current.push(Math.min(substitution, previous[column]! + 1, current[column - 1]! + 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
