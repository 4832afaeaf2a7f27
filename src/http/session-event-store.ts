import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

/**
 * How much of its SSE traffic one 2025-11-25 session keeps for an agent that opens its GET stream
 * late or reconnects: the newest messages up to this many, and up to this many characters of JSON.
 */
export const SESSION_EVENTS_KEPT = { messages: 256, characters: 1024 * 1024 } as const;

/**
 * The SDK transport's id of the GET stream, on which it stores every message that belongs to no
 * request (WebStandardStreamableHTTPServerTransport's `_standaloneSseStreamId`).
 */
export const GET_STREAM_ID: StreamId = '_GET_stream';

interface StoredEvent {
  sequence: number;
  streamId: StreamId;
  message: JSONRPCMessage;
  characters: number;
}

/**
 * The messages sent on one session's SSE streams, so that they can be sent again after a
 * Last-Event-ID (the SDK transport's resumability). Bounded by SESSION_EVENTS_KEPT, oldest dropped
 * first; it lives as long as its session. An event id is `<sequence>-<stream>`: a resume point that
 * was already dropped still says where to go on from, and what remains after it is sent.
 */
export class SessionEventStore implements EventStore {
  readonly #events: StoredEvent[] = [];
  #characters = 0;
  #sequence = 0;

  storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    this.#sequence += 1;
    // The SDK's priming events ({}) only carry an id: there is nothing to send again.
    if ('jsonrpc' in message) this.keep({ sequence: this.#sequence, streamId, message, characters: JSON.stringify(message).length });
    return Promise.resolve(eventId(this.#sequence, streamId));
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

  getStreamIdForEventId(id: EventId): Promise<StreamId | undefined> {
    return Promise.resolve(this.streamOf(id));
  }

  async replayEventsAfter(id: EventId, { send }: { send: (id: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const after = this.parse(id);
    if (!after) throw new Error(`Last-Event-ID '${id}' was not issued by this session`);
    const missed = this.#events.filter((event) => event.streamId === after.streamId && event.sequence > after.sequence);
    for (const event of missed) await send(eventId(event.sequence, event.streamId), event.message);
    return after.streamId;
  }

  private keep(event: StoredEvent): void {
    this.#events.push(event);
    this.#characters += event.characters;
    while (this.#events.length > SESSION_EVENTS_KEPT.messages || this.#characters > SESSION_EVENTS_KEPT.characters) {
      this.#characters -= this.#events.shift()!.characters;
    }
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
