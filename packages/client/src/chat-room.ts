/**
 * A chat room connection (`/ws/chat/{room}/`): the generic connection plus resume. It reconnects
 * with `after_seq` (the last change it saw), counts as open once the server's `synced` says the
 * replay is done, and drops replayed duplicates, so listeners see every change of the room
 * exactly once, in order, across any number of reconnects.
 */
import { type ConnectionOptions, SwitchboardConnection } from './connection.ts';
import { endpointUrl } from './endpoint-url.ts';
import type { AckFrame, ChatClientFrame, ChatServerFrame, MessageAck } from './frames.ts';
import { randomId } from './ids.ts';
import type { QueuedFrame } from './outbox.ts';
import { RoomCursor } from './room-cursor.ts';

export interface ChatRoomOptions
  extends Omit<ConnectionOptions<ChatServerFrame>, 'url' | 'params' | 'readyWhen' | 'admit'> {
  /** The server's origin, http(s) or ws(s), e.g. `http://localhost:8000`. */
  server: string;
  /** The room's slug. */
  room: string;
  /**
   * Where this client's view of the room ends, e.g. the highest seq of the history page it shows
   * (0 for "everything"); changes after it are replayed before live traffic. May instead be given
   * to `connect(afterSeq)`. Without either, the first connection starts from the present.
   */
  afterSeq?: number;
}

export type QueuedChatMessage = QueuedFrame<Extract<ChatClientFrame, { type: 'chat_message' }>>;

export class ChatRoomConnection extends SwitchboardConnection<ChatClientFrame, ChatServerFrame> {
  readonly room: string;
  readonly #cursor: RoomCursor;

  constructor(options: ChatRoomOptions) {
    const cursor = new RoomCursor(options.afterSeq);
    const path = `/ws/chat/${encodeURIComponent(options.room)}/`;
    super({
      ...options,
      url: endpointUrl(options.server, path),
      params: () => ({ after_seq: cursor.lastSeq }),
      readyWhen: (frame) => frame.type === 'synced',
      admit: (frame) => cursor.admit(frame),
      outbox: { key: path, ...options.outbox },
    });
    this.room = options.room;
    this.#cursor = cursor;
  }

  /** The highest change seq seen (the next connection resumes after it); undefined before any. */
  get lastSeq(): number | undefined {
    return this.#cursor.lastSeq;
  }

  /**
   * Opens the connection. `afterSeq` sets the resume point when it was not known at construction
   * (create the connection early so sends queue up, connect once the history page is loaded).
   */
  override connect(afterSeq?: number): void {
    if (afterSeq !== undefined) this.#cursor.resumeAfter(afterSeq);
    super.connect();
  }

  /** Messages not yet acknowledged by the server, oldest first (to show as "sending"). */
  get pendingMessages(): QueuedChatMessage[] {
    return this.queued.filter((frame): frame is QueuedChatMessage => frame.type === 'chat_message');
  }

  /**
   * Sends a message; resolves once it is durably stored. A `client_id` is generated unless given,
   * which makes any resend (after a drop, a reload, or by the caller) store it only once.
   */
  sendMessage(
    content: string,
    options: { replyTo?: number | null; clientId?: string } = {},
  ): Promise<MessageAck> {
    return this.send<MessageAck>({
      type: 'chat_message',
      message: content,
      client_id: options.clientId ?? randomId(),
      ...(options.replyTo != null && { reply_to: options.replyTo }),
    });
  }

  editMessage(messageId: number, newContent: string): Promise<AckFrame> {
    return this.send({ type: 'edit_message', message_id: messageId, new_content: newContent });
  }

  deleteMessage(messageId: number): Promise<AckFrame> {
    return this.send({ type: 'delete_message', message_id: messageId });
  }
}
