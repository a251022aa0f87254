import { ApiError, SwitchboardError } from '@switchboard/client';

/** A sentence for the user out of anything thrown: server texts as they are, the rest generic. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError || error instanceof SwitchboardError) return error.message;
  if (error instanceof TypeError) return 'The server cannot be reached. Check your connection.';
  return 'Something went wrong. Please try again.';
}
