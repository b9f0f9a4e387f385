import { AbstractMessageReader, AbstractMessageWriter, Disposable, type DataCallback, type Message, type MessageReader, type MessageWriter } from 'vscode-jsonrpc';
import { messageText } from './message-text.js';

/** What the transport needs of a WebSocket: `ws`'s, on the server (fastify) and in a client alike. */
export interface JsonSocket {
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  send(data: string): void;
  readonly readyState: number;
}

/** Messages that may wait for the connection to listen; past it, the socket is misbehaving. */
const MAX_QUEUED = 1_000;

/**
 * JSON-RPC over a WebSocket as LSP clients in browsers and VS Code extensions speak it
 * (vscode-ws-jsonrpc, monaco-languageclient): one message per WebSocket text frame, no
 * Content-Length headers. Frame size is bounded by the server's WebSocket `maxPayload`.
 */
export class SocketMessageReader extends AbstractMessageReader implements MessageReader {
  private callback: DataCallback | undefined;
  private readonly queue: Message[] = [];

  constructor(socket: JsonSocket) {
    super();
    socket.on('message', (data) => {
      let message: Message;
      try {
        message = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8')) as Message;
      } catch (error) {
        this.fireError(error);
        return;
      }
      if (this.callback) this.callback(message);
      else if (this.queue.length < MAX_QUEUED) this.queue.push(message);
      else this.fireError(new Error('too many messages before the connection listened'));
    });
    socket.on('close', () => this.fireClose());
    socket.on('error', (error) => this.fireError(error));
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    for (const message of this.queue.splice(0)) callback(message);
    return Disposable.create(() => (this.callback = undefined));
  }
}

export class SocketMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private errors = 0;

  constructor(private readonly socket: JsonSocket) {
    super();
  }

  async write(message: Message): Promise<void> {
    // 1: OPEN. A message to a socket going away is dropped, as a closed pipe's would be.
    if (this.socket.readyState !== 1) return;
    try {
      this.socket.send(messageText(message));
    } catch (error) {
      this.fireError(error, message, ++this.errors);
    }
  }

  end(): void {}
}
