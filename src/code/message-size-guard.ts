import { Transform, type TransformCallback } from 'node:stream';

const MAX_HEADER_BYTES = 8 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Sits between a language server's stdout and the JSON-RPC reader, following the LSP framing
 * (`Content-Length: N\r\n\r\n` + N bytes) without parsing the messages: a message larger
 * than the limit, or a header that never ends, fails the stream before the reader buffers
 * it. Workspace code (the server included) is untrusted: it must not make the server hold
 * a gigabyte, or spend the event loop parsing one.
 */
export class MessageSizeGuard extends Transform {
  /** Bytes of the current message body still to pass; 0 while reading a header. */
  private remaining = 0;
  private header = Buffer.alloc(0);

  constructor(private readonly maxMessageBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= take;
        offset += take;
        continue;
      }
      // In a header: look for its end, across chunk boundaries.
      const searchFrom = Math.max(0, this.header.length - 3);
      this.header = Buffer.concat([this.header, chunk.subarray(offset)]);
      const end = this.header.indexOf(HEADER_END, searchFrom);
      if (end < 0) {
        if (this.header.length > MAX_HEADER_BYTES) return callback(new Error(`the server sent a header longer than ${MAX_HEADER_BYTES} bytes`));
        offset = chunk.length;
        break;
      }
      const length = /content-length:\s*(\d+)/i.exec(this.header.subarray(0, end).toString('ascii'))?.[1];
      if (length === undefined) return callback(new Error('the server sent a message without Content-Length'));
      const size = Number(length);
      if (size > this.maxMessageBytes) return callback(new Error(`the server sent a message of ${size} bytes (the limit is ${this.maxMessageBytes}, codeMaxMessageBytes)`));
      // What followed the header in this chunk is the body: continue from there.
      const consumed = end + HEADER_END.length - (this.header.length - (chunk.length - offset));
      offset += consumed;
      this.header = Buffer.alloc(0);
      this.remaining = size;
    }
    callback(null, chunk);
  }
}
