import { describe, expect, it } from 'vitest';
import { findClosestMatch } from '../../src/files/closest-match.js';
import { normalizeRelative } from '../../src/files/path-resolver.js';
import { redactArguments } from '../../src/ledger/redaction.js';

describe('redactArguments', () => {
  it('hides secret-looking keys at any depth and cuts long strings', () => {
    const redacted = redactArguments({ path: 'a.ts', options: { API_TOKEN: 'x', nested: [{ password: 'p' }] }, content: 'y'.repeat(1000) }, ['token', 'password']);
    expect(redacted).toEqual({ path: 'a.ts', options: { API_TOKEN: '[redacted]', nested: [{ password: '[redacted]' }] }, content: `${'y'.repeat(256)}…(+744 chars)` });
  });
});

describe('redactArguments of a command environment', () => {
  it('keeps the variable names and never the values', () => {
    expect(redactArguments({ command: 'make', env: { PATH: '/usr/bin', DATABASE_URL: 'postgres://u:p@h/db' } }, [])).toEqual({
      command: 'make',
      env: { PATH: '[redacted]', DATABASE_URL: '[redacted]' },
    });
  });
});

describe('findClosestMatch', () => {
  const file = ['function add(a, b) {', '  return a + b;', '}', '', 'function sub(a, b) {', '  return a - b;', '}'];

  it('points at the lines the agent most likely meant', () => {
    const match = findClosestMatch(file, 'function sub(a,b) {\n  return a-b;\n}');
    expect(match).toMatchObject({ startLine: 5, endLine: 7, whitespaceOnly: true });
  });

  it('tells a real difference from a whitespace one', () => {
    const match = findClosestMatch(file, '  return a * b;');
    expect(match?.startLine).toBe(2);
    expect(match?.whitespaceOnly).toBe(false);
  });
});

describe('normalizeRelative', () => {
  it('keeps ordinary relative paths and drops . segments', () => {
    expect(normalizeRelative('./src//index.ts')).toBe('src/index.ts');
    expect(normalizeRelative('.')).toBe('');
  });

  it.each(['../x', 'a/../../x', '/etc/passwd', 'C:\\Windows', '..\\..\\x', 'a\u0000b'])('refuses %j', (path) => {
    expect(() => normalizeRelative(path)).toThrow(expect.objectContaining({ code: 'E_PATH_OUTSIDE_WORKSPACE' }));
  });
});
