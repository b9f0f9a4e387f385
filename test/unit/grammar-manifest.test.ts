import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GrammarManifest } from '../../src/code/syntax/grammar-manifest.js';
import { tempDir } from '../helpers/test-server.js';

const GOOD = '{ "name": "go", "extensions": [".go"], "wasm": "@vscode/tree-sitter-wasm/wasm/tree-sitter-go.wasm", "symbols": "go.scm" }';

/** A grammars/ directory with this manifest (one entry per line, as the real one) and a go.scm beside it. */
function manifestWith(...entries: string[]): string {
  const dir = tempDir('codebuddy-grammars-');
  writeFileSync(join(dir, 'go.scm'), '(function_declaration name: (identifier) @name) @definition.function\n');
  writeFileSync(join(dir, 'manifest.json'), `{\n  "languages": [\n    ${entries.join(',\n    ')}\n  ]\n}\n`);
  return dir;
}

const failure = (dir: string) => {
  try {
    GrammarManifest.load(dir);
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message.replaceAll(dir, 'DIR') };
  }
  throw new Error('the manifest loaded');
};

describe('grammars/manifest.json', () => {
  it('loads the shipped manifest: every wasm resolves from node_modules, every query file exists', () => {
    const manifest = GrammarManifest.load();
    expect(manifest.names).toEqual(['typescript', 'tsx', 'javascript', 'python', 'go', 'rust', 'java', 'c_sharp', 'cpp', 'ruby', 'php', 'bash']);
    expect(manifest.forPath('src/App.TSX')?.name).toBe('tsx');
    expect(manifest.forPath('README.md')).toBeUndefined();
  });

  it('names the line, the entry and the problem of a bad entry', () => {
    expect(failure(manifestWith(GOOD, '{ "name": "rust", "extensions": ["rs"], "wasm": "x.wasm", "symbols": "rust.scm" }'))).toEqual({
      code: 'E_CONFIG',
      message: 'DIR/manifest.json line 4 (languages[1] "rust"): extensions.0: like ".ts"',
    });
    expect(failure(manifestWith(GOOD, '{ "name": "golang", "extensions": [".go"], "wasm": "@vscode/tree-sitter-wasm/wasm/tree-sitter-go.wasm", "symbols": "go.scm" }')).message).toBe(
      'DIR/manifest.json line 4 (languages[1] "golang"): extension ".go" already belongs to "go"',
    );
    expect(failure(manifestWith('{ "name": "cobol", "extensions": [".cob"], "wasm": "tree-sitter-cobol.wasm", "symbols": "go.scm" }')).message).toBe(
      'DIR/manifest.json line 3 (languages[0] "cobol"): wasm "tree-sitter-cobol.wasm" is not in DIR',
    );
    expect(failure(manifestWith(GOOD, '{ "name": "zig", "extensions": [".zig"], "wasm": "@nowhere/zig/zig.wasm", "symbols": "go.scm" }')).message).toBe(
      'DIR/manifest.json line 4 (languages[1] "zig"): wasm "@nowhere/zig/zig.wasm" is not found in node_modules',
    );
    expect(failure(manifestWith(GOOD.replace('go.scm', 'missing.scm'))).message).toBe('DIR/manifest.json line 3 (languages[0] "go"): symbols "missing.scm" is not in DIR');
    expect(failure(manifestWith(GOOD, '"go"')).message).toBe('DIR/manifest.json line 4 (languages[1]): entry: Invalid input: expected object, received string');
  });
});
