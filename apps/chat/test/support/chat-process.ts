/**
 * The chat server as a real process (`node --import tsx apps/chat/src/main.ts`), the way
 * `npm start` runs it: for tests of restarts, signals and start-up failures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testEnv } from './chat-fixture.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
/** The log line main.ts writes once it accepts connections. */
const LISTENING = 'switchboard chat server listening';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ChatProcess {
  private static readonly running = new Set<ChatProcess>();
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        ChatProcess.running.delete(this);
        resolve({ code, signal });
      });
    });
    ChatProcess.running.add(this);
  }

  /** Spawns main.ts with the test environment plus `env`; does not wait for it to listen. */
  static spawn(dataDir: string, env: Record<string, string> = {}): ChatProcess {
    const inherited = { ...process.env };
    // The embedded defaults are under test: never pick up a developer's services.
    delete inherited.DATABASE_URL;
    delete inherited.REDIS_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: REPO_ROOT,
      env: { ...inherited, ...testEnv(dataDir, { LOG_LEVEL: 'info', ...env }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ChatProcess(child);
  }

  /** Spawns main.ts and resolves with it and its base URL once it is listening. */
  static async start(
    dataDir: string,
    env: Record<string, string> = {},
  ): Promise<{ proc: ChatProcess; url: string }> {
    const proc = ChatProcess.spawn(dataDir, env);
    const url = await proc.listening();
    return { proc, url };
  }

  /** Sends `signal` and resolves with how the process ended. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    this.child.kill(signal);
    return this.exited;
  }

  /** Kills whatever a failed test left running. */
  static async killAll(): Promise<void> {
    await Promise.all([...ChatProcess.running].map((proc) => proc.stop('SIGKILL')));
  }

  private listening(timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`server did not start within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onData = () => {
        for (const line of this.stdout.split('\n')) {
          if (!line.includes(LISTENING)) continue;
          const { url } = JSON.parse(line) as { url: string };
          done(undefined, url);
          return;
        }
      };
      const onExit = () => done(new Error(`server exited during start-up:\n${this.stderr}${this.stdout}`));
      const done = (error?: Error, url?: string) => {
        clearTimeout(timer);
        this.child.stdout?.off('data', onData);
        this.child.off('exit', onExit);
        if (error) reject(error);
        else resolve(url!);
      };
      this.child.stdout?.on('data', onData);
      this.child.once('exit', onExit);
    });
  }
}
