/**
 * Writing frames cheaply to many sockets. Two tricks, both measured in `npm run bench`:
 *
 * 1. A broadcast is serialised and framed ONCE per node: every recipient gets the same bytes
 *    (server frames are unmasked, so one frame fits all sockets that did not negotiate compression).
 * 2. Writes to one socket within an event-loop turn are corked and leave in one writev syscall:
 *    the per-write syscall, not JSON, is the ceiling under heavy fan-out. A large broadcast's
 *    flush waits 1 ms more, so frames that arrive in the next turns (from Redis, say) share it.
 *
 * Both reach below `ws`'s public API (its static `Sender.frame` and the socket under the
 * WebSocket); they are kept in this one file and used only when `ws` itself has nothing queued.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import * as wsModule from 'ws';
import { type BinaryLayerMessage, type LayerMessage, layerMessageBytes } from '../layer/channel-layer.ts';

export interface SharedFrame {
  /** The JSON text as UTF-8 (or a binary message's bytes), for sockets where `ws` must compress it. */
  payload: Buffer;
  /** Header and payload in one buffer, written as-is to uncompressed sockets. */
  framed: Buffer;
}

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}
/** `ws` exports its Sender, but its type definitions do not declare it. */
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
};
if (typeof Sender?.frame !== 'function')
  throw new Error('ws no longer exports Sender.frame: update socket-writer.ts');

const sharedFrames = new WeakMap<LayerMessage, SharedFrame>();
const sharedBinaryFrames = new WeakMap<LayerMessage, SharedFrame>();

/** The serialised, framed form of a layer message, computed on first use and shared by all recipients. */
export function sharedFrame(message: LayerMessage): SharedFrame {
  let frame = sharedFrames.get(message);
  if (!frame) {
    frame = frameOf(Buffer.from(JSON.stringify(message)), TEXT);
    sharedFrames.set(message, frame);
  }
  return frame;
}

/** The bytes of a binary layer message framed as one binary frame, decoded once and shared. */
export function sharedBinaryFrame(message: BinaryLayerMessage): SharedFrame {
  let frame = sharedBinaryFrames.get(message);
  if (!frame) {
    frame = frameOf(layerMessageBytes(message) ?? Buffer.alloc(0), BINARY);
    sharedBinaryFrames.set(message, frame);
  }
  return frame;
}

const TEXT = 1;
const BINARY = 2;

function frameOf(payload: Buffer, opcode: number): SharedFrame {
  const parts = Sender.frame(payload, { fin: true, opcode, mask: false, readOnly: true, rsv1: false });
  return { payload, framed: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
}

/** The raw TCP socket under a `ws` WebSocket. */
export function rawSocket(ws: WebSocket): Socket | undefined {
  return (ws as unknown as { _socket?: Socket })._socket;
}

const corked: Socket[] = [];
let flushScheduled = false;

/**
 * A turn that corked this many sockets is a large broadcast. When large broadcasts come in a
 * stream (the last one less than STREAM_GAP_MS ago), the flush waits 1 ms more so the ones right
 * behind it (arriving in later turns, e.g. from Redis) share its syscalls: about 1.4x deliveries/s
 * across two nodes. An occasional broadcast, and small writes (acks, small rooms), leave at the end
 * of the turn with no added delay.
 */
const LARGE_FLUSH = 256;
const STREAM_GAP_MS = 10;
let lastLargeFlushAt = Number.NEGATIVE_INFINITY;

function flushCorked(): void {
  flushScheduled = false;
  for (const socket of corked.splice(0)) socket.uncork();
}

function flushUnlessStreaming(): void {
  if (corked.length >= LARGE_FLUSH) {
    const now = performance.now();
    const streaming = now - lastLargeFlushAt < STREAM_GAP_MS;
    lastLargeFlushAt = now;
    if (streaming) {
      setTimeout(flushCorked, 1);
      return;
    }
  }
  flushCorked();
}

/** Holds the socket's writes until the end of this event-loop turn, then sends them together. */
export function corkForTurn(socket: Socket): void {
  if (socket.writableCorked > 0) return;
  socket.cork();
  corked.push(socket);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushUnlessStreaming);
  }
}
