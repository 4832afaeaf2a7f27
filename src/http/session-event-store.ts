/** Which SSE stream of a session an event belongs to: a call's POST, or the GET stream. */
export type StreamId = string;
/** `<sequence>-<stream>`, what an agent sends back as Last-Event-ID. */
export type EventId = string;

/**
 * How much of its SSE traffic one 2025-11-25 session keeps for an agent that opens its GET stream
 * late or reconnects: the newest messages up to this many, and up to this many characters of JSON.
 */
export const SESSION_EVENTS_KEPT = { messages: 256, characters: 1024 * 1024 } as const;

/** The stream of every message that belongs to no call. */
export const GET_STREAM_ID: StreamId = '_GET_stream';

interface StoredEvent {
  sequence: number;
  streamId: StreamId;
  /** The message, as sent. */
  json: string;
}

/**
 * The messages sent on one session's SSE streams, so that they can be sent again after a
 * Last-Event-ID (Streamable HTTP's resumability). Bounded by SESSION_EVENTS_KEPT, oldest dropped
 * first; it lives as long as its session. An event id is `<sequence>-<stream>`: a resume point that
 * was already dropped still says where to go on from, and what remains after it is sent.
 */
export class SessionEventStore {
  readonly #events: StoredEvent[] = [];
  #characters = 0;
  #sequence = 0;

  /** Keeps a message sent on a stream; its event id says where a resumed stream goes on from. */
  keep(streamId: StreamId, json: string): EventId {
    this.#sequence += 1;
    this.#events.push({ sequence: this.#sequence, streamId, json });
    this.#characters += json.length;
    while (this.#events.length > SESSION_EVENTS_KEPT.messages || this.#characters > SESSION_EVENTS_KEPT.characters) {
      this.#characters -= this.#events.shift()!.json.length;
    }
    return eventId(this.#sequence, streamId);
  }

  /** A new id with nothing to send again: the event that opens a stream, so it can be resumed before its first message. */
  mark(streamId: StreamId): EventId {
    this.#sequence += 1;
    return eventId(this.#sequence, streamId);
  }

  /** An id after which a stream goes on with whatever is stored next. */
  resumePoint(streamId: StreamId): EventId {
    return eventId(this.#sequence, streamId);
  }

  /** The id before everything this session ever sent on a stream. */
  origin(streamId: StreamId): EventId {
    return eventId(0, streamId);
  }

  /** The stream an id this session issued belongs to; undefined for any other id. */
  streamOf(id: EventId): StreamId | undefined {
    return this.parse(id)?.streamId;
  }

  /** What was sent on the stream of `id` after it, oldest first; undefined for an id this session never issued. */
  replayAfter(id: EventId): { streamId: StreamId; events: { id: EventId; json: string }[] } | undefined {
    const after = this.parse(id);
    if (!after) return undefined;
    const missed = this.#events.filter((event) => event.streamId === after.streamId && event.sequence > after.sequence);
    return { streamId: after.streamId, events: missed.map((event) => ({ id: eventId(event.sequence, event.streamId), json: event.json })) };
  }

  private parse(id: EventId): { sequence: number; streamId: StreamId } | undefined {
    const match = /^(\d+)-(.+)$/.exec(id);
    if (!match) return undefined;
    const sequence = Number(match[1]);
    return sequence <= this.#sequence ? { sequence, streamId: match[2]! } : undefined;
  }
}

function eventId(sequence: number, streamId: StreamId): EventId {
  return `${sequence}-${streamId}`;
}
