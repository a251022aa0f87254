/**
 * One raw exchange over TCP (node:net), for requests no HTTP client would send: the bytes go out
 * exactly as given, and the answer is read as an HTTP response or, after a 101, as the server's
 * WebSocket frames up to its close frame. Nothing here retries or repairs anything.
 */
import { connect } from 'node:net';

export interface WsFrame {
  opcode: number;
  payload: Buffer;
}

export type RawAnswer =
  /** A plain HTTP answer (a refused upgrade, or a request that never was one). */
  | { kind: 'http'; status: number; headers: Record<string, string>; body: string }
  /** 101, then every frame the server sent; `close` is its close frame's code (undefined: none came). */
  | { kind: 'websocket'; headers: Record<string, string>; frames: WsFrame[]; close: number | undefined }
  /** The connection closed before a status line came. */
  | { kind: 'closed'; received: string }
  /** Nothing conclusive within the time limit: the failure every case guards against. */
  | { kind: 'timeout'; received: string };

export interface ExchangeOptions {
  timeoutMs?: number;
  /** After a 101, stop once this says the frames so far are enough (an accepted socket sends no close). */
  enough?: (frames: WsFrame[]) => boolean;
}

export function rawExchange(port: number, request: Buffer | string, options: ExchangeOptions = {}) {
  const { timeoutMs = 5000, enough = () => false } = options;
  return new Promise<RawAnswer>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const timer = setTimeout(() => finish({ kind: 'timeout', received: preview(received) }), timeoutMs);

    function finish(answer: RawAnswer) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    }

    function evaluate(ended: boolean) {
      const head = received.indexOf('\r\n\r\n');
      if (head < 0) {
        if (ended) finish({ kind: 'closed', received: preview(received) });
        return;
      }
      const [statusLine = '', ...lines] = received.subarray(0, head).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? Number.NaN);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = received.subarray(head + 4);
      if (status === 101) {
        const { frames, close } = parseFrames(rest);
        if (close !== undefined || ended || enough(frames)) {
          finish({ kind: 'websocket', headers, frames, close });
        }
        return;
      }
      const length = Number(headers['content-length'] ?? Number.NaN);
      const chunked = /chunked/i.test(headers['transfer-encoding'] ?? '');
      const complete = Number.isFinite(length)
        ? rest.length >= length
        : chunked
          ? rest.includes('0\r\n\r\n')
          : ended;
      if (complete || ended) {
        const body = rest.subarray(0, Number.isFinite(length) ? length : undefined).toString('utf8');
        finish({ kind: 'http', status, headers, body });
      }
    }

    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      evaluate(false);
    });
    socket.on('end', () => evaluate(true));
    socket.on('close', () => evaluate(true));
    socket.on('error', () => evaluate(true));
    socket.write(request);
  });
}

/** Server-to-client frames (unmasked), as far as they have arrived; stops at the close frame. */
function parseFrames(data: Buffer): { frames: WsFrame[]; close: number | undefined } {
  const frames: WsFrame[] = [];
  let at = 0;
  while (at + 2 <= data.length) {
    const opcode = data[at]! & 0x0f;
    let length = data[at + 1]! & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (offset + 2 > data.length) break;
      length = data.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (offset + 8 > data.length) break;
      length = Number(data.readBigUInt64BE(offset));
      offset += 8;
    }
    if (offset + length > data.length) break;
    const payload = data.subarray(offset, offset + length);
    at = offset + length;
    if (opcode === 0x8) return { frames, close: payload.length >= 2 ? payload.readUInt16BE(0) : 1005 };
    frames.push({ opcode, payload });
  }
  return { frames, close: undefined };
}

function preview(data: Buffer): string {
  return JSON.stringify(data.subarray(0, 200).toString('latin1'));
}

/** A well-formed upgrade request; `headers` are appended as given (names and values untouched). */
export function upgradeRequest(
  target: string,
  headers: [string, string][],
  { method = 'GET', version = 'HTTP/1.1', body = '' } = {},
): string {
  const lines = [`${method} ${target} ${version}`, ...headers.map(([name, value]) => `${name}: ${value}`)];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** The headers of a valid RFC 6455 handshake to `port`. */
export function handshakeHeaders(port: number): [string, string][] {
  return [
    ['Host', `127.0.0.1:${port}`],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
    ['Sec-WebSocket-Version', '13'],
  ];
}
