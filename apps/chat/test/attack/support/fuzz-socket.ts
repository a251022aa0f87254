/**
 * A socket that sends one frame at a time and waits for that frame's answer (its `ack` or
 * `error`) before sending the next. The protocol handles a connection's frames in arrival order
 * and answers each before the next, so in lockstep every answer belongs to exactly one frame, even
 * an answer without a `ref` - which is what lets the frame fuzzer say which frame went unanswered,
 * was answered twice, or got the wrong ref.
 */
import WebSocket from 'ws';

export type Answer = { type: string; ref?: unknown; code?: unknown; [field: string]: unknown };

export type Outcome =
  | { kind: 'answer'; answer: Answer }
  | { kind: 'closed'; code: number; reason: string }
  | { kind: 'timeout' };

export class FuzzSocket {
  private readonly answers: Answer[] = [];
  private waiter: (() => void) | undefined;
  private closedWith: { code: number; reason: string } | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let frame: Answer;
      try {
        frame = JSON.parse(data.toString()) as Answer;
      } catch {
        frame = { type: 'unparseable', text: data.toString().slice(0, 200) };
      }
      // Broadcasts (chat_message, typing, unread_count, …) are not answers; everything else is.
      if (frame.type === 'ack' || frame.type === 'error' || frame.type === 'unparseable') {
        this.answers.push(frame);
        this.wake();
      }
    });
    socket.on('close', (code, reason) => {
      this.closedWith = { code, reason: reason.toString() };
      this.wake();
    });
    socket.on('pong', () => this.wake());
    socket.on('error', () => {});
  }

  /** Opens `url` and waits for the endpoint's first frame (`welcome`), so frames go to a live consumer. */
  static async open(url: string, welcome: string, timeoutMs = 15_000): Promise<FuzzSocket> {
    const socket = new WebSocket(url);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${welcome} within ${timeoutMs} ms`)), timeoutMs);
      socket.on('message', function first(data) {
        if (String(data).includes(`"type":"${welcome}"`)) {
          clearTimeout(timer);
          socket.off('message', first);
          resolve();
        }
      });
      socket.once('close', (code) => reject(new Error(`closed with ${code} before ${welcome}`)));
      socket.once('error', reject);
    });
    const fuzz = new FuzzSocket(socket);
    await ready;
    return fuzz;
  }

  get closed(): { code: number; reason: string } | undefined {
    return this.closedWith;
  }

  /** Sends `data` and resolves with its answer, the close that came instead, or a timeout. */
  async exchange(data: string | Buffer, binary: boolean, timeoutMs: number): Promise<Outcome> {
    if (this.closedWith) return { kind: 'closed', ...this.closedWith };
    this.socket.send(data, { binary });
    return this.nextAnswer(timeoutMs);
  }

  /** The next answer to frames already sent (a flood), the close, or a timeout. */
  exchangeNone(timeoutMs: number): Promise<Outcome> {
    return this.nextAnswer(timeoutMs);
  }

  /**
   * After a rate-limit refusal the server may close the socket (4429) right behind it: a ping
   * round trip shows whether that close is on its way, before the next frame is sent into it.
   */
  async settle(timeoutMs = 2000): Promise<void> {
    if (this.closedWith) return;
    this.socket.ping();
    await this.wait(timeoutMs);
  }

  /** Answers that arrived although no frame was waiting for one (a second answer to some frame). */
  unexpected(): Answer[] {
    return this.answers.splice(0);
  }

  async close(): Promise<void> {
    if (this.closedWith) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close(1000);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }

  private async nextAnswer(timeoutMs: number): Promise<Outcome> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = this.answers.shift();
      if (answer) return { kind: 'answer', answer };
      if (this.closedWith) return { kind: 'closed', ...this.closedWith };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timeout' };
      await this.wait(left);
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.waiter === done) self.waiter = undefined;
        resolve();
      }
      this.waiter = done;
    });
  }

  private wake(): void {
    this.waiter?.();
  }
}
