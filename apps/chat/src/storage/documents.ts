/**
 * Storage of collaborative documents (Yjs), the same Kysely code for SQLite and PostgreSQL.
 *
 * A document is its compacted snapshot plus the updates appended since. Appends go through group
 * commit (one transaction, one durable sync for every update that arrived meanwhile), so the
 * caller may broadcast an update as soon as `append` resolves. Compaction merges the snapshot and
 * the updates it read outside any transaction, then swaps them in a short one that deletes exactly
 * the rows it merged: appends are never blocked behind a merge, and an update committed meanwhile
 * (even with a lower id, as PostgreSQL can commit ids out of order) stays a row of its own.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import * as Y from 'yjs';
import { isForeignKeyViolation, isUniqueViolation } from './db-errors.ts';
import { GroupCommit } from './group-commit.ts';
import type { Database, DocumentsTable } from './schema.ts';
import { NotFoundError } from './storage.ts';

export interface DocumentRecord {
  id: number;
  roomId: number;
  name: string;
  readOnly: boolean;
  /** Bytes stored: snapshot plus pending updates. */
  sizeBytes: number;
  /** Updates appended since the last compaction. */
  pendingUpdates: number;
  createdAt: string;
  updatedAt: string;
}

export interface DocumentUpdate {
  documentId: number;
  data: Uint8Array;
}

/** Every column but the snapshot, which listings and lookups do not need. */
const RECORD_COLUMNS = [
  'id',
  'room_id',
  'name',
  'read_only',
  'size_bytes',
  'pending_updates',
  'created_at',
  'updated_at',
] as const;
type RecordRow = Pick<Selectable<DocumentsTable>, (typeof RECORD_COLUMNS)[number]>;

/** Updates per transaction: bounds a statement's size and a batch's latency. */
const MAX_APPEND_BATCH = 256;
/** Updates waiting for the database before new ones are refused (OverloadedError). */
const MAX_PENDING_APPENDS = 20_000;
/** Ids per `delete … where id in (…)`: well under SQLite's 32766 bound parameters. */
const DELETE_CHUNK = 1000;

export class DocumentStore {
  private readonly appends: GroupCommit<DocumentUpdate, number>;

  constructor(private readonly db: Kysely<Database>) {
    this.appends = new GroupCommit((batch) => this.commitAppends(batch), {
      maxBatch: MAX_APPEND_BATCH,
      maxPending: MAX_PENDING_APPENDS,
      // A deleted document fails its own updates only.
      isItemError: isForeignKeyViolation,
    });
  }

  async close(): Promise<void> {
    await this.appends.close();
  }

  async find(roomId: number, name: string): Promise<DocumentRecord | undefined> {
    const row = await this.db
      .selectFrom('documents')
      .select(RECORD_COLUMNS)
      .where('room_id', '=', roomId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /** The document, created (writable by all members unless `readOnly`) if it does not exist yet. */
  async findOrCreate(roomId: number, name: string, readOnly = false): Promise<DocumentRecord> {
    const found = await this.find(roomId, name);
    if (found) return found;
    const now = new Date().toISOString();
    try {
      const row = await this.db
        .insertInto('documents')
        .values({
          room_id: roomId,
          name,
          read_only: readOnly ? 1 : 0,
          snapshot: null,
          size_bytes: 0,
          pending_updates: 0,
          compactions: 0,
          created_at: now,
          updated_at: now,
        })
        .returning(RECORD_COLUMNS)
        .executeTakeFirstOrThrow();
      return toRecord(row);
    } catch (error) {
      // Another member (or node) created it first: theirs is the document.
      if (!isUniqueViolation(error)) throw error;
      const raced = await this.find(roomId, name);
      if (!raced) throw error;
      return raced;
    }
  }

  async list(roomId: number): Promise<DocumentRecord[]> {
    const rows = await this.db
      .selectFrom('documents')
      .select(RECORD_COLUMNS)
      .where('room_id', '=', roomId)
      .orderBy('name')
      .limit(1000)
      .execute();
    return rows.map(toRecord);
  }

  async setReadOnly(documentId: number, readOnly: boolean): Promise<void> {
    await this.db
      .updateTable('documents')
      .set({ read_only: readOnly ? 1 : 0 })
      .where('id', '=', documentId)
      .execute();
  }

  /** Deletes the document and its updates. */
  async delete(documentId: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('document_updates').where('document_id', '=', documentId).execute();
      await trx.deleteFrom('documents').where('id', '=', documentId).execute();
    });
  }

  /**
   * Stores one update durably; resolves with the document's updates pending compaction.
   * Rejects with NotFoundError when the document was deleted.
   */
  async append(update: DocumentUpdate): Promise<number> {
    try {
      return await this.appends.submit(update);
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new NotFoundError('Document not found.');
      throw error;
    }
  }

  /** The whole document as one update: its snapshot merged with every update since. */
  async load(documentId: number): Promise<Uint8Array> {
    // One statement, so PostgreSQL reads snapshot and updates from one snapshot of the database:
    // a compaction committing in between cannot make rows vanish from both.
    const { rows } = await sql<{ data: Uint8Array }>`
      select snapshot as data from documents where id = ${documentId} and snapshot is not null
      union all
      select data from document_updates where document_id = ${documentId}
    `.execute(this.db);
    if (rows.length === 0) return EMPTY_UPDATE;
    if (rows.length === 1) return new Uint8Array(rows[0]!.data);
    return Y.mergeUpdates(rows.map((row) => new Uint8Array(row.data)));
  }

  /**
   * Folds the snapshot and the updates stored so far into a new snapshot. Returns how many
   * updates were merged (0 when another compaction got there first: it retried nothing).
   */
  async compact(documentId: number): Promise<number> {
    const document = await this.db
      .selectFrom('documents')
      .select(['snapshot', 'compactions'])
      .where('id', '=', documentId)
      .executeTakeFirst();
    if (!document) return 0;
    const updates = await this.db
      .selectFrom('document_updates')
      .select(['id', 'data'])
      .where('document_id', '=', documentId)
      .orderBy('id')
      .execute();
    if (updates.length === 0) return 0;
    const parts = updates.map((u) => new Uint8Array(u.data));
    if (document.snapshot) parts.unshift(new Uint8Array(document.snapshot));
    // The merge, the expensive part, runs outside any transaction.
    const snapshot = Y.mergeUpdates(parts);
    const mergedBytes = parts.reduce((sum, part) => sum + part.byteLength, 0);
    return this.db.transaction().execute(async (trx) => {
      const swapped = await trx
        .updateTable('documents')
        .set((eb) => ({
          snapshot: Buffer.from(snapshot),
          compactions: eb('compactions', '+', 1),
          pending_updates: eb('pending_updates', '-', updates.length),
          size_bytes: eb(eb('size_bytes', '-', mergedBytes), '+', snapshot.byteLength),
        }))
        .where('id', '=', documentId)
        .where('compactions', '=', document.compactions)
        .executeTakeFirst();
      if (Number(swapped.numUpdatedRows) === 0) return 0;
      for (let i = 0; i < updates.length; i += DELETE_CHUNK) {
        const ids = updates.slice(i, i + DELETE_CHUNK).map((u) => u.id);
        await trx.deleteFrom('document_updates').where('id', 'in', ids).execute();
      }
      return updates.length;
    });
  }

  private async commitAppends(batch: DocumentUpdate[]): Promise<number[]> {
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('document_updates')
        .values(batch.map((u) => ({ document_id: u.documentId, data: Buffer.from(u.data) })))
        .execute();
      const perDocument = new Map<number, { count: number; bytes: number }>();
      for (const u of batch) {
        const entry = perDocument.get(u.documentId) ?? { count: 0, bytes: 0 };
        entry.count++;
        entry.bytes += u.data.byteLength;
        perDocument.set(u.documentId, entry);
      }
      const now = new Date().toISOString();
      const pending = new Map<number, number>();
      for (const [documentId, { count, bytes }] of perDocument) {
        const row = await trx
          .updateTable('documents')
          .set((eb) => ({
            pending_updates: eb('pending_updates', '+', count),
            size_bytes: eb('size_bytes', '+', bytes),
            updated_at: now,
          }))
          .where('id', '=', documentId)
          .returning('pending_updates')
          .executeTakeFirst();
        pending.set(documentId, row?.pending_updates ?? 0);
      }
      return batch.map((u) => pending.get(u.documentId) ?? 0);
    });
  }
}

/** A Yjs update that changes nothing (no structs, empty delete set). */
export const EMPTY_UPDATE = new Uint8Array([0, 0]);

function toRecord(row: RecordRow): DocumentRecord {
  return {
    id: row.id,
    roomId: row.room_id,
    name: row.name,
    readOnly: Boolean(row.read_only),
    sizeBytes: Number(row.size_bytes),
    pendingUpdates: Number(row.pending_updates),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
