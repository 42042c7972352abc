import type { z } from 'zod';
import { UsageError } from '../errors.js';

/** camelCase schema key → the flag a person typed. */
export const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Turns zod issues into one usage error whose lines name the flag or field and what is
 * accepted. `where` says how to name a path: as a flag, or as a field of a scenario file. */
export function usageErrorFrom(error: z.ZodError, where: { kind: 'flags' } | { kind: 'file'; file: string }): UsageError {
  const lines = error.issues.map((issue) => {
    const path = issue.path.map(String);
    const name =
      where.kind === 'flags'
        ? path.length > 0
          ? flagName(path[0]!)
          : 'options'
        : `${where.file}: ${formatFieldPath(issue.path) || '(top level)'}`;
    return `${name}: ${issue.message}`;
  });
  return new UsageError(lines.join('\n'));
}

function formatFieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}
