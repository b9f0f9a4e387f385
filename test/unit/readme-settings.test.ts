import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, envName } from '../../src/config/config-schema.js';

/** The README's settings table is where an operator looks: a setting missing there does not exist for them. */
describe('the README settings table', () => {
  it('lists every setting with its environment variable', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const rows = new Set(readme.split('\n').filter((line) => line.startsWith('| `CODEBUDDY_')));
    const missing = Object.keys(configSchema.shape).filter((key) => ![...rows].some((row) => row.startsWith(`| \`${envName(key)}\` | \`${key}\` |`)));
    expect(missing).toEqual([]);
  });
});
