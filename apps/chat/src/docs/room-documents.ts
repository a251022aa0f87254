/**
 * The documents of chat rooms: who may open, edit and delete them, and how an update becomes
 * durable. Room membership governs access (ChatRooms.enter: unknown room → CHANNEL_NOT_FOUND,
 * not a member → PERMISSION_DENIED); a document marked read-only is writable by the room's host only.
 * The WebSocket consumer and the REST routes both go through here.
 */
import { ErrorCode } from '@switchboard/protocol';
import { type ChannelLayer, WsError } from '@switchboard/server';
import type { Logger } from 'pino';
import * as Y from 'yjs';
import type { Author, ChatRooms } from '../domain/chat-rooms.ts';
import { orUnavailable } from '../domain/storage-unavailable.ts';
import type { DocumentRecord, DocumentStore } from '../storage/documents.ts';
import type { Room } from '../storage/storage.ts';
import { DOCUMENT_NAME_RULE, documentGroup, isDocumentName, TEXT_NAME } from './document-names.ts';

/**
 * Updates a document accumulates before it is compacted in the background. Loading 500 small
 * updates and merging them takes a few ms; a snapshot keeps cold loads flat however long the
 * document has been edited (see the docs bench).
 */
export const COMPACT_AFTER = 500;
/** Layer event telling a deleted document's sockets to close. */
export const DOCUMENT_DELETED = 'doc.deleted';

export interface OpenedDocument {
  room: Room;
  document: DocumentRecord;
  canWrite: boolean;
}

export class RoomDocuments {
  private readonly compacting = new Set<number>();

  constructor(
    private readonly store: DocumentStore,
    private readonly rooms: ChatRooms,
    private readonly layer: ChannelLayer,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly compactAfter = COMPACT_AFTER,
  ) {}

  /** The document for a member, created on first open. */
  async open(slug: string, name: string, user: Author, options: { readOnly?: boolean } = {}) {
    const room = await this.rooms.enter(slug, user.id);
    checkName(name);
    if (options.readOnly && room.hostId !== user.id) {
      throw new WsError(ErrorCode.PERMISSION_DENIED, 'Only the room host can make a document read-only.');
    }
    const document = await orUnavailable(this.store.findOrCreate(room.id, name, options.readOnly));
    return {
      room,
      document,
      canWrite: !document.readOnly || room.hostId === user.id,
    } satisfies OpenedDocument;
  }

  /** An existing document (NOT_FOUND otherwise), for reading. */
  async existing(slug: string, name: string, user: Author): Promise<OpenedDocument> {
    const room = await this.rooms.enter(slug, user.id);
    const document = isDocumentName(name) ? await orUnavailable(this.store.find(room.id, name)) : undefined;
    if (!document) throw new WsError(ErrorCode.NOT_FOUND, 'Document not found.');
    return { room, document, canWrite: !document.readOnly || room.hostId === user.id };
  }

  async list(slug: string, user: Author): Promise<DocumentRecord[]> {
    const room = await this.rooms.enter(slug, user.id);
    return orUnavailable(this.store.list(room.id));
  }

  /** The plain text of the document's shared `Y.Text` named TEXT_NAME. */
  async text(slug: string, name: string, user: Author): Promise<string> {
    const { document } = await this.existing(slug, name, user);
    const ydoc = new Y.Doc();
    Y.applyUpdate(ydoc, await this.state(document.id));
    const text = ydoc.getText(TEXT_NAME).toString();
    ydoc.destroy();
    return text;
  }

  /** Deletes the document (room host only) and closes its sockets on every node. */
  async remove(slug: string, name: string, user: Author): Promise<void> {
    const { room, document } = await this.existing(slug, name, user);
    if (room.hostId !== user.id) {
      throw new WsError(ErrorCode.PERMISSION_DENIED, 'Only the room host can delete a document.');
    }
    await orUnavailable(this.store.delete(document.id));
    await this.layer.groupSend(documentGroup(document.id), { type: DOCUMENT_DELETED });
  }

  /** The whole stored document as one update. */
  state(documentId: number): Promise<Uint8Array> {
    return orUnavailable(this.store.load(documentId));
  }

  /** Stores an update durably (resolves after the commit); compacts in the background when due. */
  async append(documentId: number, update: Uint8Array): Promise<void> {
    const pending = await orUnavailable(this.store.append({ documentId, data: update }));
    if (pending >= this.compactAfter) this.compactSoon(documentId);
  }

  /** One compaction per document at a time on this node; editing goes on meanwhile. */
  private compactSoon(documentId: number): void {
    if (this.compacting.has(documentId)) return;
    this.compacting.add(documentId);
    setImmediate(() => {
      this.store
        .compact(documentId)
        .catch((error: unknown) => this.logger.warn({ err: error, documentId }, 'compaction failed'))
        .finally(() => this.compacting.delete(documentId));
    });
  }
}

function checkName(name: string): void {
  if (!isDocumentName(name)) {
    throw new WsError(ErrorCode.INVALID_MESSAGE, DOCUMENT_NAME_RULE, { field: 'name', closeCode: 4400 });
  }
}
