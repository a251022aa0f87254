/**
 * Awareness updates (y-protocols/awareness): `varUint count`, then per client
 * `varUint clientID, varUint clock, varString JSON state` (`null` = the client left).
 *
 * The server never trusts who a state says it is: `stamp` overwrites `user.id` and `user.name`
 * with the connection's user and keeps the rest (`user.color`, the cursor), so a client cannot pose
 * as someone else. A state larger than MAX_STATE_BYTES is refused: carets and names fit in a few
 * hundred bytes, and every peer holds every state.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

export const MAX_STATE_BYTES = 4096;
/** Clients one awareness frame may carry: a provider sends its own, a few is generous. */
export const MAX_ENTRIES_PER_FRAME = 8;

export interface AwarenessEntry {
  clientId: number;
  clock: number;
  /** The state as JSON text, exactly as relayed; `'null'` means the client left. */
  state: string;
}

export function decodeAwareness(update: Uint8Array): AwarenessEntry[] {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  if (count > MAX_ENTRIES_PER_FRAME) throw new RangeError(`more than ${MAX_ENTRIES_PER_FRAME} states`);
  const entries: AwarenessEntry[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const state = decoding.readVarString(decoder);
    entries.push({ clientId, clock, state });
  }
  return entries;
}

export function encodeAwareness(entries: Iterable<AwarenessEntry>): Uint8Array {
  const list = [...entries];
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, list.length);
  for (const entry of list) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, entry.state);
  }
  return encoding.toUint8Array(encoder);
}

export const LEFT = 'null';

export type Stamped = { ok: true; state: string } | { ok: false; reason: string };

/** The state with the connection's identity written over `user.id` / `user.name`. */
export function stamp(state: string, user: { id: number; username: string }): Stamped {
  if (Buffer.byteLength(state) > MAX_STATE_BYTES) {
    return { ok: false, reason: `An awareness state is at most ${MAX_STATE_BYTES} bytes.` };
  }
  let value: unknown;
  try {
    value = JSON.parse(state);
  } catch {
    return { ok: false, reason: 'An awareness state must be JSON.' };
  }
  if (value === null) return { ok: true, state: LEFT };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'An awareness state must be a JSON object.' };
  }
  const record = value as Record<string, unknown>;
  const given = record.user;
  const userFields = typeof given === 'object' && given !== null && !Array.isArray(given) ? given : {};
  record.user = { ...userFields, id: user.id, name: user.username };
  const stamped = JSON.stringify(record);
  if (Buffer.byteLength(stamped) > MAX_STATE_BYTES) {
    return { ok: false, reason: `An awareness state is at most ${MAX_STATE_BYTES} bytes.` };
  }
  return { ok: true, state: stamped };
}
