import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CodeBuddyError } from '../core/errors.js';
import { sha256 } from '../files/text-content.js';

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY } = constants;
const SHA256 = /^[0-9a-f]{64}$/;
// A temporary file older than this was left by a process that died while writing it.
const STALE_TEMP_MS = 3_600_000;

/**
 * Artifact content, stored once per content under `<root>/sha256/ab/cdef…` (the first two
 * hex digits a directory). The path comes from our own hash, never from a name an agent
 * gave. A blob is written to a temporary file under `<root>/tmp`, flushed, then renamed into
 * place: a reader never sees half a blob, and a refused or failed write leaves nothing.
 *
 * Everything here is synchronous on purpose: a blob's existence check, the caller's row
 * insert and the collection of unreferenced blobs cannot interleave within this process.
 * The size limit keeps each call short.
 */
export class BlobStore {
  private readonly temp: string;

  constructor(
    private readonly root: string,
    readonly maxBytes: number,
  ) {
    this.temp = join(root, 'tmp');
    mkdirSync(join(root, 'sha256'), { recursive: true, mode: 0o700 });
    mkdirSync(this.temp, { recursive: true, mode: 0o700 });
    this.sweepTemp();
  }

  /** Refuses content over the limit before anything is written. */
  assertSize(size: number, field: string): void {
    if (size > this.maxBytes) {
      throw new CodeBuddyError('E_TOO_LARGE', `the artifact is ${size} bytes; the limit is ${this.maxBytes} (CODEBUDDY_ARTIFACT_MAX_BYTES)`, { field, limit: this.maxBytes });
    }
  }

  /** Stores the content (once: equal content is the same blob) and names it by its sha256. */
  put(data: Buffer, field = 'content'): { sha256: string; size: number } {
    this.assertSize(data.length, field);
    const digest = sha256(data);
    const target = this.pathOf(digest);
    if (this.has(digest)) return { sha256: digest, size: data.length };
    mkdirSync(join(this.root, 'sha256', digest.slice(0, 2)), { recursive: true, mode: 0o700 });
    const temporary = join(this.temp, `${digest}.${process.pid}.${Date.now()}`);
    const fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      try {
        for (let written = 0; written < data.length; ) written += writeSync(fd, data, written);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, target);
    } catch (error) {
      try {
        unlinkSync(temporary);
      } catch {
        // Already renamed, or never made.
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw new CodeBuddyError('E_DISK_FULL', 'no space left to store the artifact', { field });
      throw error;
    }
    return { sha256: digest, size: data.length };
  }

  has(digest: string): boolean {
    try {
      return statSync(this.pathOf(digest)).isFile();
    } catch {
      return false;
    }
  }

  /** The blob's size and up to `length` bytes of it from `offset`. */
  read(digest: string, offset = 0, length = this.maxBytes): { size: number; data: Buffer } {
    let fd: number;
    try {
      fd = openSync(this.pathOf(digest), constants.O_RDONLY | O_NOFOLLOW);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CodeBuddyError('E_NOT_FOUND', `the content of this artifact (sha256 ${digest}) is missing from the blob store`);
      throw error;
    }
    try {
      const size = fstatSync(fd).size;
      const data = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      for (let filled = 0; filled < data.length; ) {
        const n = readSync(fd, data, filled, data.length - filled, offset + filled);
        if (n === 0) return { size, data: data.subarray(0, filled) };
        filled += n;
      }
      return { size, data };
    } finally {
      closeSync(fd);
    }
  }

  remove(digest: string): void {
    try {
      unlinkSync(this.pathOf(digest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  private pathOf(digest: string): string {
    if (!SHA256.test(digest)) throw new Error(`not a sha256 digest: ${digest.slice(0, 80)}`);
    return join(this.root, 'sha256', digest.slice(0, 2), digest.slice(2));
  }

  private sweepTemp(): void {
    const now = Date.now();
    for (const name of readdirSync(this.temp)) {
      const path = join(this.temp, name);
      try {
        if (now - statSync(path).mtimeMs > STALE_TEMP_MS) unlinkSync(path);
      } catch {
        // Gone already.
      }
    }
  }
}
