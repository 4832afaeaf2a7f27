import type { EntrySink } from '../gateway/call-recorder.js';
import type { SecretRedactor } from './secret-redactor.js';

/** A sink that records every entry with the secrets in its payload and agent identity replaced. */
export function redactingSink(sink: EntrySink, redactor: SecretRedactor): EntrySink {
  return {
    append: (draft) => sink.append({ ...draft, agent: redactor.redact(draft.agent), payload: redactor.redact(draft.payload) }),
  };
}
