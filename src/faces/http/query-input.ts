/**
 * An operation's input from the strings of a URL (query string and path): each value
 * typed by the JSON Schema of the field it is for, so `?depth=2&regex=true&tag=a&tag=b`
 * reaches validation as `{ depth: 2, regex: true, tag: ['a', 'b'] }`. Nothing is checked
 * here: a value that does not convert stays a string, and the registry's validation refuses
 * it naming the field, as it refuses any argument.
 */
export function inputFromStrings(values: Record<string, string | string[] | undefined>, schema: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  // fromEntries, not assignment: a `__proto__` key stays a key (refused as unknown), not a prototype.
  return Object.fromEntries(
    Object.entries(values)
      .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
      .map(([key, value]) => [key, Object.hasOwn(properties, key) ? typed(value, properties[key]!) : value]),
  );
}

/** The types a field takes: its `type`, or those of its `anyOf` branches (a nullable field). */
function typesOf(schema: Record<string, unknown>): Set<string> {
  const branches = Array.isArray(schema.anyOf) ? (schema.anyOf as Record<string, unknown>[]) : [schema];
  return new Set(branches.flatMap((branch) => (typeof branch.type === 'string' ? [branch.type] : Array.isArray(branch.type) ? (branch.type as string[]) : [])));
}

function typed(value: string | string[], schema: Record<string, unknown>): unknown {
  const types = typesOf(schema);
  // An array is the key repeated (`?tag=a&tag=b`, OpenAPI's form style); once is an array of one.
  if (types.has('array')) return (Array.isArray(value) ? value : [value]).map((item) => typed(item, (schema.items ?? {}) as Record<string, unknown>));
  // A scalar field given twice is left for validation to refuse.
  if (Array.isArray(value) || types.size === 0 || types.has('string')) return value;
  if (types.has('number') || types.has('integer')) {
    const number = Number(value);
    return value.trim() !== '' && Number.isFinite(number) ? number : value;
  }
  if (types.has('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  if (types.has('null') && value === 'null') return null;
  if (types.has('object')) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}
