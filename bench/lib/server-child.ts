/**
 * The child side of `ServerProcess`: a server entry calls `runBenchServer` with a function that
 * starts its server. Options arrive as JSON in BENCH_SERVER_OPTIONS; the parent asks for usage,
 * garbage collection and stop over IPC. The child exits when the parent goes away, so a crashed
 * bench never leaves servers behind.
 */
export interface StartedServer<Info> {
  port: number;
  info: Info;
  close(): Promise<void>;
}

type Request = { id: number; op: 'usage' | 'gc' | 'stop' };

export function benchOptions<T>(): T {
  return JSON.parse(process.env.BENCH_SERVER_OPTIONS ?? '{}') as T;
}

export function runBenchServer<Info>(start: () => Promise<StartedServer<Info>>): void {
  if (!process.send) throw new Error('a bench server runs as a child of the bench (ServerProcess.start)');
  const send = (message: object) => process.send?.(message);
  process.on('disconnect', () => process.exit(0));
  start().then(
    (server) => {
      process.on('message', (request: Request) => {
        void answer(server, request).then(
          (result) => send({ id: request.id, result }),
          (error: unknown) => send({ id: request.id, error: String(error) }),
        );
      });
      send({ op: 'ready', port: server.port, info: server.info });
    },
    (error: unknown) => {
      send({ op: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      process.exit(1);
    },
  );
}

async function answer(server: StartedServer<unknown>, request: Request): Promise<unknown> {
  switch (request.op) {
    case 'usage': {
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      return {
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
      };
    }
    case 'gc': {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) throw new Error('start the server child with --expose-gc');
      // Twice, with a pause between, so that objects freed by finalizers go too.
      gc();
      await new Promise((resolve) => setTimeout(resolve, 50));
      gc();
      return null;
    }
    case 'stop': {
      // Reply first: the parent waits for the exit, not for this answer.
      setImmediate(() => {
        const force = setTimeout(() => process.exit(0), 5000);
        force.unref();
        server.close().finally(() => process.exit(0));
      });
      return null;
    }
  }
}
