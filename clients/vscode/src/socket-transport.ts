import { AbstractMessageReader, AbstractMessageWriter, Disposable, type DataCallback, type Message, type MessageReader, type MessageWriter } from 'vscode-jsonrpc/node';
import WebSocket from 'ws';

/**
 * JSON-RPC over the server's `/lsp/:workspace` WebSocket. The wire format is the protocol fact
 * shared with the server, nothing more: one JSON-RPC message per text frame, no Content-Length
 * headers (as vscode-ws-jsonrpc and monaco-languageclient speak it). No `vscode` import, so it
 * is tested against a real server outside VS Code.
 */
class FrameReader extends AbstractMessageReader {
  private callback: DataCallback | undefined;
  /** Frames that arrive before the connection listens (the server may speak first). */
  private readonly early: Message[] = [];

  constructor(socket: WebSocket) {
    super();
    socket.on('message', (data: WebSocket.RawData) => {
      let message: Message;
      try {
        message = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8')) as Message;
      } catch (error) {
        this.fireError(error);
        return;
      }
      if (this.callback) this.callback(message);
      else this.early.push(message);
    });
    socket.on('close', () => this.fireClose());
    socket.on('error', (error) => this.fireError(error));
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    for (const message of this.early.splice(0)) callback(message);
    return Disposable.create(() => (this.callback = undefined));
  }
}

class FrameWriter extends AbstractMessageWriter {
  constructor(private readonly socket: WebSocket) {
    super();
  }

  write(message: Message): Promise<void> {
    // A message to a socket going away is dropped, as one to a closed pipe would be.
    if (this.socket.readyState !== WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.send(JSON.stringify(message), (error) => {
        if (error) this.fireError(error, message, 1);
        resolve();
      });
    });
  }

  end(): void {
    this.socket.close(1000);
  }
}

export interface SocketTransport {
  reader: MessageReader;
  writer: MessageWriter;
  socket: WebSocket;
}

/**
 * Opens the socket; resolves once it is open. `onClose` hears the close code and reason (4401
 * the token, 4404 the workspace), which the connection state machine reads.
 */
export function openSocketTransport(url: string, headers: Record<string, string>, onClose: (code: number, reason: string) => void): Promise<SocketTransport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers, handshakeTimeout: 30_000 });
    socket.once('open', () => resolve({ reader: new FrameReader(socket), writer: new FrameWriter(socket), socket }));
    // Refused before the upgrade (a Host/Origin check, a proxy): say how, not only that it failed.
    socket.once('unexpected-response', (_request, response) => {
      socket.terminate();
      reject(new Error(`${url} refused the WebSocket: HTTP ${response.statusCode ?? '?'}`));
    });
    socket.once('error', (error) => reject(error));
    socket.on('close', (code, reason) => onClose(code, reason.toString('utf8')));
  });
}
