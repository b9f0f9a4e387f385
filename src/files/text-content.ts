import { createHash } from 'node:crypto';

const decoder = new TextDecoder('utf-8', { fatal: true });

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** UTF-8 text, or undefined for binary content (a NUL byte early on, or invalid UTF-8). */
export function decodeText(buffer: Buffer): string | undefined {
  if (buffer.subarray(0, 8192).includes(0)) return undefined;
  try {
    return decoder.decode(buffer);
  } catch {
    return undefined;
  }
}

/** Lines without their terminators; a trailing newline does not make an extra empty line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
