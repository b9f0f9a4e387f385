import { closeSync, fstatSync, openSync, read, readSync, writeSync, write, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import { at, READ_FILE } from './workspace-handle.js';

const readAsync = promisify(read);
const writeAsync = promisify(write);

/** Up to this size, file I/O is synchronous: microseconds, where each promise call is a thread-pool round trip. Larger stays off the event loop. */
export const SYNC_IO_LIMIT = 256 * 1024;

/**
 * The first `size` bytes of an open file, never more: a file that grows meanwhile is read
 * up to the size its fstat gave (the caller's cap holds), one that shrinks ends early.
 */
export async function readOpenFile(fd: number, size: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const n = size <= SYNC_IO_LIMIT ? readSync(fd, buffer, filled, size - filled, filled) : (await readAsync(fd, buffer, filled, size - filled, filled)).bytesRead;
    if (n === 0) break;
    filled += n;
  }
  return filled === size ? buffer : buffer.subarray(0, filled);
}

/** The same, synchronously, whatever the size: for callers that cannot await (a compiler's file system host). */
export function readOpenFileSync(fd: number, size: number): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const n = readSync(fd, buffer, filled, size - filled, filled);
    if (n === 0) break;
    filled += n;
  }
  return filled === size ? buffer : buffer.subarray(0, filled);
}

/** Writes all of `data` to an open file. */
export async function writeOpenFile(fd: number, data: Buffer): Promise<void> {
  let written = 0;
  while (written < data.length) {
    written += data.length <= SYNC_IO_LIMIT ? writeSync(fd, data, written) : (await writeAsync(fd, data, written)).bytesWritten;
  }
}

/**
 * The content of `name` in the open directory `dir` if it is a regular file of at most
 * `limit` bytes, else undefined. For files the server reads for itself or skips when it
 * cannot (a `.gitignore`, a search candidate): a symlink, a FIFO, a device or a socket is
 * never followed, never blocks and is never read.
 */
export async function readRegularFileAt(dir: number, name: string, limit: number): Promise<Buffer | undefined> {
  let fd: number;
  try {
    fd = openSync(at(dir, name), READ_FILE);
  } catch {
    return undefined;
  }
  try {
    const info: Stats = fstatSync(fd);
    if (!info.isFile() || info.size > limit) return undefined;
    return await readOpenFile(fd, info.size);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
