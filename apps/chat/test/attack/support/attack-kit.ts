/**
 * What the attack suites share: a real chat server process to attack (restarted if an attack
 * killed it), the liveness check every case ends with, a seeded PRNG so any failing run can be
 * replayed with FUZZ_SEED, forged tokens, the documented error codes, and a tally of what was tried.
 */
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { ChatApi } from '../../support/chat-api.ts';
import { TEST_JWT_SECRET, tempDataDir } from '../../support/chat-fixture.ts';
import { ChatProcess } from '../../support/chat-process.ts';

// --- the target -------------------------------------------------------------------------------

/** A chat server process on port 0 with its own data directory. */
export class Target {
  readonly api: ChatApi;
  readonly port: number;

  private constructor(
    readonly proc: ChatProcess,
    readonly url: string,
    readonly dataDir: string,
  ) {
    this.api = new ChatApi(url);
    this.port = Number(new URL(url).port);
  }

  static async start(env: Record<string, string> = {}) {
    const dataDir = tempDataDir();
    const { proc, url } = await ChatProcess.start(dataDir, env);
    return new Target(proc, url, dataDir);
  }

  get wsBase(): string {
    return this.url.replace(/^http/, 'ws');
  }

  /** Null while the process runs; how it ended otherwise. */
  async exit(): Promise<{ code: number | null; signal: string | null } | null> {
    const running = Symbol('running');
    const result = await Promise.race([this.proc.exited, Promise.resolve(running)]);
    return result === running ? null : (result as { code: number | null; signal: string | null });
  }

  /**
   * Throws unless the process is still running and /healthz answers 200 within 5 s: what
   * every attack case must leave behind. `after` names the case in the failure message.
   */
  async assertAlive(after: string): Promise<void> {
    const exit = await this.exit();
    if (exit) {
      throw new Error(
        `the server process exited (${JSON.stringify(exit)}) after ${after}\n${this.proc.stderr.slice(-2000)}${this.proc.stdout.slice(-2000)}`,
      );
    }
    let status: number | string;
    try {
      status = (await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(5000) })).status;
    } catch (error) {
      status = String(error);
    }
    if (status !== 200) throw new Error(`/healthz answered ${status} after ${after}`);
  }

  /** Log lines the server wrote at level error (50) or above: an unexpected failure somewhere. */
  errorLog(): string[] {
    return this.proc.stdout
      .split('\n')
      .filter((line) => /"level":(5|6)\d/.test(line))
      .map((line) => line.slice(0, 3000));
  }

  async stop(): Promise<void> {
    if (!(await this.exit())) await this.proc.stop('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// --- replayable randomness --------------------------------------------------------------------

/**
 * The seed of this run: FUZZ_SEED replays a failing run, otherwise a fresh one. Printed up front
 * and put in every failure message, so a red CI run can be reproduced exactly.
 */
export function fuzzSeed(suite: string): number {
  const given = process.env.FUZZ_SEED;
  const seed = given ? Number(given) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  console.log(`attack[${suite}]: FUZZ_SEED=${seed}${given ? ' (from the environment)' : ''}`);
  return seed;
}

/** A small, fast, seedable PRNG (mulberry32): the same seed yields the same attack. */
export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** `length` characters drawn from `alphabet`. */
  string(length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }
}

// --- credentials an attacker can make ---------------------------------------------------------

const SECRET = new TextEncoder().encode(TEST_JWT_SECRET);
const OTHER_SECRET = new TextEncoder().encode('not-the-server-secret-'.padEnd(48, 'z'));

/** Tokens that must never authenticate, each named by what is wrong with it. */
export async function forgedTokens(user: { id: number; username: string }): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: String(user.id), username: user.username, typ: 'access' };
  const sign = (payload: object, key = SECRET, alg = 'HS256') =>
    new SignJWT({ ...payload }).setProtectedHeader({ alg }).sign(key);
  const unsigned = (payload: object) =>
    `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
  return {
    expired: await sign({ ...claims, iat: now - 3600, exp: now - 60 }),
    'alg none': unsigned({ ...claims, iat: now, exp: now + 600 }),
    'wrong secret': await sign({ ...claims, iat: now, exp: now + 600 }, OTHER_SECRET),
    'HS512 instead of HS256': await sign({ ...claims, iat: now, exp: now + 600 }, SECRET, 'HS512'),
    'refresh token': await sign({ ...claims, typ: 'refresh', iat: now, exp: now + 600 }),
    'no exp': await sign({ ...claims, iat: now }),
    'sub not a number': await sign({ ...claims, sub: 'admin', iat: now, exp: now + 600 }),
    garbage: 'not.a.jwt',
    'huge, wrong secret': await sign(
      { ...claims, pad: 'x'.repeat(6000), iat: now, exp: now + 600 },
      OTHER_SECRET,
    ),
  };
}

// --- the documented error codes ---------------------------------------------------------------

const PROTOCOL_DOC = fileURLToPath(new URL('../../../../../docs/protocol.md', import.meta.url));

/** The codes of docs/protocol.md's "Error codes" table: the only codes a client may ever see. */
export const DOCUMENTED_CODES: ReadonlySet<string> = (() => {
  const doc = readFileSync(PROTOCOL_DOC, 'utf8');
  const section = doc.split('### Error codes')[1]?.split('\n### ')[0] ?? '';
  const codes = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!);
  if (codes.length < 6) throw new Error('could not read the error-code table of docs/protocol.md');
  return new Set(codes);
})();

/**
 * Documented, but never a correct answer to an attack on a healthy server: INTERNAL_ERROR is a
 * bug by definition, and SERVICE_UNAVAILABLE means the (healthy) database was reported down.
 */
export const NEVER_WHILE_HEALTHY: ReadonlySet<string> = new Set(['INTERNAL_ERROR', 'SERVICE_UNAVAILABLE']);

export function isAcceptableCode(code: unknown): boolean {
  return typeof code === 'string' && DOCUMENTED_CODES.has(code) && !NEVER_WHILE_HEALTHY.has(code);
}

// --- counting what was tried ------------------------------------------------------------------

/** Counts per class, printed at the end of a suite as `attack[suite]: N total (a 12, b 40, …)`. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(kind: string, n = 1): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  get(kind: string): number {
    return this.counts.get(kind) ?? 0;
  }

  print(suite: string, unit: string): void {
    const parts = [...this.counts].map(([kind, n]) => `${kind} ${n}`).join(', ');
    console.log(`attack[${suite}]: ${this.total} ${unit} (${parts})`);
  }
}

/** Rejects after `ms` with `what` in the message; the timer never keeps the process alive. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
