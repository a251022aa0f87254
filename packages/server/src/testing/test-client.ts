/**
 * A WebSocket client for tests, in the spirit of Django Channels' WebsocketCommunicator: it
 * records every frame and lets a test wait for the next one that matches, with a timeout.
 */
import WebSocket from 'ws';

export type Frame = { type: string; [field: string]: unknown };

export interface TestClientOptions {
  headers?: Record<string, string>;
  protocols?: string[];
  /** Milliseconds `next`/`closed` wait before failing. */
  timeoutMs?: number;
}

export interface Closed {
  code: number;
  reason: string;
}

export class TestClient {
  /** Every frame received so far, in order (non-JSON text is kept under type "raw"). */
  readonly frames: Frame[] = [];
  /** Received frames that no `next` call has taken yet. */
  private readonly pending: Frame[] = [];
  private waiters: (() => void)[] = [];
  private closedWith: Closed | undefined;
  private readonly closedPromise: Promise<Closed>;

  private constructor(
    readonly socket: WebSocket,
    private readonly timeoutMs: number,
  ) {
    socket.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      let frame: Frame;
      try {
        frame = JSON.parse(text) as Frame;
      } catch {
        frame = { type: 'raw', text };
      }
      this.frames.push(frame);
      this.pending.push(frame);
      this.wake();
    });
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString() };
        resolve(this.closedWith);
        this.wake();
      });
    });
    socket.on('error', () => {});
  }

  static async connect(url: string, options: TestClientOptions = {}): Promise<TestClient> {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
    const client = new TestClient(socket, options.timeoutMs ?? 3000);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends a frame with a fresh `ref` and resolves with its `ack` or `error` reply. */
  async request(frame: Record<string, unknown>): Promise<Frame> {
    const ref = `r${Math.random().toString(36).slice(2)}`;
    this.send({ ...frame, ref });
    return this.next((f) => f.ref === ref && (f.type === 'ack' || f.type === 'error'));
  }

  /** The next frame not yet consumed that matches (by type or predicate); frames skipped stay available. */
  async next(match?: string | ((frame: Frame) => boolean), timeoutMs = this.timeoutMs): Promise<Frame> {
    const test = typeof match === 'string' ? (f: Frame) => f.type === match : (match ?? (() => true));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.pending.findIndex(test);
      if (at >= 0) return this.pending.splice(at, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0 || this.closedWith) {
        throw new Error(
          `no matching frame within ${timeoutMs} ms${this.closedWith ? ` (closed ${this.closedWith.code})` : ''}; unread: ${JSON.stringify(this.pending).slice(0, 500)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Frames received and not yet taken by `next`. */
  unread(): Frame[] {
    return [...this.pending];
  }

  /** Resolves with the close code and reason, or fails after the timeout. */
  async closed(timeoutMs = this.timeoutMs): Promise<Closed> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closedPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  async close(code = 1000): Promise<Closed> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(code);
    }
    return this.closed();
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
