/** Validates request input with zod and turns the first problem into a 400 naming the field. */
import { illFormedTextPath } from '@switchboard/server';
import type { z } from 'zod';
import { invalidInput } from './http-error.ts';

export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) {
    // As on the sockets: what is accepted must be what is stored.
    const illFormed = illFormedTextPath(result.data);
    if (illFormed === undefined) return result.data;
    throw invalidInput(
      'Text must be well-formed Unicode (a lone surrogate was sent).',
      illFormed || undefined,
    );
  }
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : undefined;
  const message = issue ? (field ? `${field}: ${issue.message}` : issue.message) : 'Invalid input.';
  throw invalidInput(message, field);
}
