import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkspaceFileSystem } from '../../src/refactor/workspace-file-system.js';

/*
 * The reader a plan reads its base versions with: one open per file from a directory
 * handle kept while paths share it, the canonical path from the same walk. Real files,
 * real symlinks.
 */
describe('WorkspaceFileSystem.reader', () => {
  let base: string;
  let root: string;
  let files: WorkspaceFileSystem;

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'cb-reader-'));
    root = join(base, 'workspace');
    mkdirSync(join(root, 'src/deep'), { recursive: true });
    writeFileSync(join(root, 'src/a.ts'), 'export const a = 1;\n');
    writeFileSync(join(root, 'src/b.ts'), 'export const b = 2;\n');
    writeFileSync(join(root, 'src/deep/c.ts'), 'export const c = 3;\n');
    writeFileSync(join(root, 'src/big.ts'), 'x'.repeat(200));
    symlinkSync('a.ts', join(root, 'src/alias.ts')); // a file link inside
    symlinkSync('src', join(root, 'lib')); // a directory link inside
    writeFileSync(join(base, 'secret.ts'), 'export const secret = 1;\n');
    symlinkSync(join(base, 'secret.ts'), join(root, 'src/out.ts')); // a file link leading out
    symlinkSync(base, join(root, 'outside')); // a directory link leading out
    files = new WorkspaceFileSystem(root, 100);
  });

  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('reads files with their canonical paths, through links that stay inside', () => {
    const reader = files.reader();
    try {
      expect(reader.read('src/a.ts')).toEqual({ bytes: Buffer.from('export const a = 1;\n'), canonical: 'src/a.ts' });
      expect(reader.read('src/b.ts').canonical).toBe('src/b.ts');
      expect(reader.read('src/deep/c.ts')).toEqual({ bytes: Buffer.from('export const c = 3;\n'), canonical: 'src/deep/c.ts' });
      expect(reader.read('src/alias.ts')).toEqual({ bytes: Buffer.from('export const a = 1;\n'), canonical: 'src/a.ts' });
      expect(reader.read('lib/b.ts')).toEqual({ bytes: Buffer.from('export const b = 2;\n'), canonical: 'src/b.ts' });
      expect(reader.read('src/b.ts').canonical).toBe('src/b.ts');
    } finally {
      reader.close();
    }
  });

  it('finds nothing through links leading out, nor where there is no file, and refuses a file over the limit', () => {
    const reader = files.reader();
    try {
      expect(() => reader.read('src/out.ts')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(() => reader.read('outside/secret.ts')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(() => reader.read('src/missing.ts')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(() => reader.read('src/deep')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(() => reader.read('src/../../secret.ts')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(() => reader.read('src/big.ts')).toThrow(expect.objectContaining({ code: 'E_TOO_LARGE' }));
      // The reader goes on after a refusal.
      expect(reader.read('src/a.ts').canonical).toBe('src/a.ts');
    } finally {
      reader.close();
    }
  });
});
