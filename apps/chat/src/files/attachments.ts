/**
 * Turning a complete file into a chat message: the file is recorded against its room, then
 * posted through the chat domain like any message (next seq; the caller publishes the outcome),
 * with the file in `attachments`. Posting is idempotent per file: without a client id of its
 * own, the message uses `upload:<file id>`, so a retried completion posts it once.
 *
 * A file that ends up attached to nothing — its client id names an earlier message, or the post
 * was refused — is deleted again, record and bytes: no orphan stays in the data directory.
 */
import type { Attachment, ChatMessage } from '@switchboard/protocol';
import {
  type Author,
  type ChatRooms,
  clientIdTaken,
  type MessageCreated,
  type Outcome,
} from '../domain/chat-rooms.ts';
import { cleanMessageText } from '../domain/message-text.ts';
import { orUnavailable } from '../domain/storage-unavailable.ts';
import { ConflictError, type Room, type Storage } from '../storage/storage.ts';
import type { CompletedFile } from './chunked-uploads.ts';
import type { FileStore } from './file-store.ts';
import type { UploadQuota } from './upload-quota.ts';

/** The text sent along with a file, checked like a message body but allowed to be empty. */
export interface Caption {
  text: string;
  clientId: string | undefined;
}

/** Where a stored file is downloaded (members of its room only). */
export const fileUrl = (fileId: string) => `/api/files/${fileId}/`;

export class Attachments {
  constructor(
    private readonly storage: Storage,
    private readonly rooms: ChatRooms,
    private readonly files: FileStore,
    private readonly quota: UploadQuota,
    private readonly maxMessageLength: number,
  ) {}

  /**
   * The message an earlier upload already posted with this client id, checked before any byte
   * is written (a resend must not store the file twice); refused if it is in another room.
   */
  async earlier(room: Room, user: Author, caption: Caption): Promise<ChatMessage | undefined> {
    if (!caption.clientId) return undefined;
    const message = await orUnavailable(this.storage.findMessageByClientId(user.id, caption.clientId));
    if (message && message.room !== room.slug) throw clientIdTaken();
    return message;
  }

  /** Checks the optional text of an upload up front, before any byte is sent. */
  caption(text: string | undefined, clientId: string | undefined): Caption {
    const trimmed = text?.trim() ?? '';
    return { text: trimmed ? cleanMessageText(text!, this.maxMessageLength) : '', clientId };
  }

  async post(
    room: Room,
    user: Author,
    file: CompletedFile,
    caption: Caption,
  ): Promise<Outcome<MessageCreated>> {
    try {
      // A retried completion finds its file recorded, and within the quota already.
      if (!(await orUnavailable(this.storage.findFile(file.id)))) {
        await this.quota.checkBytes(user.id, file.fileSize);
      }
      await this.storage.saveFile({
        ...file,
        roomId: room.id,
        uploaderId: user.id,
        createdAt: new Date().toISOString(),
      });
    } catch (error) {
      // Recorded by an earlier attempt whose message did not get through.
      if (!(error instanceof ConflictError)) {
        await this.discard(file);
        throw error;
      }
    }
    let posted: Outcome<MessageCreated>;
    try {
      posted = await this.rooms.post(room, user, {
        text: caption.text,
        clientId: caption.clientId ?? `upload:${file.id}`,
        attachments: [attachmentOf(file)],
      });
    } catch (error) {
      await this.discard(file);
      throw error;
    }
    if (!posted.change.message.attachments.some((a) => a.id === file.id)) await this.discard(file);
    return posted;
  }

  /** Best effort: a failure here must not hide the answer the client is waiting for. */
  private async discard(file: CompletedFile): Promise<void> {
    await this.storage.deleteFile(file.id).catch(() => {});
    await this.files.remove(file.storagePath).catch(() => {});
  }
}

function attachmentOf(file: CompletedFile): Attachment {
  return {
    id: file.id,
    file_name: file.fileName,
    file_size: file.fileSize,
    file_type: file.fileType,
    url: fileUrl(file.id),
  };
}
