import { describe, expect, it } from 'vitest';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { SessionEventStore } from '../../src/faces/mcp/session-event-store.js';

const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: n } });

async function replay(store: SessionEventStore, after: string): Promise<{ stream: string; sent: [string, JSONRPCMessage][] }> {
  const sent: [string, JSONRPCMessage][] = [];
  const stream = await store.replayEventsAfter(after, { send: async (id, message) => void sent.push([id, message]) });
  return { stream, sent };
}

describe('SessionEventStore', () => {
  it('replays what came after an id on that id’s stream only, without the priming event', async () => {
    const store = new SessionEventStore({ maxEvents: 100, maxBytes: 1 << 20 });
    const priming = await store.storeEvent('a', {} as JSONRPCMessage);
    await store.storeEvent('b', note(0));
    const first = await store.storeEvent('a', note(1));
    await store.storeEvent('a', note(2));
    expect(await store.getStreamIdForEventId(first)).toBe('a');
    const { stream, sent } = await replay(store, priming);
    expect(stream).toBe('a');
    expect(sent.map(([, message]) => message)).toEqual([note(1), note(2)]);
    expect(sent[0]![0]).toBe(first);
  });

  it('keeps at most maxEvents and maxBytes, oldest out first, the newest always', async () => {
    const store = new SessionEventStore({ maxEvents: 3, maxBytes: 1 << 20 });
    const ids = [];
    for (let n = 0; n < 5; n++) ids.push(await store.storeEvent('a', note(n)));
    expect(await store.getStreamIdForEventId(ids[1]!)).toBeUndefined();
    expect(await store.getStreamIdForEventId(ids[2]!)).toBe('a');
    await expect(replay(store, ids[0]!)).rejects.toThrow(/unknown event id/);

    const small = new SessionEventStore({ maxEvents: 100, maxBytes: 10 });
    const big = await small.storeEvent('a', note(1));
    expect(await small.getStreamIdForEventId(big)).toBe('a');
    const next = await small.storeEvent('a', note(2));
    expect(await small.getStreamIdForEventId(big)).toBeUndefined();
    expect(await small.getStreamIdForEventId(next)).toBe('a');
  });
});
