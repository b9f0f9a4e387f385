import { describe, expect, it } from 'vitest';
import { MessageSizeGuard } from '../../src/code/message-size-guard.js';

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** Feeds the bytes in chunks of `size` and collects what passes, or the error. */
function feed(bytes: Buffer, size: number, limit: number): Promise<{ out: Buffer; error?: string }> {
  return new Promise((resolve) => {
    const guard = new MessageSizeGuard(limit);
    const chunks: Buffer[] = [];
    guard.on('data', (chunk: Buffer) => chunks.push(chunk));
    guard.on('error', (error) => resolve({ out: Buffer.concat(chunks), error: error.message }));
    guard.on('end', () => resolve({ out: Buffer.concat(chunks) }));
    for (let offset = 0; offset < bytes.length; offset += size) guard.write(bytes.subarray(offset, offset + size));
    guard.end();
    guard.resume();
  });
}

describe('MessageSizeGuard', () => {
  const stream = Buffer.from(frame('{"a":1}') + frame('{"b":"' + 'x'.repeat(300) + '"}') + frame('{}'));

  it('passes well-framed messages through unchanged, however the bytes are chunked', async () => {
    for (const size of [1, 2, 3, 7, 16, 64, 1000, stream.length]) {
      const { out, error } = await feed(stream, size, 1024);
      expect(error).toBeUndefined();
      expect(out.equals(stream)).toBe(true);
    }
  });

  it('fails on a message over the limit before its body passes, at any chunking', async () => {
    const big = Buffer.from(frame('{}') + 'Content-Length: 5000\r\n\r\n' + 'y'.repeat(5000));
    for (const size of [1, 5, 100, big.length]) {
      const { out, error } = await feed(big, size, 1024);
      expect(error).toBe('the server sent a message of 5000 bytes (the limit is 1024, codeMaxMessageBytes)');
      expect(out.toString()).not.toContain('y');
    }
  });

  it('fails on a header that never ends, and on one without Content-Length', async () => {
    expect((await feed(Buffer.from('X'.repeat(10_000)), 100, 1024)).error).toBe('the server sent a header longer than 8192 bytes');
    expect((await feed(Buffer.from('Content-Type: x\r\n\r\n{}'), 4, 1024)).error).toBe('the server sent a message without Content-Length');
  });
});
