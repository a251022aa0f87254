/**
 * The real chat server as a child process (`node --import tsx apps/chat/src/main.ts`) on a fixed
 * port and data directory, so a test can kill it and start it again in place, exactly as an
 * operator restarting the service would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

export interface ChatProcess {
  /** `http://127.0.0.1:port` */
  readonly url: string;
  readonly port: number;
  readonly jwtSecret: string;
  /** (Re)starts the process on the same port and data directory; resolves once /healthz answers. */
  start(): Promise<void>;
  readonly running: boolean;
  /** SIGTERM: graceful shutdown (sockets closed with 1001). SIGKILL: the process just dies. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Stops the process and deletes the data directory. */
  dispose(): Promise<void>;
}

export async function startChatProcess(env: Record<string, string> = {}): Promise<ChatProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-chat-process-'));
  const jwtSecret = randomBytes(32).toString('base64url');
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };

  const start = async () => {
    await stop();
    const output: string[] = [];
    const started = spawn(process.execPath, ['--import', 'tsx', 'apps/chat/src/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        JWT_SECRET: jwtSecret,
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    for (const stream of [started.stdout, started.stderr]) {
      stream?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    }
    await waitUntilHealthy(url, started, output);
  };

  await start();
  return {
    url,
    port,
    jwtSecret,
    start,
    stop,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async dispose() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitUntilHealthy(url: string, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`The chat server exited with ${child.exitCode}:\n${output.join('')}`);
    }
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(
    `The chat server did not become healthy within ${READY_TIMEOUT_MS} ms:\n${output.join('')}`,
  );
}

/** A port nobody listens on right now (the OS picks it; the server binds it right after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
