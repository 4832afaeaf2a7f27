import { z } from 'zod';

/** An event another system appended to the log (CI, a vault, a SaaS webhook). */
export const EXTERNAL_EVENT_KIND = 'external.event';
/** An event that was refused (malformed, unsigned, not authenticated), and why. */
export const EXTERNAL_REFUSED_KIND = 'external.refused';
/** The session of refusals: a refused event's own claims (its session, its source) are not trusted. */
export const INGEST_REFUSALS_SESSION = 'ingest';

export const EventSourceSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._/-]{0,63}$/, 'a source is 1 to 64 lower-case letters, digits, ".", "_", "-" or "/", starting with a letter or digit (e.g. github, ci/deploy)');

/**
 * What another system sends (one JSON object; a line of a JSONL file): who says it (`source`), what
 * happened (`type`) and when (`time`, the system's own clock), what it is about (`subject`), the
 * details (`data`), its own id, and the AgentTrail session it belongs to, if any. Strict: a field
 * this version does not know is refused rather than silently dropped.
 */
export const ExternalEventSchema = z.strictObject({
  source: EventSourceSchema,
  type: z.string().min(1, 'must not be empty').max(128, 'at most 128 characters'),
  time: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time with a time zone, e.g. 2026-01-31T12:00:00Z' }),
  subject: z.string().min(1, 'must not be empty').max(512, 'at most 512 characters').optional(),
  data: z.json().optional(),
  id: z.string().min(1, 'must not be empty').max(256, 'at most 256 characters').optional(),
  session: z.string().min(1, 'must not be empty').max(256, 'at most 256 characters').optional(),
});
export type ExternalEvent = z.infer<typeof ExternalEventSchema>;

/**
 * Where an event goes in the log: the session it names, so that a reviewer reads it among that
 * session's calls, else a session of its source's own (`events:github`); and its payload.
 */
export function externalEventRecord(event: ExternalEvent): { session: string; payload: Omit<ExternalEvent, 'session'> } {
  const { session, ...payload } = event;
  return { session: session ?? `events:${event.source}`, payload };
}

/** What is wrong with an event, in one line: the first problem with its field, and how many more there are. */
export function eventProblem(error: z.ZodError): string {
  const [first, ...more] = error.issues;
  const field = first === undefined || first.path.length === 0 ? '' : `${first.path.join('.')}: `;
  const rest = more.length === 0 ? '' : ` (and ${more.length} more problem${more.length === 1 ? '' : 's'})`;
  return `${field}${first?.message ?? 'invalid'}${rest}; an event is {source, type, time, subject?, data?, id?, session?}`;
}

/** One line for a timeline: `ci deploy.finished api-server (2026-01-31T12:00:00Z, id run-42)`; undefined when `payload` is no event. */
export function describeExternalEvent(payload: unknown): string | undefined {
  const parsed = ExternalEventSchema.omit({ session: true }).safeParse(payload);
  if (!parsed.success) return undefined;
  const { source, type, subject, time, id } = parsed.data;
  return `${source} ${type}${subject === undefined ? '' : ` ${subject}`} (${time}${id === undefined ? '' : `, id ${id}`})`;
}
