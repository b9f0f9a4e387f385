const MAX_STRING = 256;
/** Shorter env values are left alone: replacing every `1` or `on` in an output would garble it and hide nothing. */
const MIN_SECRET_VALUE = 4;

interface Redaction {
  secretKeys: readonly string[];
  /** Cut long strings to a prefix (arguments: file contents, patches); outcomes are kept whole for replays. */
  cutLongStrings: boolean;
  /** Values that must not appear anywhere, replaced wherever they occur inside a string. */
  secretValues: readonly string[];
}

function redact(value: unknown, options: Redaction): unknown {
  const lowered = options.secretKeys.map((key) => key.toLowerCase());
  const isSecret = (key: string) => {
    const normalized = key.toLowerCase();
    return lowered.some((secret) => normalized.includes(secret));
  };
  const values = [...new Set(options.secretValues)].filter((secret) => secret.length >= MIN_SECRET_VALUE).sort((a, b) => b.length - a.length);
  const scrub = (text: string) => values.reduce((out, secret) => (out.includes(secret) ? out.split(secret).join('[redacted]') : out), text);
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const clean = scrub(node);
      return options.cutLongStrings && clean.length > MAX_STRING ? `${clean.slice(0, MAX_STRING)}…(+${clean.length - MAX_STRING} chars)` : clean;
    }
    if (Array.isArray(node)) return node.map(visit);
    if (node && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node).map(([key, child]) => {
          if (isSecret(key)) return [key, '[redacted]'];
          if (key === 'env' && child && typeof child === 'object' && !Array.isArray(child)) {
            return [key, Object.fromEntries(Object.keys(child).map((name) => [name, '[redacted]']))];
          }
          return [key, visit(child)];
        }),
      );
    }
    return node;
  };
  return visit(value);
}

/** The values a call passed in an `env` object: a command's environment is where credentials travel. */
export function envValues(args: unknown): string[] {
  const env = (args as { env?: unknown } | null)?.env;
  if (!env || typeof env !== 'object' || Array.isArray(env)) return [];
  return Object.values(env).filter((value): value is string => typeof value === 'string');
}

/**
 * What the action log keeps of a call's arguments: values under secret-looking keys
 * replaced, every value of an `env` object replaced (whatever the variable is called) and
 * scrubbed from the other arguments, long strings (file contents, patches) cut to a prefix with their length.
 */
export function redactArguments(value: unknown, secretKeys: readonly string[]): unknown {
  return redact(value, { secretKeys, cutLongStrings: true, secretValues: envValues(value) });
}

/**
 * What an idempotency key keeps of a call's outcome, to replay it: whole, but with the
 * same secret-looking keys redacted, and every env value the call was given (at least
 * four characters) replaced wherever it shows, so a command that echoed its environment
 * does not put a credential in the database.
 */
export function redactOutcome(value: unknown, secretKeys: readonly string[], args: unknown): unknown {
  return redact(value, { secretKeys, cutLongStrings: false, secretValues: envValues(args) });
}
