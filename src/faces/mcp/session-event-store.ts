import type { EventStore, JSONRPCMessage } from '@modelcontextprotocol/server';

export interface EventStoreLimits {
  /** Most events kept; the oldest go first. */
  maxEvents: number;
  /** Most bytes of messages kept (the newest event is kept whatever its size). */
  maxBytes: number;
}

interface StoredEvent {
  streamId: string;
  message: JSONRPCMessage;
  bytes: number;
}

/**
 * What a 2025-11-25 session sent on its SSE streams, kept so that a client whose stream broke
 * can reconnect with `Last-Event-ID` and get what it missed. One per session, in memory and
 * bounded (count and bytes): a client that stays away too long finds its event gone and is
 * told the id is unknown, rather than the server keeping everything for it.
 *
 * Event ids are `<stream id>.<sequence>`: the sequence orders them within the session.
 */
export class SessionEventStore implements EventStore {
  private readonly events = new Map<string, StoredEvent>();
  private sequence = 0;
  private bytes = 0;

  constructor(private readonly limits: EventStoreLimits) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const eventId = `${streamId}.${++this.sequence}`;
    const bytes = JSON.stringify(message).length;
    this.events.set(eventId, { streamId, message, bytes });
    this.bytes += bytes;
    for (const [oldest, event] of this.events) {
      if (this.events.size <= 1 || (this.events.size <= this.limits.maxEvents && this.bytes <= this.limits.maxBytes)) break;
      this.events.delete(oldest);
      this.bytes -= event.bytes;
    }
    return eventId;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const last = this.events.get(lastEventId);
    if (!last) throw new Error(`unknown event id ${lastEventId.slice(0, 100)}`);
    let after = false;
    for (const [eventId, event] of [...this.events]) {
      if (eventId === lastEventId) after = true;
      // The priming event (an empty message) only carries an id to resume from.
      else if (after && event.streamId === last.streamId && Object.keys(event.message).length > 0) await send(eventId, event.message);
    }
    return last.streamId;
  }
}
