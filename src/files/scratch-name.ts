import { randomBytes } from 'node:crypto';

/**
 * The names of the server's own short-lived files beside a target: a new content before its
 * rename (`tmp`), a replaced or deleted file's inode until a change set commits (`bak`).
 * Random, so two writers never collide and O_EXCL refuses anything already there.
 */
export const scratchName = (name: string, kind: 'tmp' | 'bak') => `.${name.slice(0, 64)}.${randomBytes(6).toString('hex')}.cb-${kind}`;

const SCRATCH = /^\..*\.[0-9a-f]{12}\.cb-(?:tmp|bak)$/;

/** Whether a file name is one of those: the watcher does not report them (they are gone, or renamed into place, a moment later). */
export const isScratchName = (name: string): boolean => SCRATCH.test(name);
