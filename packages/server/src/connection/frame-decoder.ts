import { authFrame, batchFrame, FrameworkErrorCode } from '@switchboard/protocol/envelope';
import type { MessageSchemas } from '../consumer/consumer.ts';
import { WsError } from '../errors.ts';
import { illFormedTextPath } from './well-formed-text.ts';

export type DecodedFrame =
  | { ok: true; type: string; message: { type: string }; ref: string | undefined }
  | { ok: false; error: WsError; ref: string | undefined };

/** Frames the framework answers itself, on every endpoint; a consumer cannot declare these types. */
export const FRAMEWORK_FRAMES: MessageSchemas = { auth: authFrame, batch: batchFrame };

/** Nesting deeper than any legitimate frame; refused before JSON.parse builds it. */
export const MAX_JSON_DEPTH = 32;

const invalid = (text: string, field?: string) =>
  new WsError(FrameworkErrorCode.INVALID_MESSAGE, text, field === undefined ? {} : { field });

/** Parses once, then validates against the schema named by the frame's `type`. */
export function decodeFrame(data: Buffer, isBinary: boolean, schemas: MessageSchemas): DecodedFrame {
  if (isBinary) {
    return { ok: false, ref: undefined, error: invalid('Binary frames are not supported; send JSON text.') };
  }
  const text = data.toString('utf8');
  // A refused frame still answers its `ref` when one can be read, or its sender waits forever.
  if (exceedsDepth(text, MAX_JSON_DEPTH)) {
    return {
      ok: false,
      ref: scanTopLevelRef(text),
      error: invalid(`JSON nested deeper than ${MAX_JSON_DEPTH} levels.`),
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, ref: scanTopLevelRef(text), error: invalid('Invalid JSON.') };
  }
  // `\ud800` is valid JSON but not text: what would be acked is not what could be stored
  // (UTF-8 storage turns it into U+FFFD). Only an escape can produce one, so most frames skip the walk.
  return decodeValue(value, schemas, LONE_SURROGATE_ESCAPE.test(text));
}

/**
 * Validates one parsed frame against the schema its `type` names: a frame sent alone, or one
 * inside a batch (where `inBatch` refuses a batch in a batch).
 */
export function decodeValue(
  value: unknown,
  schemas: MessageSchemas,
  mayBeIllFormed = true,
  inBatch = false,
): DecodedFrame {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, ref: undefined, error: invalid('A frame must be a JSON object.') };
  }
  const record = value as Record<string, unknown>;
  const ref = validRef(record.ref);
  const illFormed = mayBeIllFormed ? illFormedTextPath(record) : undefined;
  if (illFormed !== undefined) {
    const field = illFormed || undefined;
    return {
      ok: false,
      ref,
      error: invalid('Text must be well-formed Unicode (a lone surrogate was sent).', field),
    };
  }
  if (typeof record.type !== 'string') {
    return { ok: false, ref, error: invalid('Missing or invalid field "type".', 'type') };
  }
  if (inBatch && record.type === 'batch') {
    return { ok: false, ref, error: invalid('A batch cannot hold another batch.', 'type') };
  }
  const schema = Object.hasOwn(FRAMEWORK_FRAMES, record.type)
    ? FRAMEWORK_FRAMES[record.type]
    : Object.hasOwn(schemas, record.type)
      ? schemas[record.type]
      : undefined;
  if (!schema) {
    return { ok: false, ref, error: invalid(`Unknown message type "${record.type.slice(0, 64)}".`, 'type') };
  }
  const parsed = schema.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = [...issue.path, ...keys.slice(0, 1)].join('.');
    const text =
      issue.code === 'unrecognized_keys'
        ? `Unexpected field "${path}".`
        : path
          ? `Invalid field "${path}": ${issue.message}.`
          : issue.message;
    return { ok: false, ref, error: invalid(text, path || undefined) };
  }
  return { ok: true, type: record.type, message: parsed.data, ref };
}

const validRef = (ref: unknown) =>
  typeof ref === 'string' && ref.length > 0 && ref.length <= 64 ? ref : undefined;

const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * The `ref` of a frame that could not be parsed as a whole: the first `"ref": "<string>"` pair
 * directly inside the outermost object, found by one pass that tracks depth and strings.
 */
export function scanTopLevelRef(text: string): string | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */ || c === 91 /* [ */) depth++;
    else if (c === 125 || c === 93) depth--;
    else if (c === 34 /* " */) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      if (depth === 1 && text.slice(i, end + 1) === '"ref"') {
        const value = /^\s*:\s*("(?:[^"\\]|\\.){0,400}")/.exec(text.slice(end + 1, end + 512));
        if (value) {
          try {
            return validRef(JSON.parse(value[1]!));
          } catch {
            return undefined;
          }
        }
      }
      i = end;
    }
  }
  return undefined;
}

/** Index of the quote closing the string that opens at `start`, or -1 when it never closes. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 34) return i;
  }
  return -1;
}

/** Bracket depth outside strings; linear and allocation-free. */
function exceedsDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}
