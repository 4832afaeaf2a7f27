import { canonicalHash } from '../ledger/canonical-json.js';
import { nearestRecordedCall } from './nearest-recorded-call.js';
import type { RecordedToolCall, RecordedToolSession } from './recorded-tool-calls.js';

/** The recorded call whose answer a replayed call gets, or why none fits. */
export type ReplayMatch = { readonly call: RecordedToolCall } | { readonly miss: string };

// Arguments quoted in a miss are cut here: the message is for a person reading an error.
const QUOTED_ARGUMENT_CHARS = 200;

/**
 * Matches the calls of a replayed agent to the recorded ones: the same tool name (as the agent saw
 * it) and the same arguments (their canonical hash, which the log computed before redacting them).
 * A call made several times with the same arguments gets the recorded answers in the order they were
 * recorded, each once, as a cassette plays.
 */
export class ReplayAnswers {
  readonly #unanswered = new Map<string, RecordedToolCall[]>();

  constructor(private readonly recording: RecordedToolSession) {
    for (const call of recording.calls) {
      const key = matchKey(call.name, call.argsHash);
      this.#unanswered.set(key, [...(this.#unanswered.get(key) ?? []), call]);
    }
  }

  /** The next recorded call of `name` with exactly `args`, or a message that names the nearest one. */
  take(name: string, args: Record<string, unknown>): ReplayMatch {
    const argsHash = canonicalHash(args);
    const next = this.#unanswered.get(matchKey(name, argsHash))?.shift();
    if (next !== undefined) return { call: next };
    const { session } = this.recording;
    const same = this.recording.calls.filter((call) => call.name === name && call.argsHash === argsHash);
    if (same.length > 0) {
      const entries = same.map((call) => call.index).join(', ');
      return {
        miss: `${name} with these arguments was called ${same.length === 1 ? 'once' : `${same.length} times`} in session ${session} (entry ${entries}), and a replay answers each recorded call once: this is call ${same.length + 1}`,
      };
    }
    const nearest = nearestRecordedCall(this.recording.calls, name, args);
    if (nearest === undefined) return { miss: `session ${session} has no recorded tool call to answer ${name} with` };
    const { call, differingKeys, otherTool } = nearest;
    const asked = otherTool ? `no recorded call of a tool named ${name}` : `no recorded call of ${name} with these arguments`;
    const how = otherTool ? 'the closest tool name' : differingKeys.length === 0 ? 'the same arguments' : `arguments differ in ${differingKeys.join(', ')}`;
    return { miss: `${asked} in session ${session}; the nearest recorded call is entry ${call.index}: ${call.name} ${quote(call.arguments)} (${how})` };
  }
}

function matchKey(name: string, argsHash: string): string {
  return `${name}\u0000${argsHash}`;
}

function quote(args: Record<string, unknown> | undefined): string {
  if (args === undefined) return '(arguments removed by retention)';
  const text = JSON.stringify(args);
  return text.length <= QUOTED_ARGUMENT_CHARS ? text : `${text.slice(0, QUOTED_ARGUMENT_CHARS)}…`;
}
