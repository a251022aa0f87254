/**
 * The append path: new messages are queued for group commit (AppendQueue), and each batch is
 * written in one transaction with a bounded number of statements (per room: one that claims the
 * batch's seqs; for the batch: messages, change log; the authors are read before), so one commit —
 * one durable sync — serves the whole batch, and the room's lock is held for as few round trips as
 * possible.
 *
 * Seqs stay gapless and unique with several writers (see change-log.ts). Rooms are claimed in id
 * order so two batches never wait on each other in a cycle.
 *
 * Idempotency rests on the (author_id, client_id) unique constraint: rows that hit it are skipped by
 * ON CONFLICT DO NOTHING. A lone message that was skipped returns the stored original, and its
 * transaction is rolled back so the seq it claimed is not used up. In a larger batch a skipped row
 * would leave a hole in the seqs just assigned, so the batch is abandoned (rolled back) and the group
 * commit retries its items one by one.
 */
import type { Kysely } from 'kysely';
import { claimSeqs, logChanges } from './change-log.ts';
import { isForeignKeyViolation, isUniqueViolation, withConstraintErrors } from './db-errors.ts';
import { GroupCommit } from './group-commit.ts';
import { selectMessages, toChatMessage } from './rows.ts';
import type { Database } from './schema.ts';
import { type NewMessage, NotFoundError, type StoredMessage } from './storage.ts';

/** Most messages committed in one transaction: bounds statement size and a batch's latency. */
const MAX_APPEND_BATCH = 512;
/** Most appends waiting for the database before new ones are refused (OverloadedError). */
const MAX_PENDING_APPENDS = 20_000;

export type AppendQueue = GroupCommit<NewMessage, StoredMessage>;

/** The queue `appendMessage` submits to; close it before the database so accepted appends settle. */
export function appendQueue(db: Kysely<Database>): AppendQueue {
  return new GroupCommit(
    // appendMessages finds the authors and rooms itself, so a foreign key that breaks is reply_to's.
    (batch) =>
      withConstraintErrors({ foreignKey: 'The replied-to message does not exist.' }, () =>
        appendMessages(db, batch),
      ),
    {
      maxBatch: MAX_APPEND_BATCH,
      maxPending: MAX_PENDING_APPENDS,
      // Failures one message can cause alone: retried one by one, they fail that message only.
      isItemError: (e) =>
        e instanceof ResendInBatchError ||
        e instanceof NotFoundError ||
        isUniqueViolation(e) ||
        isForeignKeyViolation(e),
    },
  );
}

/** A batch of more than one message contained a resend; retry its items alone. */
class ResendInBatchError extends Error {}

/** A lone resend: the transaction is rolled back (its claimed seq with it) and the original returned. */
class ResentOriginal extends Error {
  constructor(readonly original: StoredMessage) {
    super('resent');
  }
}

async function appendMessages(db: Kysely<Database>, inputs: NewMessage[]): Promise<StoredMessage[]> {
  // Read before the transaction: the room lock below is held until commit, so everything that can
  // happen outside it does (the messages' foreign key still guards against a vanished author).
  const authorIds = [...new Set(inputs.map((m) => m.authorId))];
  const authors = new Map(
    (
      await db.selectFrom('users').select(['id', 'username', 'avatar']).where('id', 'in', authorIds).execute()
    ).map((u) => [u.id, u]),
  );
  if (authors.size !== authorIds.length) throw new NotFoundError('User not found.');
  const perRoom = new Map<number, number>();
  for (const m of inputs) perRoom.set(m.roomId, (perRoom.get(m.roomId) ?? 0) + 1);

  try {
    return await db.transaction().execute(async (trx) => {
      const now = new Date().toISOString();

      // Claim each room's seqs in one statement, which also takes the room's lock until commit.
      const nextSeq = new Map<number, { slug: string; next: number }>();
      for (const roomId of [...perRoom.keys()].sort((a, b) => a - b)) {
        const { slug, first } = await claimSeqs(trx, roomId, perRoom.get(roomId)!);
        nextSeq.set(roomId, { slug, next: first });
      }

      const rows = inputs.map((m) => ({
        room_id: m.roomId,
        author_id: m.authorId,
        seq: nextSeq.get(m.roomId)!.next++,
        content: m.content,
        reply_to: m.replyTo,
        client_id: m.clientId,
        attachments: JSON.stringify(m.attachments),
        edited: 0,
        deleted: 0,
        created_at: now,
      }));
      const inserted = await trx
        .insertInto('messages')
        .values(rows)
        .onConflict((oc) => oc.columns(['author_id', 'client_id']).doNothing())
        .returning(['id', 'room_id', 'seq'])
        .execute();

      if (inserted.length < rows.length) {
        if (inputs.length > 1) throw new ResendInBatchError('A batch contained a resent message.');
        const resent = inputs[0]!;
        const original = await selectMessages(trx)
          .where('m.author_id', '=', resent.authorId)
          .where('m.client_id', '=', resent.clientId!)
          .executeTakeFirstOrThrow();
        throw new ResentOriginal({ message: toChatMessage(original), created: false });
      }

      const idBySeq = new Map(inserted.map((r) => [`${r.room_id}:${r.seq}`, r.id]));
      const ids = rows.map((r) => idBySeq.get(`${r.room_id}:${r.seq}`)!);
      await logChanges(
        trx,
        rows.map((r, i) => ({ room_id: r.room_id, seq: r.seq, kind: 'created', message_id: ids[i]! })),
      );
      return rows.map((r, i) => {
        const author = authors.get(r.author_id)!;
        const message = toChatMessage({
          ...r,
          id: ids[i]!,
          room: nextSeq.get(r.room_id)!.slug,
          author_username: author.username,
          author_avatar: author.avatar,
        });
        return { created: true, message };
      });
    });
  } catch (error) {
    if (error instanceof ResentOriginal) return [error.original];
    throw error;
  }
}
