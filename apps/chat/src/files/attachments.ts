/**
 * Turning a complete file into a chat message: the file is recorded against its room, then
 * posted through the chat domain like any message (next seq, stored before it is broadcast),
 * with the file in `attachments`. Posting is idempotent per file: without a client id of its
 * own, the message uses `upload:<file id>`, so a retried completion posts it once.
 */
import type { Attachment, ChatMessage } from '@switchboard/protocol';
import type { Author, ChatRooms } from '../chat/chat-rooms.ts';
import { cleanMessageText } from '../chat/message-text.ts';
import { ConflictError, type Room, type Storage } from '../storage/storage.ts';
import type { CompletedFile } from './chunked-uploads.ts';

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
    private readonly maxMessageLength: number,
  ) {}

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
  ): Promise<{ message: ChatMessage; created: boolean }> {
    try {
      await this.storage.saveFile({
        ...file,
        roomId: room.id,
        uploaderId: user.id,
        createdAt: new Date().toISOString(),
      });
    } catch (error) {
      // Recorded by an earlier attempt whose message did not get through.
      if (!(error instanceof ConflictError)) throw error;
    }
    return this.rooms.post(room, user, {
      text: caption.text,
      clientId: caption.clientId ?? `upload:${file.id}`,
      attachments: [attachmentOf(file)],
    });
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
