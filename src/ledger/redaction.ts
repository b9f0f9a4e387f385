const MAX_STRING = 256;

/**
 * What the action log keeps of a call's arguments: values under secret-looking keys
 * replaced, every value of an `env` object replaced (a command's environment is where
 * credentials travel, whatever the variable is called), long strings (file contents,
 * patches) cut to a prefix with their length.
 */
export function redactArguments(value: unknown, secretKeys: readonly string[]): unknown {
  const lowered = secretKeys.map((key) => key.toLowerCase());
  const isSecret = (key: string) => {
    const normalized = key.toLowerCase();
    return lowered.some((secret) => normalized.includes(secret));
  };
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') {
      return node.length > MAX_STRING ? `${node.slice(0, MAX_STRING)}…(+${node.length - MAX_STRING} chars)` : node;
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
