import { z } from 'zod';

type Schema = Record<string, unknown>;

/**
 * The smallest input a JSON Schema accepts, built from the schema alone: required fields
 * only, the first of an enum or a union, the least length, count or number allowed. Tests
 * that must reach every operation with input that passes validation use it, so a new
 * operation is covered without being listed; one whose constraints it cannot meet (a
 * pattern, a refinement) makes such a test fail, naming it.
 */
export function sampleOf(schema: Schema): unknown {
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key] as Schema[] | undefined;
    if (branches) return sampleOf(branches.find((branch) => branch.type !== 'null') ?? branches[0]!);
  }
  switch (schema.type) {
    case 'string':
      return 'x'.repeat(Math.max(1, (schema.minLength as number | undefined) ?? 1));
    case 'integer':
    case 'number':
      return Math.max(1, (schema.minimum as number | undefined) ?? 1, schema.exclusiveMinimum === undefined ? 1 : (schema.exclusiveMinimum as number) + 1);
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: (schema.minItems as number | undefined) ?? 0 }, () => sampleOf((schema.items ?? {}) as Schema));
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      return Object.fromEntries(((schema.required ?? []) as string[]).map((key) => [key, sampleOf(properties[key] ?? {})]));
    }
    default:
      return 'x';
  }
}

/** A minimal valid input of a zod object schema, without the fields named in `leaving`. */
export function sampleInput(input: z.ZodObject, leaving: readonly string[] = []): Record<string, unknown> {
  const sample = sampleOf(z.toJSONSchema(input, { io: 'input', unrepresentable: 'any' }) as Schema) as Record<string, unknown>;
  for (const key of leaving) delete sample[key];
  return sample;
}
