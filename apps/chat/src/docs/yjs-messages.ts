/**
 * The y-websocket wire protocol, as a stock `WebsocketProvider` speaks it: every binary frame is
 * a varUint message type followed by its body (lib0 encoding).
 *
 *   0 sync       varUint step (0 state vector | 1 step 2 | 2 update), varUint8Array payload
 *   1 awareness  varUint8Array awareness update (y-protocols/awareness)
 *   2 auth       varUint 0 (permission denied), varString reason — server → client only
 *   3 query-awareness   (no body): "send me every awareness state"
 *
 * Decoding turns a frame into a tagged value, so the consumer's switch is exhaustive and a frame
 * that is not the protocol is one `malformed` case with a reason.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { writePermissionDenied } from 'y-protocols/auth';
import { messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate, writeUpdate } from 'y-protocols/sync';

export const MESSAGE_SYNC = 0;
export const MESSAGE_AWARENESS = 1;
export const MESSAGE_AUTH = 2;
export const MESSAGE_QUERY_AWARENESS = 3;

export type ClientMessage =
  | { kind: 'sync-step-1'; stateVector: Uint8Array }
  /** Step 2 and update both carry an update; step 2 answers the server's step 1. */
  | { kind: 'update'; update: Uint8Array; step2: boolean }
  | { kind: 'awareness'; update: Uint8Array }
  | { kind: 'query-awareness' }
  | { kind: 'auth' }
  | { kind: 'malformed'; reason: string };

export function decodeClientMessage(frame: Uint8Array): ClientMessage {
  try {
    const decoder = decoding.createDecoder(frame);
    const type = decoding.readVarUint(decoder);
    switch (type) {
      case MESSAGE_SYNC: {
        const step = decoding.readVarUint(decoder);
        const payload = readExactBytes(decoder);
        if (step === messageYjsSyncStep1) return { kind: 'sync-step-1', stateVector: payload };
        if (step === messageYjsSyncStep2) return { kind: 'update', update: payload, step2: true };
        if (step === messageYjsUpdate) return { kind: 'update', update: payload, step2: false };
        return { kind: 'malformed', reason: `unknown sync step ${step}` };
      }
      case MESSAGE_AWARENESS:
        return { kind: 'awareness', update: readExactBytes(decoder) };
      case MESSAGE_QUERY_AWARENESS:
        return { kind: 'query-awareness' };
      case MESSAGE_AUTH:
        return { kind: 'auth' };
      default:
        return { kind: 'malformed', reason: `unknown message type ${type}` };
    }
  } catch {
    return { kind: 'malformed', reason: 'truncated message' };
  }
}

/**
 * A varUint8Array whose declared length fits the frame. lib0 silently returns a shorter array for
 * a length past the end; a truncated update must be refused, not stored as a different one.
 */
function readExactBytes(decoder: decoding.Decoder): Uint8Array {
  const length = decoding.readVarUint(decoder);
  if (length > decoder.arr.length - decoder.pos) throw new RangeError('length past the end of the frame');
  return decoding.readUint8Array(decoder, length);
}

const framed = (write: (encoder: encoding.Encoder) => void): Uint8Array => {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
};

export const syncStep1Message = (stateVector: Uint8Array) =>
  framed((e) => {
    encoding.writeVarUint(e, MESSAGE_SYNC);
    encoding.writeVarUint(e, messageYjsSyncStep1);
    encoding.writeVarUint8Array(e, stateVector);
  });

export const syncStep2Message = (update: Uint8Array) =>
  framed((e) => {
    encoding.writeVarUint(e, MESSAGE_SYNC);
    encoding.writeVarUint(e, messageYjsSyncStep2);
    encoding.writeVarUint8Array(e, update);
  });

export const updateMessage = (update: Uint8Array) =>
  framed((e) => {
    encoding.writeVarUint(e, MESSAGE_SYNC);
    writeUpdate(e, update);
  });

export const awarenessMessage = (awarenessUpdate: Uint8Array) =>
  framed((e) => {
    encoding.writeVarUint(e, MESSAGE_AWARENESS);
    encoding.writeVarUint8Array(e, awarenessUpdate);
  });

/** The protocol's only refusal: a provider logs the reason ("Permission denied to access …"). */
export const permissionDeniedMessage = (reason: string) =>
  framed((e) => {
    encoding.writeVarUint(e, MESSAGE_AUTH);
    writePermissionDenied(e, reason);
  });
