import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

/** A stock y-websocket client in Node (`ws` as its WebSocket), counting the bytes it receives. */
export interface SyncClient {
  doc: Y.Doc;
  text: Y.Text;
  provider: WebsocketProvider;
  /** Bytes received over the socket(s) so far. */
  received(): number;
  /** Reasons the server gave for refusing this client's changes (the protocol's auth message). */
  denials: string[];
  /** How the server closed the connection, once it did. */
  closed: Promise<{ code: number; reason: string }>;
  synced(timeoutMs?: number): Promise<void>;
  /** Resolves once the text satisfies the test. */
  until(test: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  destroy(): void;
}

export function syncClient(host: string, room: string, token: string | undefined, options: { name?: string } = {}): SyncClient {
  let bytes = 0;
  let closeResolve!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (closeResolve = resolve));
  class CountingSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      // The provider asks for ArrayBuffers.
      this.on('message', (data: ArrayBuffer | Buffer) => (bytes += data.byteLength));
      this.on('close', (code, reason) => closeResolve({ code, reason: reason.toString() }));
    }
  }
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`ws://${host}/sync`, room, doc, {
    params: token === undefined ? {} : { token },
    WebSocketPolyfill: CountingSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    maxBackoffTime: 300,
  });
  const denials: string[] = [];
  // The stock client only logs a denial: read it from the same message handler, unchanged.
  const stockAuth = provider.messageHandlers[2]!;
  provider.messageHandlers[2] = (encoder, decoder, p, emitSynced, type) => {
    const view = new Uint8Array(decoder.arr.buffer, decoder.arr.byteOffset + decoder.pos, decoder.arr.length - decoder.pos);
    const reader = decoding.createDecoder(view);
    // y-protocols/auth: 0 (permission denied), then the reason.
    if (decoding.readVarUint(reader) === 0) denials.push(decoding.readVarString(reader));
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      stockAuth(encoder, decoder, p, emitSynced, type);
    } finally {
      console.warn = warn;
    }
  };
  if (options.name) provider.awareness.setLocalStateField('user', { name: options.name });
  const text = doc.getText('content');
  return {
    doc,
    text,
    provider,
    received: () => bytes,
    denials,
    closed,
    synced: (timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        if (provider.synced) return resolve();
        const timer = setTimeout(() => reject(new Error(`not synced in ${timeoutMs} ms`)), timeoutMs);
        provider.once('sync', () => (clearTimeout(timer), resolve()));
      }),
    // Polled, not checked on every update: a flood of updates would make each check (a
    // toString of the whole text) the test's own bottleneck.
    until: (test, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const check = () => {
          const now = text.toString();
          if (test(now)) return resolve(now);
          if (Date.now() > deadline) return reject(new Error(`text never matched in ${timeoutMs} ms; it is ${JSON.stringify(now.slice(0, 500))}`));
          setTimeout(check, 20);
        };
        check();
      }),
    destroy: () => {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** Polls until the check passes (for state outside any event we can hear: a file on disk, a note row read over MCP). */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
