import type { $ZodIssue } from 'zod/v4/core';

/** Formats zod issues as one line: "metadata.schema_version: schema_version is missing; ...". */
export function describeIssues(error: { readonly issues: readonly $ZodIssue[] }): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.code === 'unrecognized_keys' ? `top level: ${i.message}` : i.message))
    .join('; ');
}

