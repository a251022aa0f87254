/**
 * A room's change log: the one place that numbers a room's history. Every change (a message
 * created, edited or deleted) takes the room's next `seq` and leaves one `room_changes` row, in the
 * transaction that makes the change; `changesSince` replays those rows to a resuming client.
 *
 * Taking seqs is an UPDATE of the room's `last_seq`, which row-locks the room (PostgreSQL) or takes
 * the write lock (SQLite) until the transaction ends: no other writer, on this node or another, can
 * take the same seq, and a transaction that fails gives its seqs back by rolling back.
 */
import type { Insertable, Kysely, Updateable } from 'kysely';
import type { Database, MessagesTable, RoomChangesTable } from './schema.ts';
import { NotFoundError } from './storage.ts';

/** Adds `count` to the room's last seq, returning the room as it is afterwards. */
function advanceLastSeq(trx: Kysely<Database>, count: number) {
  return trx
    .updateTable('rooms')
    .set((eb) => ({ last_seq: eb('last_seq', '+', count) }))
    .returning(['id', 'slug', 'last_seq']);
}

/** Takes the room's next `count` seqs; returns the first of them and the room's slug. */
export async function claimSeqs(
  trx: Kysely<Database>,
  roomId: number,
  count: number,
): Promise<{ slug: string; first: number }> {
  const room = await advanceLastSeq(trx, count).where('id', '=', roomId).executeTakeFirst();
  if (!room) throw new NotFoundError('Room not found.');
  return { slug: room.slug, first: room.last_seq - count + 1 };
}

/** Logs changes whose seqs were claimed in the same transaction. */
export async function logChanges(
  trx: Kysely<Database>,
  changes: Insertable<RoomChangesTable>[],
): Promise<void> {
  await trx.insertInto('room_changes').values(changes).execute();
}

/**
 * Changes a stored message as its room's next change (edit or delete): claims the seq, applies
 * `set` and logs the change. A message that does not exist or is already deleted is NotFoundError,
 * and the transaction's rollback returns the seq.
 */
export async function changeMessage(
  trx: Kysely<Database>,
  messageId: number,
  kind: 'edited' | 'deleted',
  set: Updateable<MessagesTable>,
): Promise<{ roomId: number; roomSlug: string; seq: number }> {
  const room = await advanceLastSeq(trx, 1)
    .where('id', '=', (eb) => eb.selectFrom('messages').select('room_id').where('id', '=', messageId))
    .executeTakeFirst();
  if (!room) throw new NotFoundError('Message not found.');
  // Checked after the room's row is locked, so a concurrent delete cannot slip in between.
  const changed = await trx
    .updateTable('messages')
    .set(set)
    .where('id', '=', messageId)
    .where('deleted', '=', 0)
    .executeTakeFirst();
  if (changed.numUpdatedRows === 0n) throw new NotFoundError('Message not found.');
  await logChanges(trx, [{ room_id: room.id, seq: room.last_seq, kind, message_id: messageId }]);
  return { roomId: room.id, roomSlug: room.slug, seq: room.last_seq };
}
