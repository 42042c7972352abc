import { Option, type Command } from 'commander';
import { z } from 'zod';
import { flagName, usageErrorFrom } from '../config/errors.js';

// One source of truth for options (DESIGN.md §9): a zod shape gives each flag its parser,
// default and description; commander only collects strings and shows the help.

type Shape = Record<string, z.ZodType>;

export function addShapeOptions(cmd: Command, shape: Shape): Command {
  for (const [key, schema] of Object.entries(shape)) {
    const def = schema.safeParse(undefined);
    const shown = def.success && def.data !== undefined ? ` (default: ${JSON.stringify(def.data)})` : '';
    cmd.addOption(new Option(`${flagName(key)} <value>`, `${schema.description ?? key}${shown}`));
  }
  return cmd;
}

/** Validates the strings commander collected; a failure is a usage error naming the flag. */
export function parseShape<S extends Shape>(shape: S, raw: Record<string, unknown>, refine?: z.ZodType): z.output<z.ZodObject<S>> {
  const picked = Object.fromEntries(Object.keys(shape).flatMap((k) => (raw[k] === undefined ? [] : [[k, raw[k]]])));
  const schema = refine ?? z.object(shape);
  const result = schema.safeParse(picked);
  if (!result.success) throw usageErrorFrom(result.error, { kind: 'flags' });
  return result.data as z.output<z.ZodObject<S>>;
}
