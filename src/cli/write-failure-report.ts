import type { EntrySink } from '../gateway/call-recorder.js';

/**
 * A sink that tells the operator when the audit log stops being written (calls are refused from
 * then on) and when it is written again: once per change, not once per refused call, so that a
 * full disk or a database server that went away shows on the gateway's stderr without flooding it.
 */
export function reportingWriteFailures(sink: EntrySink, report: (line: string) => void): EntrySink {
  let failing = false;
  return {
    append: async (draft) => {
      try {
        const entry = await sink.append(draft);
        if (failing) {
          failing = false;
          report('agenttrail: the audit log is written again; calls go through');
        }
        return entry;
      } catch (error) {
        if (!failing) {
          failing = true;
          report(`agenttrail: ${error instanceof Error ? error.message : String(error)}; calls are refused until the audit log can be written`);
        }
        throw error;
      }
    },
  };
}
