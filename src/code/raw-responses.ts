import type { ContentTypeDecoder, Message, MessageWriter } from 'vscode-jsonrpc';

/**
 * A server's result kept as the JSON text it sent, not parsed. Not validated either: whoever
 * sends it on must check it (the LSP facade's translation does, as it rewrites the URIs);
 * anything else that serializes it gets the parsed value (`toJSON`).
 */
export class RawJson {
  constructor(readonly json: string) {}

  toJSON(): unknown {
    return JSON.parse(this.json);
  }
}

/** Answers smaller than this are parsed as usual: the saving is in the large ones. */
const RAW_MIN_CHARS = 16 * 1024;
/** Ids still awaiting a raw answer at most (a server that never answers cannot grow the set). */
const MAX_WAITING = 10_000;
/** The start of a result as vscode-jsonrpc (and most servers) write it. */
const RESULT_START = /^\{"jsonrpc":"2\.0","id":(\d{1,15}),"result":/;

/**
 * Which requests to a server want their result as text (RawJson) rather than objects: the
 * facade sends a large answer on to an editor, and parsing it only to serialize it again was
 * most of the facade's cost. The request's params are marked (`want`); the connection's writer
 * notes the id the request goes out with; the reader's decoder keeps the text of that id's
 * result when it is large and written in the usual shape, and parses everything else.
 */
export class RawResponses {
  private readonly wanted = new WeakSet<object>();
  private readonly waiting = new Set<number>();

  /** The request sent with these params (an object) gets its result as RawJson when large. */
  want(params: object): void {
    this.wanted.add(params);
  }

  /** The server connection's writer, noting the ids of marked requests. */
  writer(inner: MessageWriter): MessageWriter {
    const { wanted, waiting } = this;
    return {
      onError: inner.onError,
      onClose: inner.onClose,
      write(message: Message): Promise<void> {
        const request = message as { id?: unknown; params?: unknown };
        if (typeof request.id === 'number' && typeof request.params === 'object' && request.params !== null && wanted.has(request.params)) {
          if (waiting.size >= MAX_WAITING) waiting.clear();
          waiting.add(request.id);
        }
        return inner.write(message);
      },
      end: () => inner.end(),
      dispose: () => inner.dispose(),
    };
  }

  /** The reader's decoder: a marked request's large result as RawJson, anything else parsed. */
  readonly decoder: ContentTypeDecoder = {
    name: 'application/json',
    decode: (buffer, options) => {
      try {
        const text = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength).toString(options.charset);
        return Promise.resolve(this.decode(text));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
  };

  private decode(text: string): Message {
    if (this.waiting.size > 0 && text.length >= RAW_MIN_CHARS) {
      const start = RESULT_START.exec(text.slice(0, 64));
      const id = start ? Number(start[1]) : undefined;
      if (id !== undefined && this.waiting.delete(id)) {
        let end = text.length;
        while (end > 0 && /\s/.test(text[end - 1]!)) end--;
        if (text.charCodeAt(end - 1) === 0x7d) return { jsonrpc: '2.0', id, result: new RawJson(text.slice(start![0].length, end - 1)) } as Message;
      }
    }
    const message = JSON.parse(text) as Message & { id?: unknown };
    if (typeof message.id === 'number' && !('method' in message)) this.waiting.delete(message.id);
    return message;
  }
}
