import { type z } from 'zod';

/** How many rounds of unknown fields are dropped (each round, every field the last parse named). */
const MAX_ROUNDS = 4;

type Issue = { code: string; path: PropertyKey[]; keys?: string[]; errors?: Issue[][] };

/**
 * Parses an answer with a contract's response schema, ignoring fields the schema does not know. The contracts'
 * schemas are strict, as requests must be; but a server of a later version may add fields to its answers (a
 * model's `streamUsage`, say), and a client of this version must keep working with it. Unknown fields are dropped
 * at any depth, and every other rule of the schema still applies.
 */
export function parseAnswer<S extends z.ZodType>(schema: S, json: unknown): ReturnType<S['safeParse']> {
  let r = schema.safeParse(json);
  for (let round = 0; round < MAX_ROUNDS && !r.success; round++) {
    const unknown = unknownFields(r.error.issues);
    if (unknown.length === 0) break;
    for (const { path, keys } of unknown) {
      const at = path.reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<PropertyKey, unknown>)[k] : undefined), json);
      if (typeof at === 'object' && at !== null) for (const k of keys) delete (at as Record<string, unknown>)[k];
    }
    r = schema.safeParse(json);
  }
  return r as ReturnType<S['safeParse']>;
}

/** The `unrecognized_keys` issues, also those inside a union's branches. */
function unknownFields(issues: Issue[]): { path: PropertyKey[]; keys: string[] }[] {
  return issues.flatMap((i) => [
    ...(i.code === 'unrecognized_keys' && i.keys ? [{ path: i.path, keys: i.keys }] : []),
    ...(i.errors ?? []).flatMap((branch) => unknownFields(branch)),
  ]);
}
