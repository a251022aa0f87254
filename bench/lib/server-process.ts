/**
 * A benchmarked server in its own child process, so that its CPU time can be measured apart from
 * the load generator's and the two never share an event loop. The child runs one of
 * `bench/lib/servers/*.ts` (see `server-child.ts`) and answers usage questions over IPC.
 *
 * Set BENCH_CPU_PROF=1 to write a V8 CPU profile of every server child to bench/results/profiles/
 * (read them with `bench/lib/cpu-profile-top.ts`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface ServerUsage {
  /** User + system CPU time since the child started, all threads. */
  cpuSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
}

type Request = { id: number; op: 'usage' | 'gc' | 'stop' };
type Reply = { id: number; result?: unknown; error?: string };
type Ready = { op: 'ready'; port: number; info: unknown };
type Failed = { op: 'failed'; error: string };

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export class ServerProcess<Info = unknown> {
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly exited: Promise<unknown>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly info: Info,
  ) {
    this.exited = once(child, 'exit');
    child.on('message', (message: Reply) => {
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      if (message.error) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
    child.on('exit', (code, signal) => {
      for (const waiter of this.waiting.values())
        waiter.reject(new Error(`server child exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  /**
   * Starts `bench/lib/servers/<entry>.ts` with `options` and waits until it listens. The child's
   * file-descriptor limit is raised to the hard limit, for the many-connection cases.
   */
  static async start<Info>(entry: string, options: object = {}): Promise<ServerProcess<Info>> {
    const script = fileURLToPath(new URL(`./servers/${entry}.ts`, import.meta.url));
    const nodeArgs = ['--import', 'tsx', '--expose-gc'];
    if (process.env.BENCH_CPU_PROF) {
      // One directory per child: tsx's loader thread writes a profile of its own beside the main one.
      const dir = new URL(`../results/profiles/${entry}-${Date.now()}/`, import.meta.url);
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${fileURLToPath(dir)}`);
    }
    const child = spawn(
      'bash',
      [
        '-c',
        'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
        'bash',
        process.execPath,
        ...nodeArgs,
        script,
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, BENCH_SERVER_OPTIONS: JSON.stringify(options) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const started = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${entry} did not start within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      child.on('message', (message: Ready | Failed) => {
        if (message.op === 'ready') {
          clearTimeout(timer);
          resolve(message);
        } else if (message.op === 'failed') {
          clearTimeout(timer);
          reject(new Error(`${entry} failed to start: ${message.error}`));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${entry} exited with ${code} before listening`));
      });
    });
    return new ServerProcess<Info>(child, started.port, started.info as Info);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  usage(): Promise<ServerUsage> {
    return this.request('usage') as Promise<ServerUsage>;
  }

  /** Runs a full garbage collection in the child (it starts with --expose-gc). */
  async collectGarbage(): Promise<void> {
    await this.request('gc');
  }

  /** Asks the child to close its server and exit; kills it if it does not within 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    this.request('stop').catch(() => {});
    await this.exited;
    clearTimeout(timer);
  }

  private request(op: Request['op']): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, op } satisfies Request);
    });
  }
}

/** CPU seconds the server spent while `work` ran, and the wall-clock seconds it took. */
export async function measureServerCpu<T>(
  server: ServerProcess<unknown>,
  work: () => Promise<T>,
): Promise<{ result: T; cpuSeconds: number; wallSeconds: number }> {
  const before = await server.usage();
  const started = performance.now();
  const result = await work();
  const wallSeconds = (performance.now() - started) / 1000;
  const after = await server.usage();
  return { result, cpuSeconds: after.cpuSeconds - before.cpuSeconds, wallSeconds };
}
