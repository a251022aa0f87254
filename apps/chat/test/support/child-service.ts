/**
 * A service run as a child process (a chat node, a redis-server) that counts as started once a
 * line of its standard output says so. Keeps its most recent output lines for assertions about
 * what it logged, and can be killed the hard way, as a crash would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** Output lines kept per service: enough for a test to find a log line, bounded for a long bench. */
const KEPT_LINES = 2000;

export interface ChildServiceOptions<T> {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Looks at each output line; the first non-undefined result means "started" and is returned. */
  ready: (line: string) => T | undefined;
  /** Names the service in errors. */
  name: string;
  timeoutMs?: number;
}

export class ChildService {
  /** Recent lines of standard output and standard error, oldest first. */
  readonly lines: string[] = [];
  private readonly watchers = new Set<(line: string) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly name: string,
  ) {
    const keep = (line: string) => {
      this.lines.push(line);
      if (this.lines.length > KEPT_LINES) this.lines.splice(0, this.lines.length - KEPT_LINES);
      for (const watch of this.watchers) watch(line);
    };
    createInterface({ input: child.stdout! }).on('line', keep);
    createInterface({ input: child.stderr! }).on('line', keep);
  }

  /** Spawns the command and resolves with the service and what `ready` found, or fails with its output. */
  static async start<T>(options: ChildServiceOptions<T>): Promise<{ service: ChildService; ready: T }> {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ChildService(child, options.name);
    const timeoutMs = options.timeoutMs ?? 30_000;
    const ready = await new Promise<T>((resolve, reject) => {
      const fail = (why: string) => {
        cleanup();
        child.kill('SIGKILL');
        reject(new Error(`${options.name} ${why}:\n${service.lines.slice(-30).join('\n')}`));
      };
      const timer = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs);
      const onExit = (code: number | null, signal: string | null) => fail(`exited (${code ?? signal})`);
      const watch = (line: string) => {
        const found = options.ready(line);
        if (found === undefined) return;
        cleanup();
        resolve(found);
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off('exit', onExit);
        service.watchers.delete(watch);
      };
      child.once('exit', onExit);
      service.watchers.add(watch);
    });
    return { service, ready };
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first output line (already seen or future) that `test` accepts. */
  async waitForLine(test: (line: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return seen;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watchers.delete(watch);
        reject(new Error(`${this.name}: no matching output line within ${timeoutMs} ms`));
      }, timeoutMs);
      const watch = (line: string) => {
        if (!test(line)) return;
        clearTimeout(timer);
        this.watchers.delete(watch);
        resolve(line);
      };
      this.watchers.add(watch);
    });
  }

  /** Sends `signal` (SIGKILL: no clean-up at all) and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    await exited;
  }
}
