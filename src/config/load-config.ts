import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CodeBuddyError } from '../core/errors.js';
import { configSchema, envName, type Config } from './config-schema.js';

/**
 * Merge, lowest precedence first: embedded defaults, the JSON config file
 * (`CODEBUDDY_CONFIG` or `--config`), `CODEBUDDY_*` variables, command-line overrides.
 * An invalid value stops start-up with a message naming the setting and its variable.
 */
export function loadConfig(options: { env?: NodeJS.ProcessEnv; file?: string; overrides?: Partial<Record<keyof Config, unknown>> } = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.CODEBUDDY_CONFIG;
  const raw: Record<string, unknown> = {};

  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new CodeBuddyError('E_CONFIG', `config file ${file}: ${(error as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new CodeBuddyError('E_CONFIG', `config file ${file}: expected a JSON object`);
    }
    Object.assign(raw, parsed);
  }

  for (const key of Object.keys(configSchema.shape)) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) raw[key] = value;
  }

  const unknownKeys = Object.keys(raw).filter((key) => !(key in configSchema.shape));
  if (unknownKeys.length > 0) {
    throw new CodeBuddyError('E_CONFIG', `unknown setting ${unknownKeys.join(', ')}`);
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    throw new CodeBuddyError('E_CONFIG', `invalid setting ${key} (${envName(key)}): ${issue.message}`, { setting: key });
  }
  return file ? { ...result.data, configFile: resolve(file) } : result.data;
}
