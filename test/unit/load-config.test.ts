import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { envName } from '../../src/config/config-schema.js';
import { tempDir } from '../helpers/test-server.js';

describe('loadConfig', () => {
  it('runs on embedded defaults', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ dataDir: './.codebuddy', host: '127.0.0.1', port: 7420, searchEngine: 'auto', allowedRoots: [] });
  });

  it('takes CODEBUDDY_* variables over the config file', () => {
    const file = join(tempDir(), 'codebuddy.json');
    writeFileSync(file, JSON.stringify({ port: 9000, logLevel: 'debug' }));
    const config = loadConfig({ env: { CODEBUDDY_CONFIG: file, CODEBUDDY_PORT: '9100', CODEBUDDY_ALLOWED_ROOTS: '/srv/a, /srv/b' } });
    expect(config).toMatchObject({ port: 9100, logLevel: 'debug', allowedRoots: ['/srv/a', '/srv/b'] });
  });

  it('names the setting and its variable when a value is invalid', () => {
    expect(() => loadConfig({ env: { CODEBUDDY_PORT: 'seventy' } })).toThrow(/invalid setting port \(CODEBUDDY_PORT\)/);
    expect(() => loadConfig({ env: { CODEBUDDY_JWT_SECRET: 'short' } })).toThrow(/jwtSecret \(CODEBUDDY_JWT_SECRET\): must be at least 32/);
  });

  it('refuses unknown keys and unreadable files', () => {
    const file = join(tempDir(), 'bad.json');
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    expect(() => loadConfig({ env: {}, file })).toThrow(/unknown setting prot/);
    expect(() => loadConfig({ env: {}, file: '/nonexistent/codebuddy.json' })).toThrow(/config file \/nonexistent/);
  });

  it('derives variable names from keys', () => {
    expect(envName('maxFileBytes')).toBe('CODEBUDDY_MAX_FILE_BYTES');
  });
});
