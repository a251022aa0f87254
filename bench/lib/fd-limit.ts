/**
 * The idle-connections case holds 10,000 client sockets in the bench process. Node cannot raise
 * its own file-descriptor limit, so when the soft limit is too low (and the hard one allows more)
 * the bench re-runs itself under `ulimit -n <hard limit>`.
 */
import { execFileSync, spawn } from 'node:child_process';

const RELAUNCHED = 'BENCH_FD_LIMIT_RAISED';

function limits(): { soft: number; hard: number } {
  const [soft, hard] = execFileSync('bash', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => (line === 'unlimited' ? Number.POSITIVE_INFINITY : Number(line)));
  return { soft: soft!, hard: hard! };
}

/**
 * Resolves to true when this process may go on, or to false after it has run the bench again
 * in a child with a raised limit (the caller then exits with `process.exitCode`).
 */
export async function ensureFileDescriptors(needed: number): Promise<boolean> {
  const { soft, hard } = limits();
  if (soft >= needed || hard <= soft || process.env[RELAUNCHED]) {
    if (soft < needed)
      console.error(`[bench] warning: ulimit -n is ${soft}; cases with many sockets may fail`);
    return true;
  }
  const child = spawn(
    'bash',
    [
      '-c',
      'ulimit -n "$(ulimit -Hn)" && exec "$@"',
      'bash',
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit', env: { ...process.env, [RELAUNCHED]: '1' } },
  );
  process.exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  return false;
}
