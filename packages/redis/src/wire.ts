import type { LayerMessage } from '@switchboard/server';

/**
 * How one layer message travels through Redis pub/sub: `<origin node> <target> <json>`, the
 * target being the channel (for inbox messages) or the group. Node prefixes and names never
 * contain spaces (assertValidName), so a node reads the header without parsing the JSON: it can
 * skip its own broadcasts and decodes every body it keeps exactly once.
 */
export interface Envelope {
  target: string;
  message: LayerMessage;
}

export function encodeEnvelope(origin: string, target: string, message: LayerMessage): string {
  return `${origin} ${target} ${JSON.stringify(message)}`;
}

export function isFrom(payload: string, origin: string): boolean {
  return payload.length > origin.length && payload.startsWith(origin) && payload[origin.length] === ' ';
}

/** Throws on anything this package did not write: the caller reports it and drops the payload. */
export function decodeEnvelope(payload: string): Envelope {
  const first = payload.indexOf(' ');
  const second = first < 0 ? -1 : payload.indexOf(' ', first + 1);
  const message = second < 0 ? undefined : parseJson(payload.slice(second + 1));
  if (message === undefined) throw new Error(`malformed layer payload: ${payload.slice(0, 80)}`);
  if (typeof message !== 'object' || message === null || typeof (message as LayerMessage).type !== 'string') {
    throw new Error(`layer payload without a message type: ${payload.slice(0, 80)}`);
  }
  return {
    target: payload.slice(first + 1, second),
    message: message as LayerMessage,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
