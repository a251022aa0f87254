/**
 * Chunked uploads over the chat socket: `upload_file` announces a file and gets an
 * upload id and a chunk size; `upload_chunk` frames carry base64 slices in any order; once every
 * chunk is in, the file is checked (size, and sha256 when given) and handed over as complete.
 *
 * - A chunk is `chunkSize` bytes (the last one the rest), small enough that its base64 frame
 *   stays under the socket's frame limit. A chunk received twice is written once and answered
 *   the same way; so is the last chunk of an upload that already completed.
 * - Limits: file size, allowed types, and a per-user count of unfinished uploads (the HTTP
 *   multipart route takes a slot too while it streams). An upload idle for `expiryMs` is
 *   forgotten and its partial file deleted.
 * - Uploads live in the memory of the node that took `upload_file`: a client that lands on
 *   another node after a reconnect starts the file again (or uses the HTTP route).
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@switchboard/protocol';
import { WsError } from '@switchboard/server';
import { formatBytes, isAllowedType, normalizeType, sanitizeFileName } from './file-policy.ts';
import type { FileStore } from './file-store.ts';

export interface UploadLimits {
  maxBytes: number;
  chunkBytes: number;
  allowedTypes: readonly string[];
  maxPending: number;
  expiryMs: number;
}

/** What `upload_file` declares (the protocol frame's fields). */
export interface UploadRequest {
  file_name: string;
  file_size: number;
  file_type: string;
  sha256?: string | undefined;
}

/** A whole, checked file in the files directory, not yet attached to anything. */
export interface CompletedFile {
  id: string;
  fileName: string;
  fileType: string;
  fileSize: number;
  sha256: string;
  storagePath: string;
}

export interface UploadProgress {
  upload_id: string;
  received_bytes: number;
  total_bytes: number;
  complete: boolean;
}

interface Upload<Extra> {
  id: string;
  userId: number;
  roomId: number;
  fileName: string;
  fileType: string;
  fileSize: number;
  sha256: string | undefined;
  chunkCount: number;
  received: Uint8Array;
  receivedChunks: number;
  receivedBytes: number;
  path: string;
  lastActivity: number;
  /** Whatever the caller wants back on completion (the message text, the client id). */
  extra: Extra;
  completing: Promise<CompletedFile> | undefined;
}

/** Completed uploads remembered, so a resent last chunk is answered instead of refused. */
const MAX_REMEMBERED = 1000;

const NOT_FOUND = 'Upload not found (it may have expired): start it again with upload_file.';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class ChunkedUploads<Extra> {
  private readonly uploads = new Map<string, Upload<Extra>>();
  private readonly completed = new Map<string, { userId: number; file: CompletedFile; extra: Extra }>();
  /** Slots held by uploads that are not in `uploads` (HTTP multipart streams). */
  private readonly streaming = new Map<number, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly store: FileStore,
    readonly limits: UploadLimits,
  ) {
    this.sweeper = setInterval(() => void this.sweep(), Math.min(60_000, Math.max(50, limits.expiryMs / 2)));
    this.sweeper.unref();
  }

  /** Checks type and size for any upload path; returns the normalised type. */
  checkFile(fileType: string, fileSize: number | undefined): string {
    const type = normalizeType(fileType);
    if (!type)
      throw new WsError(ErrorCode.INVALID_MESSAGE, 'file_type is not a MIME type.', { field: 'file_type' });
    if (!isAllowedType(type, this.limits.allowedTypes)) {
      throw new WsError(ErrorCode.INVALID_MESSAGE, `Files of type ${type} are not allowed.`, {
        field: 'file_type',
      });
    }
    if (fileSize !== undefined && fileSize > this.limits.maxBytes) throw this.tooLarge();
    return type;
  }

  tooLarge(): WsError {
    return new WsError(ErrorCode.MESSAGE_TOO_LARGE, `File exceeds ${formatBytes(this.limits.maxBytes)}.`, {
      field: 'file_size',
    });
  }

  /** Takes one of the user's upload slots, or refuses with RATE_LIMIT_EXCEEDED. */
  reserveSlot(userId: number): void {
    this.checkQuota(userId);
    this.streaming.set(userId, (this.streaming.get(userId) ?? 0) + 1);
  }

  releaseSlot(userId: number): void {
    const held = (this.streaming.get(userId) ?? 1) - 1;
    if (held > 0) this.streaming.set(userId, held);
    else this.streaming.delete(userId);
  }

  async start(
    user: { id: number },
    roomId: number,
    request: UploadRequest,
    extra: Extra,
  ): Promise<{ upload_id: string; chunk_size: number; chunk_count: number }> {
    const fileType = this.checkFile(request.file_type, request.file_size);
    this.checkQuota(user.id);
    const id = randomUUID();
    const chunkCount = Math.ceil(request.file_size / this.limits.chunkBytes);
    const upload: Upload<Extra> = {
      id,
      userId: user.id,
      roomId,
      fileName: sanitizeFileName(request.file_name),
      fileType,
      fileSize: request.file_size,
      sha256: request.sha256,
      chunkCount,
      received: new Uint8Array(chunkCount),
      receivedChunks: 0,
      receivedBytes: 0,
      path: '',
      lastActivity: Date.now(),
      extra,
      completing: undefined,
    };
    this.uploads.set(id, upload);
    try {
      upload.path = await this.store.createPartial(id);
    } catch (error) {
      this.uploads.delete(id);
      throw error;
    }
    return { upload_id: id, chunk_size: this.limits.chunkBytes, chunk_count: chunkCount };
  }

  /**
   * Stores one chunk. Resolves with the progress, plus the file and the caller's extra once the
   * upload is complete (for every chunk that arrives after that too).
   */
  async chunk(
    user: { id: number },
    roomId: number,
    uploadId: string,
    index: number,
    data: string,
  ): Promise<{ progress: UploadProgress; done?: { file: CompletedFile; extra: Extra } }> {
    const finished = this.completed.get(uploadId);
    if (finished && finished.userId === user.id) {
      return {
        progress: progressOf(uploadId, finished.file.fileSize, finished.file.fileSize, true),
        done: finished,
      };
    }
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.userId !== user.id || upload.roomId !== roomId || this.expired(upload)) {
      throw new WsError(ErrorCode.NOT_FOUND, NOT_FOUND, { field: 'upload_id' });
    }
    if (index >= upload.chunkCount) {
      throw new WsError(ErrorCode.INVALID_MESSAGE, `chunk_index must be below ${upload.chunkCount}.`, {
        field: 'chunk_index',
      });
    }
    upload.lastActivity = Date.now();
    if (!upload.received[index]) {
      const bytes = decodeChunk(data);
      const expected = Math.min(this.limits.chunkBytes, upload.fileSize - index * this.limits.chunkBytes);
      if (bytes.length !== expected) {
        throw new WsError(
          ErrorCode.INVALID_MESSAGE,
          `Chunk ${index} must be ${expected} bytes, got ${bytes.length}.`,
          {
            field: 'chunk_data',
          },
        );
      }
      await this.store.writeAt(upload.path, index * this.limits.chunkBytes, bytes);
      if (!upload.received[index]) {
        upload.received[index] = 1;
        upload.receivedChunks++;
        upload.receivedBytes += bytes.length;
      }
    }
    if (upload.receivedChunks < upload.chunkCount) {
      return { progress: progressOf(upload.id, upload.receivedBytes, upload.fileSize, false) };
    }
    upload.completing ??= this.complete(upload);
    const file = await upload.completing;
    return {
      progress: progressOf(upload.id, file.fileSize, file.fileSize, true),
      done: { file, extra: upload.extra },
    };
  }

  /** Forgets a completed upload whose file was discarded: a resent last chunk must start it again. */
  forget(uploadId: string): void {
    this.completed.delete(uploadId);
  }

  pendingOf(userId: number): number {
    let count = this.streaming.get(userId) ?? 0;
    for (const upload of this.uploads.values())
      if (upload.userId === userId && !this.expired(upload)) count++;
    return count;
  }

  /** Forgets expired uploads and deletes their partial files. */
  async sweep(): Promise<void> {
    for (const upload of [...this.uploads.values()]) {
      if (!this.expired(upload) || upload.completing) continue;
      this.uploads.delete(upload.id);
      await this.store.discard(upload.path).catch(() => {});
    }
  }

  /** Stops the sweeper and deletes every unfinished upload's partial file. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const pending = [...this.uploads.values()];
    this.uploads.clear();
    await Promise.all(pending.map((upload) => this.store.discard(upload.path).catch(() => {})));
  }

  private expired(upload: Upload<Extra>): boolean {
    return Date.now() - upload.lastActivity > this.limits.expiryMs;
  }

  private checkQuota(userId: number): void {
    if (this.pendingOf(userId) < this.limits.maxPending) return;
    throw new WsError(
      ErrorCode.RATE_LIMIT_EXCEEDED,
      `You have ${this.limits.maxPending} unfinished uploads: finish one or wait for it to expire.`,
      { retryAfter: this.secondsUntilSlot(userId) },
    );
  }

  private secondsUntilSlot(userId: number): number {
    let soonest = this.limits.expiryMs;
    for (const upload of this.uploads.values()) {
      if (upload.userId === userId)
        soonest = Math.min(soonest, upload.lastActivity + this.limits.expiryMs - Date.now());
    }
    return Math.max(1, Math.ceil(soonest / 1000));
  }

  private async complete(upload: Upload<Extra>): Promise<CompletedFile> {
    try {
      const sha256 = await this.store.sha256Of(upload.path);
      const size = await this.store.sizeOf(upload.path);
      if (size !== upload.fileSize) {
        throw new WsError(ErrorCode.INVALID_MESSAGE, `The file has ${size} bytes, not ${upload.fileSize}.`, {
          field: 'file_size',
        });
      }
      if (upload.sha256 && upload.sha256 !== sha256) {
        throw new WsError(ErrorCode.INVALID_MESSAGE, 'The file does not match its sha256: upload it again.', {
          field: 'sha256',
        });
      }
      const storagePath = await this.store.commit(upload.path, upload.id);
      const file: CompletedFile = {
        id: upload.id,
        fileName: upload.fileName,
        fileType: upload.fileType,
        fileSize: upload.fileSize,
        sha256,
        storagePath,
      };
      this.remember(upload, file);
      return file;
    } catch (error) {
      await this.store.discard(upload.path).catch(() => {});
      throw error;
    } finally {
      this.uploads.delete(upload.id);
    }
  }

  private remember(upload: Upload<Extra>, file: CompletedFile): void {
    if (this.completed.size >= MAX_REMEMBERED) {
      const oldest = this.completed.keys().next().value;
      if (oldest !== undefined) this.completed.delete(oldest);
    }
    this.completed.set(upload.id, { userId: upload.userId, file, extra: upload.extra });
  }
}

function decodeChunk(data: string): Buffer {
  if (data.length % 4 !== 0 || !BASE64.test(data)) {
    throw new WsError(ErrorCode.INVALID_MESSAGE, 'chunk_data is not valid base64.', { field: 'chunk_data' });
  }
  return Buffer.from(data, 'base64');
}

function progressOf(id: string, received: number, total: number, complete: boolean): UploadProgress {
  return { upload_id: id, received_bytes: received, total_bytes: total, complete };
}
