/** Validates request input with zod and turns the first problem into a 400 naming the field. */
import type { z } from 'zod';
import { invalidInput } from './http-error.ts';

export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : undefined;
  const message = issue ? (field ? `${field}: ${issue.message}` : issue.message) : 'Invalid input.';
  throw invalidInput(message, field);
}
