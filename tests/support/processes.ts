import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * The environment of a child that must behave as outside this repository: no tsx loader from
 * NODE_OPTIONS and no variables of the vitest run around it (a nested vitest would pick them up).
 */
export function outsideEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key.startsWith('VITEST') || key.startsWith('TINYPOOL')) continue;
    if (key === 'NODE_ENV' || key === 'TEST') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to completion; on failure the error names it and carries its output. */
export async function run(command: string, args: string[], cwd: string, env = outsideEnv()) {
  try {
    return await execFileAsync(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`);
  }
}

export interface Started {
  child: ChildProcess;
  /** The readiness line: parsed as JSON, or (with a `readyLine` pattern) its match groups. */
  ready: Record<string, unknown>;
  output(): string;
  stop(): Promise<number | null>;
}

/**
 * Starts a long-running Node process and waits for its readiness line on stdout: a JSON line such
 * as `{"port":1234}`, or the first match of `readyLine` (its named groups become `ready`). Rejects
 * with the output if the process exits or stays silent.
 */
export async function startNode(
  args: string[],
  cwd: string,
  env = outsideEnv(),
  { readyLine, timeoutMs = 20_000 }: { readyLine?: RegExp; timeoutMs?: number } = {},
) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr.on('data', (chunk) => {
    out += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no readiness line from ${args.join(' ')}:\n${out}`)),
      timeoutMs,
    );
    const onData = () => {
      let ready: Record<string, unknown> | undefined;
      if (readyLine) {
        ready = readyLine.exec(out)?.groups;
      } else {
        const line = out.split('\n').find((l) => l.startsWith('{'));
        ready = line ? JSON.parse(line) : undefined;
      }
      if (!ready) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve(ready);
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code} before it was ready:\n${out}`));
    });
  });
  return {
    child,
    ready,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  } satisfies Started;
}
